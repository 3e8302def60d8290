"""Client authentication inside a flow's transaction (RFC 6749 §2.3, RFC 7523 §3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from authgate.core import client_auth, jose
from authgate.core.client_auth import ClientCredentials
from authgate.core.errors import InvalidClientError
from authgate.core.models import Client
from authgate.core.types import ClientAuthMethod, ClientId
from authgate.flows.client_keys import JwksNeeded
from authgate.flows.context import Context
from authgate.flows.outcomes import RaiseAfterCommit
from authgate.store.base import StoreTx

T = TypeVar("T")


async def authenticate_client(
    tx: StoreTx, ctx: Context, creds: ClientCredentials, *, now: datetime
) -> Client:
    """The authenticated, non-retired client; raises InvalidClientError (401)."""
    if not creds.client_id:
        raise InvalidClientError("client authentication required")
    client = await tx.find_client(ClientId(creds.client_id))
    if creds.method is ClientAuthMethod.PRIVATE_KEY_JWT:
        if client is None:
            raise InvalidClientError("unknown client or bad credentials")
        assert creds.assertion is not None  # noqa: S101
        try:
            kid = jose.unverified_header(creds.assertion).get("kid")
        except jose.JoseVerificationError:
            raise InvalidClientError("client_assertion is not a JWS") from None
        if client.auth_method is not ClientAuthMethod.PRIVATE_KEY_JWT:
            raise InvalidClientError(f"this client authenticates with {client.auth_method.value}")
        keys = ctx.client_keys.key_set(client, kid=kid if isinstance(kid, str) else None)
        verified = client_auth.validate_assertion(
            client, creds, keys, audiences=(ctx.issuer, ctx.token_endpoint), now=now
        )
        if not await tx.record_jti(
            client.client_id, verified.jti, now=now, expires_at=verified.expires_at
        ):
            # RFC 7523 §3 item 7: a jti may be used only once.
            raise InvalidClientError("client_assertion jti was already used")
    else:
        client = client_auth.validate_secret(client, creds)
    if client.is_retired:
        raise InvalidClientError("this client has been retired by the operator")
    return client


async def with_authenticated_client(
    ctx: Context,
    creds: ClientCredentials,
    work: Callable[[StoreTx, Client], Awaitable[T]],
    *,
    now: datetime,
    readonly: bool = False,
    single_write: bool = False,
) -> T:
    """Run `work` in one transaction after authenticating the client in it (a read-only one
    when `work` only reads: it does not queue behind writers; a single-write one when it
    changes rows in one statement, its last: see Store.transaction).

    A private_key_jwt assertion is verified and its jti spent in a transaction of its own
    first, so an assertion is used up even when the request then fails (RFC 7523 §3 item 7).
    `work` may raise RaiseAfterCommit: its writes are committed, then its `after_commit`
    runs and the error is raised.
    """
    if creds.method is ClientAuthMethod.PRIVATE_KEY_JWT:
        await _spend_assertion(ctx, creds, now)
        authenticate = _still_active
    else:
        authenticate = authenticate_client
    deferred: RaiseAfterCommit | None = None
    async with ctx.store.transaction(readonly=readonly, single_write=single_write) as tx:
        client = await authenticate(tx, ctx, creds, now=now)
        try:
            result = await work(tx, client)
        except RaiseAfterCommit as error:
            deferred = error
    if deferred is not None:
        if deferred.after_commit is not None:
            deferred.after_commit()
        raise deferred.error
    return result


async def _spend_assertion(ctx: Context, creds: ClientCredentials, now: datetime) -> None:
    """Verify a client assertion and record its jti. A client key set that must be fetched
    is fetched outside the transaction, then the check is run again.
    """
    for _ in range(2):
        try:
            async with ctx.store.transaction() as tx:
                await authenticate_client(tx, ctx, creds, now=now)
            return
        except JwksNeeded as need:
            await ctx.client_keys.refresh(need.uri)
    raise InvalidClientError("the client's keys do not verify its assertion")


async def _still_active(
    tx: StoreTx, ctx: Context, creds: ClientCredentials, *, now: datetime
) -> Client:
    """The client whose assertion was verified a moment ago, if it is still not retired."""
    client = await tx.find_client(ClientId(creds.client_id or ""))
    if client is None or client.is_retired:
        raise InvalidClientError("this client has been retired by the operator")
    return client
