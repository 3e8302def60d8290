"""SECURITY.md 1.J, outputs and comparison: SEC-72 (granted details echoed in the token
response, introspection and the JWT access token), SEC-73 (token and refresh requests may
only narrow), SEC-74 (escaped on consent; strings compared exactly).
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from authgate.config import Settings
from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, Browsers, pkce
from tests.http.rar.support import (
    Rar,
    approved_code,
    as_param,
    authorization,
    jwt_claims,
    make_rar,
    payment,
    rar_settings,
    redeem,
)
from tests.parties import introspect, refresh


@pytest.fixture
def settings(db: str, tmp_path: Path) -> Settings:
    # SEC-72 asks for AUTHGATE_ACCESS_TOKEN_FORMAT=jwt.
    return rar_settings(db, tmp_path, access_token_format="jwt")


@pytest.fixture
async def rar(app: ASGIApp) -> Rar:
    return await make_rar(app)


@pytest.fixture
async def browser(app: ASGIApp) -> AsyncIterator[Browser]:
    pool = Browsers(app)
    yield pool()
    await pool.aclose()


@pytest.mark.spec("SEC-72")
async def test_sec72_granted_details_in_token_response_introspection_and_jwt(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    granted = [payment()]
    response = await redeem(client, rar.c1, await approved_code(browser, rar.c1.client_id, granted))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["authorization_details"] == granted
    seen = await introspect(client, rar.r1, body["access_token"])
    assert seen.json()["active"] is True
    assert seen.json()["authorization_details"] == granted
    assert jwt_claims(body["access_token"])["authorization_details"] == granted
    refreshed = await refresh(client, rar.c1, body["refresh_token"])
    assert refreshed.json()["authorization_details"] == granted
    assert jwt_claims(refreshed.json()["access_token"])["authorization_details"] == granted


@pytest.mark.spec("SEC-73")
async def test_sec73_refresh_may_only_narrow(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    granted = [payment()]
    body = (
        await redeem(client, rar.c1, await approved_code(browser, rar.c1.client_id, granted))
    ).json()
    rt = body["refresh_token"]
    other_type = [{"type": "account_information", "actions": ["read"]}]
    for wider in (other_type, [payment("200.00")]):
        response = await refresh(client, rar.c1, rt, authorization_details=as_param(wider))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_authorization_details"
    same = await refresh(client, rar.c1, rt, authorization_details=as_param(granted))
    assert same.status_code == 200, same.text
    assert same.json()["authorization_details"] == granted
    lower = await refresh(
        client, rar.c1, same.json()["refresh_token"], authorization_details=as_param([payment("1")])
    )
    assert jwt_claims(lower.json()["access_token"])["authorization_details"] == [payment("1")]


@pytest.mark.spec("SEC-74")
async def test_sec74_details_are_escaped_on_consent(rar: Rar, browser: Browser) -> None:
    attack = "<img src=x onerror=alert(1)>"
    _, challenge = pkce()
    details = [payment(currency=attack, creditorName=attack)]
    page = await browser.follow(
        await browser.authorize(**authorization(rar.c1.client_id, challenge, details))
    )
    page = await browser.follow(await browser.login(page))
    assert page.status_code == 200 and 'name="decision"' in page.text
    assert attack not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert attack in html.unescape(page.text)


@pytest.mark.spec("SEC-74")
async def test_sec74_eur_does_not_authorize_lowercase_eur(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    body = (
        await redeem(client, rar.c1, await approved_code(browser, rar.c1.client_id, [payment()]))
    ).json()
    response = await refresh(
        client,
        rar.c1,
        body["refresh_token"],
        authorization_details=as_param([payment(currency="eur")]),
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_authorization_details",
        "error_description": (
            "authorization_details[0].instructedAmount.currency: differs from the granted value"
        ),
    }
