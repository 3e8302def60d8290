"""SECURITY.md SEC-13: short authorization code lifetime (here shortened to 1 s)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import pytest

from authgate.config import Settings
from tests.conftest import ISSUER
from tests.helpers import ASGIApp
from tests.http.authorize.browser import (
    Browser,
    Browsers,
    code_params,
    location_params,
    pkce,
    redeem,
    setup,
)


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, authorization_code_ttl=1)


@pytest.fixture
async def browser(app: ASGIApp) -> AsyncIterator[Browser]:
    pool = Browsers(app)
    yield pool()
    await pool.aclose()


def test_default_code_lifetime_is_60_seconds() -> None:
    assert Settings().authorization_code_ttl == 60


@pytest.mark.spec("SEC-13")
async def test_expired_code_is_refused(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    fx = await setup(app)
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge))
    code = location_params(final)["code"]
    await asyncio.sleep(1.1)
    r = await redeem(client, fx.c1, code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert "expired" in r.json()["error_description"]
