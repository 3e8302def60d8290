"""RFC 6749 §4.1.3–§4.1.4 and OIDC Core §3.1.3: exchange an authorization code.

The code is checked against the authenticated client before it is consumed (SECURITY.md
SEC-14: a code presented by another client stays redeemable by its own), then against the
redirect_uri of the request (§4.1.3) and the PKCE challenge (RFC 7636 §4.6), and consumed
by one conditional UPDATE. RFC 6749 §4.1.2: "If an authorization code is used more than
once, the authorization server MUST deny the request and SHOULD revoke (when possible) all
tokens previously issued based on that authorization code." A second redemption, and the
loser of a race (REL-02), revokes the grant and so every token issued from the code; that
revocation is committed and the `invalid_grant` raised afterwards (flows/token.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from authgate.core import authorization_details, pkce
from authgate.core.errors import InvalidGrantError
from authgate.core.models import AuthorizationCode, Client
from authgate.core.params import Params
from authgate.core.token_request import TokenResponse, validate_client_grant
from authgate.core.tokens import hash_prefix, hash_token
from authgate.core.types import GrantType, RevokedBy
from authgate.flows.context import Context
from authgate.flows.id_tokens import issue_grant_tokens
from authgate.flows.outcomes import RaiseAfterCommit, reuse_refused
from authgate.flows.tokens import resolve_resource
from authgate.store.base import StoreTx

log = logging.getLogger(__name__)


async def exchange(
    tx: StoreTx, ctx: Context, client: Client, params: Params, *, now: datetime
) -> TokenResponse:
    """Tokens for a code. A reused code's grant is revoked and the revocation committed
    before the client sees invalid_grant (RaiseAfterCommit).
    """
    validate_client_grant(client, GrantType.AUTHORIZATION_CODE)
    code_hash = hash_token(params.require("code"))
    code = await tx.find_authorization_code(code_hash)
    if code is None or code.client_id != client.client_id:
        # SEC-14: another client's code is unknown to this one, and stays unconsumed.
        raise InvalidGrantError("the authorization code is invalid")
    if code.consumed_at is not None:
        raise await _reused(tx, ctx, code, now=now)
    _check_code(code, params, now=now)
    resource = await resolve_resource(tx, params.get_all("resource"))
    if not await tx.consume_authorization_code(code_hash, now=now):
        raise await _reused(tx, ctx, code, now=now)  # REL-02: a race's loser
    grant = await tx.find_grant(code.grant_id)
    if grant is None or grant.revoked_at is not None:
        raise InvalidGrantError("the authorization grant has been revoked")
    user = await tx.find_user(grant.sub) if grant.sub else None
    if user is None or user.is_disabled:
        raise InvalidGrantError("the user of this authorization is no longer active")  # SEC-17
    # RFC 9396 §6: no more than the user approved. An error here rolls the transaction back,
    # so the code is not spent and the client may ask again.
    details = authorization_details.narrow(
        params.get("authorization_details"),
        grant.authorization_details,
        ctx.settings.details_types,
        allowed=client.authorization_details_types,
    )
    await tx.touch_grant(grant.grant_id, now=now)
    return await issue_grant_tokens(
        tx, ctx, client, grant, user, resource, details, now=now, with_nonce=True
    )


def _check_code(code: AuthorizationCode, params: Params, *, now: datetime) -> None:
    if code.expires_at <= now:
        raise InvalidGrantError("the authorization code has expired")
    if params.get("redirect_uri") != code.redirect_uri:
        # RFC 6749 §4.1.3: "ensure that the redirect_uri parameter is present ... and that
        # their values are identical".
        raise InvalidGrantError("redirect_uri does not match the authorization request")
    pkce.verify(code.code_challenge, params.get("code_verifier"))


async def _reused(
    tx: StoreTx, ctx: Context, code: AuthorizationCode, *, now: datetime
) -> RaiseAfterCommit:
    revoked = await tx.revoke_grant(code.grant_id, now=now, by=RevokedBy.CODE_REUSE)
    log.warning(
        "authorization code %s redeemed again by %s: grant revoked=%s",
        hash_prefix(code.code_hash),
        code.client_id,
        revoked,
    )
    return reuse_refused(
        ctx.metrics,
        InvalidGrantError("the authorization code was already used"),
        RevokedBy.CODE_REUSE,
    )
