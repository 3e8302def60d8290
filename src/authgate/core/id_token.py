"""OIDC Core §2 and §3.1.3.6: the ID token claim set of the authorization code flow.

§2: `iss`, `sub`, `aud`, `exp`, `iat` are REQUIRED; `auth_time` when `max_age` was sent or
`auth_time` was requested as essential (authgate always includes it, which §2 allows);
`nonce` exactly as sent; `acr`, `amr`, `azp`. §3.1.3.6: `at_hash` is the left half of the
hash of the access token. OIDC Front-Channel Logout §3 / Session Management: `sid`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from authgate.core.errors import InvalidRequestError
from authgate.core.jose import JoseVerificationError, KeyRing, half_hash
from authgate.core.types import SigningAlg

Claims = dict[str, object]
# Claims the server sets itself; user claims asked for with `claims` never replace them.
PROTECTED = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash"}
    | {"sid", "c_hash", "jti", "nbf"}
)


def build_claims(
    *,
    issuer: str,
    client_id: str,
    sub: str,
    issued_at: datetime,
    ttl: int,
    alg: SigningAlg,
    auth_time: datetime | None = None,
    nonce: str | None = None,
    acr: str | None = None,
    amr: Sequence[str] = (),
    sid: str | None = None,
    access_token: str | None = None,
    user_claims: Mapping[str, object] | None = None,
) -> Claims:
    """The claims of one ID token for `client_id` about `sub`."""
    claims: Claims = {
        "iss": issuer,
        "sub": sub,
        "aud": client_id,
        "azp": client_id,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + timedelta(seconds=ttl)).timestamp()),
    }
    if auth_time is not None:
        claims["auth_time"] = int(auth_time.timestamp())
    if nonce is not None:
        claims["nonce"] = nonce  # §3.1.3.6: "MUST be present ... with the same value"
    if acr is not None:
        claims["acr"] = acr
    if amr:
        claims["amr"] = list(amr)
    if sid is not None:
        claims["sid"] = sid
    if access_token is not None:
        claims["at_hash"] = half_hash(access_token, alg)
    for name, value in (user_claims or {}).items():
        if name not in PROTECTED:
            claims[name] = value
    return claims


@dataclass(frozen=True, slots=True)
class IdTokenHint:
    """What an `id_token_hint` tells (OIDC Core §3.1.2.1; RP-Initiated Logout §2)."""

    sub: str
    audience: tuple[str, ...]
    sid: str | None = None


def parse_hint(ring: KeyRing, token: str, *, issuer: str) -> IdTokenHint:
    """Verify an ID token this server issued; an expired one is still a valid hint."""
    try:
        claims = ring.verify(token).claims
    except JoseVerificationError:
        raise InvalidRequestError(
            "id_token_hint is not an ID token issued by this server"
        ) from None
    sub, aud, sid = claims.get("sub"), claims.get("aud"), claims.get("sid")
    audience = tuple(a for a in (aud if isinstance(aud, list) else [aud]) if isinstance(a, str))
    if claims.get("iss") != issuer or not isinstance(sub, str) or not audience:
        raise InvalidRequestError("id_token_hint is not an ID token issued by this server")
    return IdTokenHint(sub, audience, sid if isinstance(sid, str) else None)
