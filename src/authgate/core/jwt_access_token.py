"""RFC 9068: JWT profile for OAuth 2.0 access tokens: the claim set and the `at+jwt` type.

§2.2: "iss", "exp", "aud", "sub", "client_id", "iat", "jti" are REQUIRED; "scope" when the
request carried one. §2.1: header "typ" is "at+jwt". For grants without a resource owner
(client_credentials) "sub" identifies the client.
"""

from __future__ import annotations

import json
from datetime import datetime

from authgate.core.scopes import format_scope

TYP = "at+jwt"

Claims = dict[str, object]


def build_claims(
    *,
    issuer: str,
    sub: str,
    audience: str,
    client_id: str,
    scope: frozenset[str],
    issued_at: datetime,
    expires_at: datetime,
    jti: str,
    authorization_details: str | None = None,
    auth_time: datetime | None = None,
) -> Claims:
    """The RFC 9068 §2.2 claim set of one access token."""
    claims: Claims = {
        "iss": issuer,
        "sub": sub,
        "aud": audience,
        "client_id": client_id,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti,
    }
    if scope:
        claims["scope"] = format_scope(scope)
    if auth_time is not None:
        claims["auth_time"] = int(auth_time.timestamp())
    if authorization_details is not None:
        # RFC 9396 §9.1: the granted details travel in the token.
        claims["authorization_details"] = json.loads(authorization_details)
    return claims
