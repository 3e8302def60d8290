"""RFC 7662 token introspection: look the token up (hint first, §2.1), then let
core/introspection decide what the authenticated caller may learn.
"""

from __future__ import annotations

from datetime import datetime

from authgate.core import introspection
from authgate.core.client_auth import ClientCredentials
from authgate.core.models import Client
from authgate.core.params import Params
from authgate.core.revocation import lookup_order
from authgate.core.tokens import hash_token
from authgate.core.types import TokenTypeHint
from authgate.flows.client_auth import with_authenticated_client
from authgate.flows.context import Context
from authgate.flows.refresh_token import load as load_refresh_token
from authgate.store.base import StoreTx


async def introspect(
    ctx: Context, creds: ClientCredentials, params: Params, *, now: datetime
) -> introspection.Response:
    """The RFC 7662 §2.2 response for `token` as the authenticated client may see it."""
    token = params.require("token")
    order = lookup_order(params.get("token_type_hint"))

    async def work(tx: StoreTx, client: Client) -> introspection.Response:
        introspection.validate_caller(client)
        token_hash = hash_token(token)
        for kind in order:
            if kind is TokenTypeHint.ACCESS_TOKEN:
                found = await tx.find_access_token(token_hash)
                if found is not None:
                    return introspection.build_access_token_response(
                        *found, caller=client, issuer=ctx.issuer, now=now
                    )
            else:
                state = await load_refresh_token(tx, token_hash)
                if state is not None:
                    return introspection.build_refresh_token_response(
                        state, caller=client, issuer=ctx.issuer, now=now
                    )
        return dict(introspection.INACTIVE)

    # Introspection only reads (a private_key_jwt's jti is spent in a transaction of its own).
    return await with_authenticated_client(ctx, creds, work, now=now, readonly=True)
