"""RFC 6749 §4.4: the client credentials grant.

RFC 9396 §6 leaves it to the server which `authorization_details` a client acting on its
own behalf may get. authgate's policy is the client's registration: objects of the types
registered for it (`--authorization-details-type`), each valid against its schema, are
granted as requested; without the parameter the token carries none.
"""

from __future__ import annotations

from datetime import datetime

from authgate.core import authorization_details
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
    details = authorization_details.from_parameter(
        params.get("authorization_details"),
        ctx.settings.details_types,
        allowed=client.authorization_details_types,
    )
    issued = await issue_access_token(
        tx,
        ctx,
        client=client,
        sub=None,
        scope=scope,
        resource=resource,
        now=now,
        authorization_details=details,
    )
    return build_token_response(
        access_token=issued.token,
        expires_in=issued.expires_in,
        scope=scope,
        authorization_details=authorization_details.load(details),
    )
