"""SECURITY.md 1.F: browser pages — clickjacking, CSRF, leakage, redirects, throttling,
session cookies (SEC-36 … SEC-44).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx2
import pytest

from tests.helpers import ASGIApp
from tests.http.authorize.browser import (
    Browser,
    Browsers,
    Setup,
    code_params,
    form_with,
    location_params,
    pkce,
    setup,
)


@pytest.fixture
async def fx(app: ASGIApp) -> Setup:
    return await setup(app)


@pytest.fixture
async def browsers(app: ASGIApp) -> AsyncIterator[Browsers]:
    pool = Browsers(app)
    yield pool
    await pool.aclose()


@pytest.fixture
def browser(browsers: Browsers) -> Browser:
    return browsers()


async def login_page(fx: Setup, browser: Browser, **extra: str) -> httpx2.Response:
    _, challenge = pkce()
    return await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge, **extra))
    )


async def consent_page(fx: Setup, browser: Browser) -> httpx2.Response:
    return await browser.follow(await browser.login(await login_page(fx, browser)))


async def every_page(fx: Setup, browser: Browser) -> list[httpx2.Response]:
    error = await browser.authorize(client_id="nope")
    login = await login_page(fx, browser)
    failed = await browser.login(login, password="wrong password")
    consent = await consent_page(fx, browser)
    logout = await browser.http.get("/logout")
    return [error, login, failed, consent, logout]


@pytest.mark.spec("SEC-36")
async def test_every_page_refuses_framing(fx: Setup, browser: Browser) -> None:
    for page in await every_page(fx, browser):
        assert page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.spec("SEC-37")
async def test_csrf_token_bound_to_the_browser(fx: Setup, browsers: Browsers) -> None:
    a, b = browsers(), browsers()
    page = await consent_page(fx, a)
    form = form_with(page.text, "decision")
    data = {**form.fields, "decision": "approve"}
    origin = {"Origin": "http://127.0.0.1:8000"}
    missing = {k: v for k, v in data.items() if k != "csrf_token"}
    assert (await a.http.post(form.action, data=missing, headers=origin)).status_code == 403
    altered = {**data, "csrf_token": data["csrf_token"][:-2] + "xx"}
    assert (await a.http.post(form.action, data=altered, headers=origin)).status_code == 403
    other = form_with((await consent_page(fx, b)).text, "decision").fields["csrf_token"]
    stolen = {**data, "csrf_token": other}
    assert (await a.http.post(form.action, data=stolen, headers=origin)).status_code == 403
    evil = {"Origin": "https://evil.test"}
    assert (await a.http.post(form.action, data=data, headers=evil)).status_code == 403
    ok = await a.http.post(form.action, data=data, headers=origin)  # nothing was issued before
    assert ok.status_code == 303 and "code" in location_params(ok)


@pytest.mark.spec("SEC-37")
async def test_origin_null_still_needs_the_token_and_a_same_origin_fetch(
    fx: Setup, browser: Browser
) -> None:
    """Chromium sends `Origin: null` for posts from a no-referrer page (see web/csrf.py)."""
    form = form_with((await consent_page(fx, browser)).text, "decision")
    data = {**form.fields, "decision": "approve"}
    null = {"Origin": "null"}
    missing = {k: v for k, v in data.items() if k != "csrf_token"}
    assert (await browser.http.post(form.action, data=missing, headers=null)).status_code == 403
    for site in ("cross-site", "same-site"):
        framed = {**null, "Sec-Fetch-Site": site}
        assert (await browser.http.post(form.action, data=data, headers=framed)).status_code == 403
    ours = {**null, "Sec-Fetch-Site": "same-origin"}
    ok = await browser.http.post(form.action, data=data, headers=ours)
    assert ok.status_code == 303 and "code" in location_params(ok)


@pytest.mark.spec("SEC-37")
async def test_login_form_has_csrf_too(fx: Setup, browser: Browser) -> None:
    page = await login_page(fx, browser)
    form = form_with(page.text, "username")
    data = {"username": "alice", "password": "correct horse battery", "csrf_token": "x" * 43}
    r = await browser.http.post(form.action, data=data)
    assert r.status_code == 403 and "set-cookie" not in r.headers


@pytest.mark.spec("SEC-38")
async def test_a_consent_decision_is_used_once(fx: Setup, browser: Browser) -> None:
    page = await consent_page(fx, browser)
    first = await browser.decide(page)
    second = await browser.decide(page)
    assert first.status_code == 303 and "code" in location_params(first)
    assert second.status_code in (400, 403) and "location" not in second.headers
    assert second.headers["content-type"].startswith("text/html")


@pytest.mark.spec("SEC-39")
async def test_consent_acts_on_the_stored_request(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    page = await consent_page(fx, browser)
    form = form_with(page.text, "decision")
    forged = {
        **form.fields,
        "decision": "approve",
        "scope": "openid email profile offline_access",
        "client_id": fx.c2.client_id,
        "redirect_uri": "https://evil.test/cb",
        "authorization_details": '[{"type":"payment_initiation"}]',
    }
    r = await browser.http.post(
        form.action, data=forged, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert r.headers["location"].startswith("https://c1.test/cb?")
    from tests.http.authorize.browser import redeem

    # the code is C1's and carries only the requested scope
    verifier_free = await redeem(client, fx.c1, location_params(r)["code"], None)
    assert verifier_free.json()["error"] == "invalid_grant"  # PKCE of the original request


@pytest.mark.spec("SEC-40")
async def test_no_referrer_and_no_third_party_resources(fx: Setup, browser: Browser) -> None:
    for page in await every_page(fx, browser):
        assert page.headers["referrer-policy"] == "no-referrer"
        for url in re.findall(r'(?:src|href)="([^"]*)"', page.text):
            assert url.startswith("/"), url


@pytest.mark.spec("SEC-41")
async def test_credential_posts_redirect_with_303(fx: Setup, browser: Browser) -> None:
    login = await browser.login(await login_page(fx, browser))
    assert login.status_code == 303
    consent = await browser.decide(await browser.follow(login))
    assert consent.status_code == 303


@pytest.mark.spec("SEC-42")
async def test_pages_and_tokens_are_not_cached(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    for page in await every_page(fx, browser):
        assert page.headers["cache-control"] == "no-store"
    r = await client.post("/token", data={"grant_type": "authorization_code", "code": "x"})
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"


@pytest.mark.spec("SEC-43")
async def test_password_guessing_is_throttled(fx: Setup, browsers: Browsers) -> None:
    b = browsers()
    page = await login_page(fx, b)
    wrong = await b.login(page, password="wrong password")
    unknown = await b.login(page, username="mallory", password="wrong password")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.text.replace("alice", "") == unknown.text.replace("mallory", "")
    statuses = [(await b.login(page, password="wrong password")).status_code for _ in range(18)]
    assert statuses[-1] == 429 and set(statuses) <= {400, 429}
    right = await b.login(page)  # inside the window even the right password is refused
    assert right.status_code == 429 and "set-cookie" not in right.headers
    other = browsers()
    again = await other.login(await login_page(fx, other))  # per account, also elsewhere
    assert again.status_code == 429


@pytest.mark.spec("SEC-44")
async def test_session_cookie_rotates_and_is_locked_down(fx: Setup, browser: Browser) -> None:
    first = await browser.login(await login_page(fx, browser))
    cookie1 = first.headers["set-cookie"]
    assert "HttpOnly" in cookie1 and "SameSite=lax" in cookie1
    assert "Secure" not in cookie1  # loopback http issuer; see test_https_cookies
    second = await browser.login(await login_page(fx, browser, prompt="login"))
    value = re.compile(r"authgate_session=([^;]+)")
    m1, m2 = value.search(cookie1), value.search(second.headers["set-cookie"])
    assert m1 and m2 and m1.group(1) != m2.group(1)
