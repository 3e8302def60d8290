"""SECURITY.md REL-01…REL-04 and REL-07 against real servers: PostgreSQL with two
`authgate serve` processes (requests alternating), SQLite with `--workers 4`. Each round
releases its requests together; I1–I5 are checked in the database afterwards.

Rounds: a few in `make test`, 100 per case under `make soak` (AUTHGATE_SOAK=1).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx2
import pytest

from tests.http.authorize.browser import redeem
from tests.http.device.pages import DEVICE_GRANT, make_device_client
from tests.parties import form_of, introspect, refresh, revoke
from tests.reliability import invariants
from tests.reliability.cluster import SOAK, Cluster, fresh_code, rounds

pytestmark = pytest.mark.slow


def _introspector(live: Cluster, http: httpx2.AsyncClient) -> invariants.Introspect:
    async def active(token: str) -> bool:
        r = await introspect(http, live.parties.r1, token)
        assert r.status_code == 200, r.text
        return bool(r.json()["active"])

    return active


@pytest.mark.spec("REL-01")
@pytest.mark.spec("REL-09")
@pytest.mark.parametrize("parallel", [5, 20, 50] if SOAK else [5, 20])
async def test_concurrent_refreshes_of_one_token_have_one_winner(
    live: Cluster, parallel: int
) -> None:
    p = live.parties
    ledger = invariants.Ledger()
    async with live.http() as http:
        for _ in range(rounds(3)):
            t = await p.tokens(p.p1)
            responses = await asyncio.gather(
                *(refresh(http, p.p1, t.refresh_token) for _ in range(parallel))
            )
            for r in responses:
                ledger.record(r)
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200] + [400] * (parallel - 1), [r.text for r in responses]
            assert {r.json()["error"] for r in responses if r.status_code == 400} == {
                "invalid_grant"
            }
            winner = next(r.json() for r in responses if r.status_code == 200)
            # strict (grace 0): the losers replayed a spent token, so the family is revoked
            assert (await refresh(http, p.p1, winner["refresh_token"])).status_code == 400
        if len(live.servers) > 1:  # the requests really went to both processes
            assert all("/token" in s.output() for s in live.servers)
        await invariants.check(live.database_url, ledger, _introspector(live, http))


@pytest.mark.spec("REL-02")
@pytest.mark.spec("REL-09")
async def test_concurrent_redemptions_of_one_code_have_at_most_one_winner(live: Cluster) -> None:
    p = live.parties
    ledger = invariants.Ledger()
    browser = live.browser()
    async with live.http() as http:
        for _ in range(rounds(3, soak=50)):
            code, verifier = await fresh_code(browser, p.c1)
            responses = await asyncio.gather(
                *(redeem(http, p.c1, code, verifier) for _ in range(10))
            )
            for r in responses:
                ledger.record(r)
            statuses = Counter(r.status_code for r in responses)
            assert statuses[200] <= 1 and statuses[200] + statuses[400] == 10, statuses
            assert all(
                r.json()["error"] == "invalid_grant" for r in responses if r.status_code == 400
            )
            for winner in (r.json() for r in responses if r.status_code == 200):
                # decided (REL-02): the race counts as reuse, the winner's tokens die too
                assert not (await introspect(http, p.r1, winner["access_token"])).json()["active"]
        await invariants.check(live.database_url, ledger, _introspector(live, http))
    await browser.aclose()


@pytest.mark.spec("REL-03")
@pytest.mark.spec("REL-09")
async def test_revocation_racing_a_refresh_wins(live: Cluster) -> None:
    p = live.parties
    ledger = invariants.Ledger()
    async with live.http() as http:
        for n in range(rounds(4)):
            t = await p.tokens(p.c1)
            jobs = [refresh(http, p.c1, t.refresh_token), revoke(http, p.c1, t.refresh_token)]
            if n % 2:
                jobs.reverse()
            done = await asyncio.gather(*jobs)
            refreshed, revoked = (done[1], done[0]) if n % 2 else (done[0], done[1])
            ledger.record(refreshed)
            ledger.record(revoked)
            assert revoked.status_code == 200
            assert refreshed.status_code in {200, 400}, refreshed.text
            family = [t.access_token, t.refresh_token]
            if refreshed.status_code == 200:
                family += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
            for token in family:
                assert not (await introspect(http, p.r1, token)).json()["active"], token[:8]
        await invariants.check(live.database_url, ledger, _introspector(live, http))


@pytest.mark.spec("REL-04")
@pytest.mark.spec("REL-09")
async def test_parallel_device_pollers_get_one_issuance(live: Cluster) -> None:
    from tests.http.device.pages import verify_live

    d1 = await make_device_client(live.parties.app)
    ledger = invariants.Ledger()
    async with live.http() as http:
        for _ in range(rounds(2, soak=20)):
            start = await http.post(
                "/device_authorization",
                data={"client_id": d1.client_id, "scope": "openid offline_access"},
            )
            assert start.status_code == 200, start.text
            body = start.json()
            data = {"grant_type": DEVICE_GRANT, "device_code": body["device_code"]}

            async def poll_all(data: dict[str, str] = data) -> Counter[str]:
                rs = await asyncio.gather(
                    *(http.post("/token", data=form_of(d1, **data)) for _ in range(20))
                )
                for r in rs:
                    ledger.record(r)
                return Counter("200" if r.status_code == 200 else r.json()["error"] for r in rs)

            assert await poll_all() == Counter({"authorization_pending": 1, "slow_down": 19})
            page = await asyncio.to_thread(
                verify_live, live.issuer, body["user_code"], username="u1"
            )
            assert "You can return to your device" in page
            assert await poll_all() == Counter({"200": 1, "invalid_grant": 19})
        await invariants.check(live.database_url, ledger, _introspector(live, http))


@pytest.mark.spec("REL-07")
async def test_fifty_refreshes_and_fifty_redemptions_at_once_all_succeed(live: Cluster) -> None:
    p = live.parties
    ledger = invariants.Ledger()
    browser = live.browser()
    async with live.http() as http:
        families = [await p.tokens(p.c1) for _ in range(50)]
        codes = [await fresh_code(browser, p.c1) for _ in range(50)]
        responses = await asyncio.gather(
            *(refresh(http, p.c1, f.refresh_token) for f in families),
            *(redeem(http, p.c1, code, verifier) for code, verifier in codes),
        )
        for r in responses:
            ledger.record(r)
        bad = [(r.status_code, r.text[:200]) for r in responses if r.status_code != 200]
        assert not bad, bad
        assert not any("locked" in r.text for r in responses)
        await invariants.check(live.database_url, ledger, _introspector(live, http), sample=40)
    await browser.aclose()
