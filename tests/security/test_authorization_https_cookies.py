"""SECURITY.md SEC-44 under an https issuer: cookies are Secure."""

from __future__ import annotations

import pytest

from authgate.config import Settings
from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, code_params, pkce, setup

ISSUER = "https://op.test"


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db)


@pytest.mark.spec("SEC-44")
async def test_https_cookies_are_secure(app: ASGIApp) -> None:
    fx = await setup(app)
    browser = Browser(app, issuer=ISSUER)
    _, challenge = pkce()
    start = await browser.authorize(**code_params(fx.c1.client_id, challenge))
    assert "Secure" in start.headers["set-cookie"] and "HttpOnly" in start.headers["set-cookie"]
    login = await browser.login(await browser.follow(start))
    cookie = login.headers["set-cookie"]
    assert "authgate_session=" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    final = await browser.flow(**code_params(fx.c1.client_id, challenge))
    assert final.headers["location"].startswith("https://c1.test/cb?code=")
    await browser.aclose()
