"""OIDC Core §5.3: the UserInfo endpoint; RFC 6750 §3.1 errors for bad tokens.

The access token must be live (not revoked, expired, or of a retired client, a disabled
user or a revoked grant) and carry `openid`. Claims follow the token's scope (§5.4) and the
grant's `claims` request (§5.5); `sub` is always returned and equals the ID token's `sub`
(§5.3.2, SEC-31).
"""

from __future__ import annotations

from datetime import datetime

from authgate.core.claims import load_claims
from authgate.core.errors import InsufficientScopeError, InvalidTokenError
from authgate.core.models import AccessToken, TokenStatus
from authgate.core.scopes import OPENID
from authgate.core.tokens import hash_token
from authgate.core.userinfo import Claims, build_userinfo
from authgate.flows.context import Context


def _is_live(token: AccessToken, status: TokenStatus, now: datetime) -> bool:
    return not (
        token.revoked_at is not None
        or token.expires_at <= now
        or status.client_retired
        or status.user_disabled
        or status.grant_revoked
        or (status.grant_expires_at is not None and status.grant_expires_at <= now)
    )


async def userinfo(ctx: Context, token: str, *, now: datetime) -> Claims:
    """The claims about the user an access token may see."""
    async with ctx.store.transaction(readonly=True) as tx:
        found = await tx.find_access_token(hash_token(token))
        if found is None or not _is_live(*found, now):
            raise InvalidTokenError("the access token is invalid, expired or revoked")
        access, _ = found
        if access.sub is None:
            raise InvalidTokenError("the access token was not issued for a user")
        if OPENID not in access.scope:
            raise InsufficientScopeError("the access token lacks the openid scope")
        user = await tx.find_user(access.sub)
        grant = await tx.find_grant(access.grant_id) if access.grant_id else None
    if user is None:
        raise InvalidTokenError("the access token was issued for a user that no longer exists")
    return build_userinfo(user, access.scope, load_claims(grant.claims if grant else None))
