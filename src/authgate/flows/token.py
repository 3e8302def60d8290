"""The token endpoint's use case (RFC 6749 §3.2): pick the grant, authenticate, exchange."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from authgate.core.client_auth import ClientCredentials
from authgate.core.errors import TooManyRequestsError
from authgate.core.models import Client
from authgate.core.params import Params
from authgate.core.token_request import TokenResponse, parse_grant_type
from authgate.core.types import GrantType
from authgate.flows import authorization_code, client_credentials, device, refresh_token
from authgate.flows.client_auth import with_authenticated_client
from authgate.flows.context import Context
from authgate.flows.token_rate_limit import count_token_request
from authgate.store.base import StoreTx

# A grant's exchange runs inside the request's transaction. An error whose state changes
# must persist (slow_down, reuse revocation) is raised as RaiseAfterCommit (flows/outcomes.py).
_Exchange = Callable[..., Awaitable[TokenResponse]]

_HANDLERS: dict[GrantType, _Exchange] = {
    GrantType.AUTHORIZATION_CODE: authorization_code.exchange,
    GrantType.CLIENT_CREDENTIALS: client_credentials.exchange,
    GrantType.REFRESH_TOKEN: refresh_token.exchange,
    GrantType.DEVICE_CODE: device.exchange,
}
SUPPORTED_GRANTS = frozenset(_HANDLERS)


async def token(
    ctx: Context, creds: ClientCredentials, params: Params, *, now: datetime
) -> TokenResponse:
    """One token request in one transaction; raises the OAuthError the client should see."""
    grant = parse_grant_type(params.require("grant_type"), SUPPORTED_GRANTS)
    exchange = _HANDLERS[grant]
    # The signing keys are loaded before the transaction, for this `now`: a key cache miss
    # inside it would wait for a second pooled connection while holding row locks (a code,
    # a device code), and under load every connection can be held by requests waiting for
    # those locks (REL-04: 20 pollers of one device code stalled until the pool timeout).
    await ctx.keys.ring(now)

    async def work(tx: StoreTx, client: Client) -> TokenResponse:
        ctx.metrics.client_authenticated(client.client_id)
        await count_token_request(tx, ctx, client, now=now)
        return await exchange(tx, ctx, client, params, now=now)

    # client_credentials reads the client (and a resource) and inserts the token: one write,
    # unless the token rate limit counts the request in the same transaction.
    single_write = (
        grant is GrantType.CLIENT_CREDENTIALS and ctx.settings.token_rate_limit_per_minute <= 0
    )
    try:
        body = await with_authenticated_client(ctx, creds, work, now=now, single_write=single_write)
    except TooManyRequestsError:
        ctx.metrics.rate_limit_hit("token")
        raise
    _count_issued(ctx, grant, body)
    return body


def _count_issued(ctx: Context, grant: GrantType, body: TokenResponse) -> None:
    """Metrics of what the committed exchange issued (RFC 9068 JWTs have two dots; opaque
    tokens are base64url and have none).
    """
    access = str(body.get("access_token", ""))
    ctx.metrics.token_issued(grant.value, "access", "jwt" if access.count(".") == 2 else "opaque")
    if "refresh_token" in body:
        ctx.metrics.token_issued(grant.value, "refresh", "opaque")
    if "id_token" in body:
        ctx.metrics.token_issued(grant.value, "id", "jwt")
