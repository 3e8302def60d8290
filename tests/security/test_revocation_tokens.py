"""Token values and JWT access tokens under rotation and revocation: SECURITY.md SEC-56,
SEC-94, SEC-97, SEC-98 and REL-10 (key rotation with tokens outstanding).
"""

from __future__ import annotations

import re

import httpx2
import pytest

from authgate.config import Settings
from authgate.core import jose
from authgate.flows.keys import rotate_keys
from tests.conftest import ISSUER
from tests.helpers import ASGIApp, now
from tests.parties import Parties, client_credentials, introspect, is_active, make_parties, refresh

B64URL = re.compile(r"[A-Za-z0-9_-]{43,}")


@pytest.fixture
def settings(db: str) -> Settings:
    # key_cache_ttl=0: a rotated-in key signs at once (publish-then-sign is tested by keys)
    return Settings(issuer=ISSUER, database_url=db, access_token_format="jwt", key_cache_ttl=0)


@pytest.fixture
async def parties(app: ASGIApp) -> Parties:
    return await make_parties(app)


async def _jwks(http: httpx2.AsyncClient) -> jose.KeySet:
    return jose.parse_jwks((await http.get("/jwks")).text)


@pytest.mark.spec("SEC-56")
async def test_refresh_tokens_are_distinct_high_entropy_base64url(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(parties.p1)
    seen = {t.refresh_token}
    rt = t.refresh_token
    for _ in range(25):
        rt = (await refresh(client, parties.p1, rt)).json()["refresh_token"]
        assert B64URL.fullmatch(rt)  # 43 chars of base64url = 256 bits
        seen.add(rt)
    assert len(seen) == 26


@pytest.mark.spec("SEC-98")
async def test_opaque_client_tokens_have_at_least_128_bits(
    client: httpx2.AsyncClient, parties: Parties, app: ASGIApp
) -> None:
    from authgate.flows.clients import update_client

    await update_client(
        app.store, app.settings, parties.c1.client_id, {"access_token_format": "opaque"}, now=now()
    )
    tokens = {await client_credentials(client, parties.c1) for _ in range(20)}
    assert len(tokens) == 20 and all(B64URL.fullmatch(t) for t in tokens)


@pytest.mark.spec("SEC-94")
@pytest.mark.spec("SEC-97")
async def test_jwt_access_tokens_from_refresh(client: httpx2.AsyncClient, parties: Parties) -> None:
    keys = await _jwks(client)
    kids = {k.kid for k in keys.keys}
    t = await parties.tokens(parties.p1, scope="openid profile email offline_access")
    rt, jtis = t.refresh_token, set()
    for _ in range(20):
        body = (await refresh(client, parties.p1, rt)).json()
        rt = body["refresh_token"]
        content = jose.verify_jwt(body["access_token"], keys, ("RS256",))
        assert content.header["typ"] == "at+jwt" and content.header["kid"] in kids
        c = content.claims
        assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope"} <= set(c)
        assert c["exp"] - c["iat"] == 3600
        assert c["aud"] != "*" and "email" not in c and "name" not in c
        jtis.add(c["jti"])
    assert len(jtis) == 20


@pytest.mark.spec("REL-10")
async def test_key_rotation_with_tokens_outstanding(
    client: httpx2.AsyncClient, parties: Parties, app: ASGIApp
) -> None:
    t = await parties.tokens(parties.c1)
    old_kid = jose.unverified_header(t.access_token)["kid"]
    await rotate_keys(app.store, app.settings, now=now())
    keys = await _jwks(client)
    assert old_kid in {k.kid for k in keys.keys}  # K1 stays published
    refreshed = (await refresh(client, parties.c1, t.refresh_token)).json()
    new_kid = jose.unverified_header(refreshed["access_token"])["kid"]
    assert new_kid != old_kid and new_kid in {k.kid for k in keys.keys}
    jose.verify_jwt(t.access_token, keys, ("RS256",))  # old tokens still verify
    assert await is_active(client, parties.r1, t.access_token)
    assert await is_active(client, parties.r1, refreshed["refresh_token"])  # RTs unaffected
    cache = (await client.get("/jwks")).headers["cache-control"]
    assert "max-age" in cache
    body = (await introspect(client, parties.r1, refreshed["access_token"])).json()
    assert body["active"] is True
