"""OIDC Core §5.1 standard claims of a user, and which of them a request may see: by scope
(§5.4) and by the `claims` parameter (§5.5). `sub` is always returned (§5.3.2).
"""

from __future__ import annotations

from collections.abc import Iterable

from authgate.core.claims import ClaimsRequest
from authgate.core.models import User

Claims = dict[str, object]

# OIDC Core §5.4: the claims each scope value requests.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}


def standard_claims(user: User) -> Claims:
    """Every §5.1 claim authgate holds for `user` (absent values left out)."""
    claims: Claims = {
        "sub": user.sub,
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.username,
        "locale": user.locale,
        "email": user.email,
        "phone_number": user.phone_number,
    }
    if user.email:
        claims["email_verified"] = user.email_verified
    if user.address:
        claims["address"] = {"formatted": user.address}  # §5.1.1
    if user.updated_at is not None:
        claims["updated_at"] = int(user.updated_at.timestamp())
    return {k: v for k, v in claims.items() if v is not None}


def scope_claim_names(scope: Iterable[str]) -> frozenset[str]:
    """§5.4: the claim names the granted scope values stand for."""
    return frozenset(name for s in scope for name in SCOPE_CLAIMS.get(s, ()))


def build_userinfo(user: User, scope: frozenset[str], claims: ClaimsRequest) -> Claims:
    """§5.3.2: the UserInfo response for a token with `scope` and the grant's `claims`."""
    wanted = scope_claim_names(scope) | frozenset(claims.userinfo)
    return _select(standard_claims(user), wanted)


def build_id_token_claims(user: User, claims: ClaimsRequest) -> Claims:
    """§5.5: user claims asked for in the `id_token` member (scope claims go to UserInfo
    in the code flow, §5.4).
    """
    return _select(standard_claims(user), frozenset(claims.id_token))


def _select(available: Claims, wanted: frozenset[str]) -> Claims:
    selected: Claims = {"sub": available["sub"]}
    for name in sorted(wanted):
        if name in available:
            selected[name] = available[name]
    return selected
