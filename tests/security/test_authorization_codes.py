"""SECURITY.md 1.B: authorization codes (SEC-12 … SEC-17) and REL-02."""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx2
import pytest

from authgate.core.tokens import hash_token
from authgate.flows import clients, users
from tests.helpers import ASGIApp, make_client, metric
from tests.http.authorize.browser import (
    C1_URI,
    Browser,
    Browsers,
    Setup,
    code_params,
    location_params,
    pkce,
    redeem,
    setup,
)


@pytest.fixture
async def fx(app: ASGIApp) -> Setup:
    return await setup(app)


@pytest.fixture
async def browser(app: ASGIApp) -> AsyncIterator[Browser]:
    pool = Browsers(app)
    yield pool()
    await pool.aclose()


async def code_for(fx: Setup, browser: Browser, **extra: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, **extra))
    return location_params(final)["code"], verifier


async def userinfo_status(http: httpx2.AsyncClient, token: str) -> int:
    r = await http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    return r.status_code


@pytest.mark.spec("SEC-12")
async def test_second_redemption_fails_and_revokes_the_first_tokens(
    app: ASGIApp, fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    code, verifier = await code_for(fx, browser, scope="openid offline_access", prompt="consent")
    first = await redeem(client, fx.c1, code, verifier)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    tokens = first.json()
    assert "refresh_token" in tokens
    assert await userinfo_status(client, tokens["access_token"]) == 200
    for delay in (0, 1):
        await asyncio.sleep(delay)
        again = await redeem(client, fx.c1, code, verifier)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert await userinfo_status(client, tokens["access_token"]) == 401
    async with app.store.transaction(readonly=True) as tx:
        found = await tx.find_refresh_token(hash_token(tokens["refresh_token"]))
    assert found is not None and found[1].revoked_at is not None  # refresh grant: 400 there
    # each detection is counted, once its revocation is committed
    assert await metric(client, "authgate_reuse_detected_total", reason="code_reuse") == 2
    assert await metric(client, "authgate_reuse_detected_total", reason="replay") == 0


@pytest.mark.spec("SEC-14")
async def test_code_is_bound_to_its_client(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    code, verifier = await code_for(fx, browser)
    stolen = await redeem(client, fx.c2, code, verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    mine = await redeem(client, fx.c1, code, verifier)  # decided: still redeemable
    assert mine.status_code == 200


@pytest.mark.spec("SEC-15")
async def test_redirect_uri_must_be_identical(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    fx = await setup(app)
    two = await make_client(app, name="Two", redirect_uris=(C1_URI, "https://c1.test/cb2"))
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(two.client_id, challenge))
    code = location_params(final)["code"]
    wrong = await redeem(client, two, code, verifier, redirect_uri="https://c1.test/cb2")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    omitted = await client.post("/token", data=data, auth=two.auth)
    assert omitted.status_code == 400 and omitted.json()["error"] == "invalid_grant"
    assert (await redeem(client, two, code, verifier)).status_code == 200
    assert fx.c1.client_id != two.client_id


@pytest.mark.spec("SEC-16")
async def test_codes_carry_at_least_128_bits(fx: Setup, browser: Browser) -> None:
    _verifier, challenge = pkce()
    await browser.flow(**code_params(fx.c1.client_id, challenge))  # consent remembered
    codes = []
    for _ in range(50):
        r = await browser.authorize(**code_params(fx.c1.client_id, challenge))
        codes.append(location_params(r)["code"])
    assert len(set(codes)) == 50
    for code in codes:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", code)
    joined = "".join(codes)
    counts = Counter(joined)
    per_char = -sum(n / len(joined) * math.log2(n / len(joined)) for n in counts.values())
    assert per_char * min(len(c) for c in codes) >= 128


@pytest.mark.spec("SEC-17")
async def test_redemption_rechecks_client_and_user(
    app: ASGIApp, fx: Setup, client: httpx2.AsyncClient
) -> None:
    pool = Browsers(app)
    code, verifier = await code_for(fx, pool())
    await clients.set_retired(
        app.store, fx.c1.client_id, retired=True, actor="test", now=datetime.now(UTC)
    )
    r = await redeem(client, fx.c1, code, verifier)
    assert r.status_code in (400, 401) and "access_token" not in r.text
    await clients.set_retired(
        app.store, fx.c1.client_id, retired=False, actor="test", now=datetime.now(UTC)
    )
    code, verifier = await code_for(fx, pool())
    await users.set_disabled(app.store, "alice", disabled=True, now=datetime.now(UTC))
    r = await redeem(client, fx.c1, code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    await pool.aclose()


@pytest.mark.spec("REL-02")
async def test_concurrent_redemptions_give_at_most_one_success(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    verifier, challenge = pkce()
    await browser.flow(**code_params(fx.c1.client_id, challenge))
    for _ in range(5):
        r = await browser.authorize(**code_params(fx.c1.client_id, challenge))
        code = location_params(r)["code"]
        results = await asyncio.gather(*(redeem(client, fx.c1, code, verifier) for _ in range(10)))
        statuses = Counter(r.status_code for r in results)
        assert statuses[200] <= 1 and statuses[200] + statuses[400] == 10, statuses
        assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
        # Decided (REL-02): the race counts as reuse, so the winner's tokens are revoked too.
        for winner in (r for r in results if r.status_code == 200):
            assert await userinfo_status(client, winner.json()["access_token"]) == 401
