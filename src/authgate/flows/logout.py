"""OpenID Connect RP-Initiated Logout 1.0 §2–§3: the end_session_endpoint.

`id_token_hint` (an ID token this server issued, expired or not) and `client_id` identify
the client; `post_logout_redirect_uri` must be one of that client's registered URIs, by
exact string match, or the user stays on authgate's page (§3: the OP "MUST NOT perform
post-logout redirection" to an unregistered URI). Logging out ends every session of this
browser (all its signed-in accounts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from authgate.core.errors import InvalidRequestError
from authgate.core.id_token import parse_hint
from authgate.core.models import Client
from authgate.core.params import Params
from authgate.core.types import ClientId
from authgate.flows import sessions
from authgate.flows.context import Context


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    client: Client | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None

    @property
    def redirect(self) -> str | None:
        return self.post_logout_redirect_uri


async def validate(ctx: Context, params: Params, *, now: datetime) -> LogoutRequest:
    """The checked logout request; an error page for anything that cannot be trusted."""
    hint = None
    if (token := params.get("id_token_hint")) is not None:
        hint = parse_hint(await ctx.keys.ring(now), token, issuer=ctx.issuer)
    client_id = params.get("client_id")
    if hint is not None and client_id is not None and client_id not in hint.audience:
        raise InvalidRequestError("client_id is not an audience of id_token_hint")
    if client_id is None and hint is not None:
        client_id = hint.audience[0]
    client = None
    if client_id is not None:
        async with ctx.store.transaction(readonly=True) as tx:
            client = await tx.find_client(ClientId(client_id))
        if client is None:
            raise InvalidRequestError("unknown client_id")
    uri = params.get("post_logout_redirect_uri")
    if uri is not None:
        if client is None:
            raise InvalidRequestError("post_logout_redirect_uri needs id_token_hint or client_id")
        if uri not in client.post_logout_redirect_uris:
            raise InvalidRequestError("post_logout_redirect_uri is not registered for the client")
    return LogoutRequest(client, uri, params.get("state") if uri is not None else None)


async def signed_in(ctx: Context, cookie_secrets: Sequence[str], *, now: datetime) -> bool:
    """Whether this browser holds a live session (else there is nothing to confirm)."""
    async with ctx.store.transaction(readonly=True) as tx:
        return bool(await sessions.signed_in(tx, cookie_secrets, now=now))


async def end_session(ctx: Context, cookie_secrets: Sequence[str], *, now: datetime) -> int:
    async with ctx.store.transaction() as tx:
        return await sessions.end_all(tx, cookie_secrets, now=now)
