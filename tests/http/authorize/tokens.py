"""Verifying ID tokens in tests the way a client does: against the published JWKS."""

from __future__ import annotations

import httpx2
from joserfc import jwt
from joserfc.jwk import KeySet


async def verify_id_token(http: httpx2.AsyncClient, token: str) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """The (header, claims) of an ID token whose signature verifies against /jwks."""
    md = (await http.get("/.well-known/openid-configuration")).json()
    keys = KeySet.import_key_set((await http.get(md["jwks_uri"].removeprefix(md["issuer"]))).json())
    decoded = jwt.decode(token, keys, algorithms=md["id_token_signing_alg_values_supported"])
    return dict(decoded.header), dict(decoded.claims)
