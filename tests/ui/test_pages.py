"""The pages a person uses: INTERFACE.md field names, localisation (en, it, zh-CN by
ui_locales then Accept-Language), and working without JavaScript.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from authgate.ui.i18n import LOCALES, catalog, match, negotiate
from tests.helpers import ASGIApp, make_client
from tests.http.authorize.browser import (
    C1_URI,
    Browser,
    Browsers,
    Setup,
    code_params,
    form_with,
    pkce,
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


async def login_page(
    fx: Setup, browser: Browser, headers: dict[str, str] | None = None, **extra: str
) -> httpx2.Response:
    _, challenge = pkce()
    r = await browser.authorize(**code_params(fx.c1.client_id, challenge, **extra))
    return await browser.http.get(r.headers["location"], headers=headers or {})


def test_catalogs_have_the_same_keys() -> None:
    keys = set(catalog("en"))
    for locale in LOCALES:
        assert set(catalog(locale)) == keys


def test_negotiation() -> None:
    assert negotiate(["fr", "it-CH"], "zh") == "it"
    assert negotiate([], "fr;q=0.9, zh-Hans-CN;q=0.8, en;q=0.1") == "zh-CN"
    assert negotiate([], "it;q=0, en-US") == "en"
    assert negotiate([], "de, x;q=abc") == "en"
    assert match("zh-TW") is None  # Traditional Chinese is not offered
    assert match("") is None and match("ZH_cn") == "zh-CN" and match("zh-Hans-SG") == "zh-CN"


async def test_login_page_has_the_interface_fields(fx: Setup, browser: Browser) -> None:
    page = await login_page(fx, browser)
    form = form_with(page.text, "username")
    assert form.method == "post" and {"username", "password", "csrf_token"} <= set(form.fields)
    assert "<script" not in page.text  # no JavaScript needed
    assert page.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    ("extra", "headers", "text"),
    [
        ({"ui_locales": "it"}, {}, "Accedi"),
        ({"ui_locales": "zh-CN it"}, {}, "登录"),
        ({}, {"Accept-Language": "it-IT,it;q=0.9"}, "Accedi"),
        ({}, {"Accept-Language": "zh-CN"}, "登录"),
        ({"ui_locales": "fr"}, {"Accept-Language": "it"}, "Accedi"),
        ({}, {}, "Sign in"),
    ],
)
async def test_pages_are_localised(
    fx: Setup, browser: Browser, extra: dict[str, str], headers: dict[str, str], text: str
) -> None:
    page = await login_page(fx, browser, headers, **extra)
    assert f"<h1>{text}</h1>" in page.text


async def test_consent_page_in_italian(fx: Setup, browser: Browser) -> None:
    page = await login_page(fx, browser, ui_locales="it", scope="openid email")
    consent = await browser.follow(await browser.login(page))
    assert "Consentire l&#39;accesso?" in consent.text or "Consentire l'accesso?" in consent.text
    assert "Vedere il tuo indirizzo email" in consent.text
    assert {("decision", "approve"), ("decision", "deny")} <= set(
        form_with(consent.text, "decision").buttons
    )


async def test_error_page_is_localised(browser: Browser) -> None:
    r = await browser.http.get("/authorize", params={"client_id": "nope", "ui_locales": "zh-CN"})
    assert r.status_code == 400 and "出错了" in r.text


async def test_stylesheet_is_served(browser: Browser) -> None:
    r = await browser.http.get("/static/style.css")
    assert r.status_code == 200 and "text/css" in r.headers["content-type"]


async def test_consent_shows_the_client_logo(fx: Setup, browser: Browser) -> None:
    logo = "https://photos.example/logo.png"
    c = await make_client(fx.app, name="Photos", redirect_uris=(C1_URI,), logo_uri=logo)
    _, challenge = pkce()
    r = await browser.authorize(**code_params(c.client_id, challenge))
    page = await browser.http.get(r.headers["location"])
    consent = await browser.follow(await browser.login(page))
    assert f'<img class="client-logo" src="{logo}" alt="Logo of Photos"' in consent.text
    csp = consent.headers["content-security-policy"]
    assert "img-src 'self' data: https://photos.example;" in csp
    assert "form-action 'self' https://c1.test;" in csp
