"""Issuing ID tokens (OIDC Core §2, §3.1.3.6, §12.2), shared by every grant that has a user.

The code exchange puts the request's `nonce` in; a refresh (§12.2) or a device grant issues
one without (§12.2: "it SHOULD NOT have a nonce Claim Value"), keeping the original login's
`auth_time`, `acr`, `amr` and `sid`.
"""

from __future__ import annotations

from datetime import datetime

from authgate.core import id_token
from authgate.core.claims import load_claims
from authgate.core.models import Client, Grant, User
from authgate.core.userinfo import build_id_token_claims
from authgate.flows.context import Context


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
