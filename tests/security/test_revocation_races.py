"""Races decided by the database (SECURITY.md REL-01, REL-03): real concurrent requests through
the ASGI app with asyncio.gather, repeated for a few dozen rounds, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os

import httpx2
import pytest

from authgate.config import Settings
from tests.conftest import ISSUER
from tests.helpers import ASGIApp
from tests.parties import Parties, is_active, make_parties, refresh, revoke

ROUNDS = int(os.environ.get("AUTHGATE_RACE_ROUNDS", "24"))
PARALLEL = 5


@pytest.fixture
async def parties(app: ASGIApp) -> Parties:
    return await make_parties(app)


async def _family_is_dead(http: httpx2.AsyncClient, parties: Parties, *tokens: str) -> None:
    for token in tokens:
        assert not await is_active(http, parties.r1, token)  # I3: nothing of a revoked grant


@pytest.mark.spec("REL-01")
async def test_concurrent_refreshes_have_exactly_one_winner_and_the_replay_kills_the_family(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    for _ in range(ROUNDS):
        t = await parties.tokens(parties.p1)
        responses = await asyncio.gather(
            *(refresh(client, parties.p1, t.refresh_token) for _ in range(PARALLEL))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [400] * (PARALLEL - 1), [r.text for r in responses]
        losers = [r.json()["error"] for r in responses if r.status_code == 400]
        assert set(losers) == {"invalid_grant"}
        winner = next(r.json() for r in responses if r.status_code == 200)
        # strict (grace 0): the losers' replays revoked the family, the winner's pair too (I2)
        assert (await refresh(client, parties.p1, winner["refresh_token"])).status_code == 400
        await _family_is_dead(
            client, parties, winner["access_token"], winner["refresh_token"], t.access_token
        )


@pytest.mark.spec("REL-03")
async def test_revocation_racing_a_refresh_wins(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    for n in range(ROUNDS):
        t = await parties.tokens(parties.c1)
        by_refresh = refresh(client, parties.c1, t.refresh_token)
        by_revoke = revoke(client, parties.c1, t.refresh_token)
        pair = (by_refresh, by_revoke) if n % 2 else (by_revoke, by_refresh)
        first, second = await asyncio.gather(*pair)
        refreshed, revoked = (first, second) if n % 2 else (second, first)
        assert revoked.status_code == 200
        assert refreshed.status_code in {200, 400}, refreshed.text
        family = [t.access_token, t.refresh_token]
        if refreshed.status_code == 200:
            family += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
        else:
            assert refreshed.json()["error"] == "invalid_grant"
        await _family_is_dead(client, parties, *family)


class TestWithGrace:
    @pytest.fixture
    def settings(self, db: str) -> Settings:
        return Settings(issuer=ISSUER, database_url=db, refresh_token_reuse_grace=30)

    @pytest.mark.spec("REL-01")
    async def test_concurrent_refreshes_all_get_the_one_successor_pair(
        self, client: httpx2.AsyncClient, parties: Parties
    ) -> None:
        for _ in range(ROUNDS // 3):
            t = await parties.tokens(parties.p1)
            responses = await asyncio.gather(
                *(refresh(client, parties.p1, t.refresh_token) for _ in range(PARALLEL))
            )
            assert [r.status_code for r in responses] == [200] * PARALLEL
            bodies = [r.json() for r in responses]
            assert all(b == bodies[0] for b in bodies)  # one successor, never a second pair
            assert await is_active(client, parties.r1, bodies[0]["refresh_token"])
            assert (
                await refresh(client, parties.p1, bodies[0]["refresh_token"])
            ).status_code == 200
