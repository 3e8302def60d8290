"""Issuing ID tokens (OIDC Core §2, §3.1.3.6, §12.2), shared by every grant that has a user,
and the whole token response of a grant's first redemption (code exchange, device grant).

The code exchange puts the request's `nonce` in; a refresh (§12.2) or a device grant issues
one without (§12.2: "it SHOULD NOT have a nonce Claim Value"), keeping the original login's
`auth_time`, `acr`, `amr` and `sid`.
"""

from __future__ import annotations

from datetime import datetime

from authgate.core import authorization_details, consent, id_token
from authgate.core.claims import load_claims
from authgate.core.models import Client, Grant, Resource, User
from authgate.core.scopes import OPENID
from authgate.core.token_request import TokenResponse, build_token_response
from authgate.core.userinfo import build_id_token_claims
from authgate.flows.context import Context
from authgate.flows.tokens import issue_access_token, issue_refresh_token
from authgate.store.base import StoreTx


async def issue_grant_tokens(
    tx: StoreTx,
    ctx: Context,
    client: Client,
    grant: Grant,
    user: User,
    resource: Resource | None,
    details: str | None,
    *,
    now: datetime,
    with_nonce: bool,
) -> TokenResponse:
    """RFC 6749 §4.1.4 / RFC 8628 §3.5 / OIDC Core §3.1.3.3: the access token, the ID token
    for `openid`, and a refresh token under the offline_access rule (SEC-32); RFC 9396 §7:
    the `details` of this token.
    """
    refresh = None
    if consent.issues_refresh_token(client, grant.scope):
        refresh = await issue_refresh_token(tx, ctx, grant=grant, scope=grant.scope, now=now)
    access = await issue_access_token(
        tx,
        ctx,
        client=client,
        sub=user.sub,
        scope=grant.scope,
        resource=resource,
        now=now,
        grant_id=grant.grant_id,
        refresh_token_hash=refresh.record.token_hash if refresh else None,
        authorization_details=details,
        auth_time=grant.auth_time,
    )
    id_token_value = None
    if OPENID in grant.scope:
        id_token_value = await issue_id_token(
            ctx, client, grant, user, access_token=access.token, now=now, with_nonce=with_nonce
        )
    return build_token_response(
        access_token=access.token,
        expires_in=access.expires_in,
        scope=grant.scope,
        refresh_token=refresh.token if refresh else None,
        id_token=id_token_value,
        authorization_details=authorization_details.load(details),
    )


async def issue_id_token(
    ctx: Context,
    client: Client,
    grant: Grant,
    user: User,
    *,
    access_token: str,
    now: datetime,
    with_nonce: bool,
) -> str:
    """An ID token about `user` for `client`, signed with the client's algorithm."""
    alg = client.id_token_signed_response_alg
    claims = id_token.build_claims(
        issuer=ctx.issuer,
        client_id=client.client_id,
        sub=user.sub,
        issued_at=now,
        ttl=ctx.settings.id_token_ttl,
        alg=alg,
        auth_time=grant.auth_time,
        nonce=grant.nonce if with_nonce else None,
        acr=grant.acr,
        amr=grant.amr,
        sid=grant.sid,
        access_token=access_token,
        user_claims=build_id_token_claims(user, load_claims(grant.claims)),
    )
    ring = await ctx.keys.ring(now)
    return ring.sign(claims, alg=alg)
