"""Expiry at the verification page and the token endpoint (SEC-61, SEC-66), with
AUTHGATE_DEVICE_CODE_TTL=1 (SECURITY.md §0 "time travel").
"""

from __future__ import annotations

import anyio
import httpx2
import pytest

from authgate.config import Settings
from tests.conftest import ISSUER
from tests.helpers import RegisteredClient
from tests.http.authorize.browser import Browser, Browsers
from tests.http.device.pages import enter, finish, poll, start


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, device_code_ttl=1)


@pytest.mark.spec("SEC-66")
@pytest.mark.spec("SEC-61")
async def test_an_expired_code_shows_expired_and_the_device_gets_expired_token(
    client: httpx2.AsyncClient, d1: RegisteredClient, browser: Browser
) -> None:
    body = await start(client, d1)
    assert body["expires_in"] == 1
    await anyio.sleep(1.1)
    page = await enter(browser, body["user_code"])
    assert page.status_code == 400 and "location" not in page.headers
    assert "This code has expired" in page.text
    expired = await poll(client, d1, body["device_code"])
    assert (expired.status_code, expired.json()["error"]) == (400, "expired_token")


@pytest.mark.spec("SEC-66")
async def test_a_code_that_expires_on_the_consent_page_cannot_be_approved(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browsers: Browsers
) -> None:
    body = await start(client, d1)
    browser = browsers()
    consent = await finish(browser, await enter(browser, body["user_code"]), decision=None)
    assert 'name="decision"' in consent.text
    await anyio.sleep(1.1)
    after = await browser.follow(await browser.decide(consent))
    assert after.status_code == 400 and "This code has expired" in after.text
    expired = await poll(client, d1, body["device_code"])
    assert expired.json()["error"] == "expired_token"
