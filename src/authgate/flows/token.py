"""The token endpoint's use case (RFC 6749 §3.2): pick the grant, authenticate, exchange."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from authgate.core.client_auth import ClientCredentials
from authgate.core.errors import OAuthError
from authgate.core.models import Client
from authgate.core.params import Params
from authgate.core.token_request import TokenResponse, parse_grant_type
from authgate.core.types import GrantType
from authgate.flows import authorization_code, client_credentials
from authgate.flows.client_auth import with_authenticated_client
from authgate.flows.context import Context
from authgate.store.base import StoreTx

Handler = Callable[[StoreTx, Context, Client, Params], Awaitable[TokenResponse]]
# A handler may return (not raise) an OAuthError when the state it changed must persist,
# e.g. a reused authorization code revokes its grant; it is raised after the commit.
_Exchange = Callable[..., Awaitable[TokenResponse | OAuthError]]

_HANDLERS: dict[GrantType, _Exchange] = {
    GrantType.CLIENT_CREDENTIALS: client_credentials.exchange,
    GrantType.AUTHORIZATION_CODE: authorization_code.exchange,
}
SUPPORTED_GRANTS = frozenset(_HANDLERS)


async def token(
    ctx: Context, creds: ClientCredentials, params: Params, *, now: datetime
) -> TokenResponse:
    """One token request in one transaction; raises the OAuthError the client should see."""
    grant = parse_grant_type(params.require("grant_type"), SUPPORTED_GRANTS)
    exchange = _HANDLERS[grant]

    async def work(tx: StoreTx, client: Client) -> TokenResponse | OAuthError:
        return await exchange(tx, ctx, client, params, now=now)

    result = await with_authenticated_client(ctx, creds, work, now=now)
    if isinstance(result, OAuthError):
        raise result  # its state changes are committed
    return result
