"""RFC 6749 §4.4: the client credentials grant."""

from __future__ import annotations

from datetime import datetime

from authgate.core.models import Client
from authgate.core.params import Params
from authgate.core.token_request import (
    TokenResponse,
    build_token_response,
    validate_client_credentials_scope,
    validate_client_grant,
)
from authgate.core.types import GrantType
from authgate.flows.context import Context
from authgate.flows.tokens import issue_access_token, resolve_resource
from authgate.store.base import StoreTx


async def exchange(
    tx: StoreTx, ctx: Context, client: Client, params: Params, *, now: datetime
) -> TokenResponse:
    """Issue an access token to the client on its own behalf; no refresh token (§4.4.3)."""
    validate_client_grant(client, GrantType.CLIENT_CREDENTIALS)
    scope = validate_client_credentials_scope(client, params.get("scope"))
    resource = await resolve_resource(tx, params.get_all("resource"))
    issued = await issue_access_token(
        tx, ctx, client=client, sub=None, scope=scope, resource=resource, now=now
    )
    return build_token_response(
        access_token=issued.token, expires_in=issued.expires_in, scope=scope
    )
