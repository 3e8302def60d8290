"""SECURITY.md REL-10 on two `authgate serve` processes sharing PostgreSQL: after
`authgate keys rotate` with tokens outstanding, both instances publish the new key before
either signs with it (publish-then-sign), the old key stays published and old tokens keep
verifying; opaque refresh tokens are unaffected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx2
import pytest

from authgate.core import jose
from tests.live import run_cli
from tests.reliability import invariants
from tests.reliability.cluster import Cluster, cluster

pytestmark = pytest.mark.slow
KEY_CACHE_TTL = 2  # seconds: a rotated-in key signs only this long after it is published


@pytest.fixture
async def jwt_live(db: str) -> AsyncIterator[Cluster]:
    env = {"AUTHGATE_ACCESS_TOKEN_FORMAT": "jwt", "AUTHGATE_KEY_CACHE_TTL": str(KEY_CACHE_TTL)}
    async with cluster(db, env) as running:
        yield running


@pytest.mark.spec("REL-10")
@pytest.mark.spec("REL-09")
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_rotation_publishes_everywhere_before_signing_and_old_tokens_verify(
    jwt_live: Cluster,
) -> None:
    live, p = jwt_live, jwt_live.parties
    ledger = invariants.Ledger()

    async def jwks(http: httpx2.AsyncClient, base: str) -> set[str]:
        return {k.kid for k in jose.parse_jwks((await http.get(base + "/jwks")).text).keys}

    async with httpx2.AsyncClient(timeout=30) as http:

        async def token(base: str) -> str:
            r = ledger.record(
                await http.post(
                    base + "/token", data={"grant_type": "client_credentials"}, auth=p.c1.auth
                )
            )
            assert r.status_code == 200, r.text
            return str(r.json()["access_token"])

        old_tokens = [await token(base) for base in live.bases]
        user = await p.tokens(p.c1)  # an opaque refresh token outstanding
        old_kids = {jose.unverified_header(t)["kid"] for t in old_tokens}
        # The operator's CLI reads the same configuration as the servers (key_cache_ttl sets
        # when the new key starts signing).
        rotated = await asyncio.to_thread(
            run_cli,
            live.database_url,
            "keys",
            "rotate",
            env={"AUTHGATE_KEY_CACHE_TTL": str(KEY_CACHE_TTL)},
        )
        assert rotated.returncode == 0, rotated.stderr

        seen_new = False
        deadline = time.monotonic() + KEY_CACHE_TTL * 3 + 5
        while time.monotonic() < deadline and not seen_new:
            for base in live.bases:
                kid = jose.unverified_header(await token(base))["kid"]
                if kid not in old_kids:
                    seen_new = True
                    # publish-then-sign: every instance already publishes the signing key
                    for other in live.bases:
                        assert kid in await jwks(http, other), (kid, other)
            await asyncio.sleep(0.2)
        assert seen_new, "the rotated-in key never signed"
        for base in live.bases:
            keys = jose.parse_jwks((await http.get(base + "/jwks")).text)
            assert old_kids <= {k.kid for k in keys.keys}  # K1 stays published
            for t in old_tokens:
                jose.verify_jwt(t, keys, ("RS256", "ES256"))  # old tokens still verify
        refreshed = await http.post(
            live.bases[1] + "/token",
            data={"grant_type": "refresh_token", "refresh_token": user.refresh_token},
            auth=p.c1.auth,
        )
        assert ledger.record(refreshed).status_code == 200, refreshed.text
    await invariants.check(live.database_url, ledger)
