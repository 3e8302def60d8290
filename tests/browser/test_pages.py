"""Every page a person sees, in a real Chromium, in English, Italian and Simplified Chinese:
axe-core finds no serious or critical violation (light and dark mode), `lang` matches the
locale, the security headers are there and the page asks nothing of another origin. With
AUTHGATE_SCREENSHOTS=<folder> (`make screenshots`) each page is also photographed on a
desktop and on a 390 px wide phone.

A page is one entry of PAGES: a name, how a browser gets there, and what must be on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.browser.conftest import AXE, DESKTOP, LOCALES, PHONE, Visit

AXE_SOURCE = AXE.read_text(encoding="utf-8") if AXE.exists() else ""
BLOCKING = ("serious", "critical")


# How a browser reaches each page ------------------------------------------------------------


def login(v: Visit) -> None:
    v.authorize()


def login_failed(v: Visit) -> None:
    v.authorize()
    v.sign_in(password="not the password")


def consent(v: Visit) -> None:
    v.authorize(prompt="consent")  # asked even when alice allowed Photo Album before
    v.sign_in()


def signed_in(v: Visit) -> None:
    """alice signed in at the client (consent given if it was asked), back at its callback."""
    v.authorize()
    v.sign_in()
    if v.page.locator('button[name="decision"]').count():
        v.submit('button[name="decision"][value="approve"]')
    assert v.page.url.startswith(v.server.callback + "?code=")


def select_account(v: Visit) -> None:
    signed_in(v)
    v.authorize(prompt="select_account")


def logout_confirm(v: Visit) -> None:
    signed_in(v)
    v.goto("/logout")


def logout_done(v: Visit) -> None:
    logout_confirm(v)
    v.submit('form button[type="submit"]')


def error(v: Visit) -> None:
    v.goto("/authorize?client_id=nope&response_type=code")


def error_expired_form(v: Visit) -> None:
    v.authorize()
    v.page.context.clear_cookies()  # the form's CSRF token no longer matches this browser
    v.sign_in()


def form_post(v: Visit) -> None:
    """OAuth 2.0 Form Post Response Mode as a browser without its script sees it (with it,
    the page submits itself at once): the button that takes the response to the client.
    """
    signed_in(v)
    v.page.route("**/static/form_post.js", lambda route: route.abort())
    v.authorize(response_mode="form_post")


def apps_sign_in(v: Visit) -> None:
    v.goto("/apps")


def apps(v: Visit) -> None:
    """The connected apps page listing Photo Album (allowed offline access)."""
    v.authorize(prompt="consent", scope="openid profile offline_access")
    v.sign_in()
    v.submit('button[name="decision"][value="approve"]')
    assert "refresh_token" in v.redeem()
    v.goto("/apps")
    if v.page.locator('input[name="password"]').count():
        v.sign_in()


def device_entry(v: Visit) -> None:
    v.goto("/device")


def device_unknown_code(v: Visit) -> None:
    v.goto("/device")
    v.page.fill('input[name="user_code"]', "BCDF-GHJK")
    v.submit('form:has(input[name="user_code"]) button[type="submit"]')


def device_login(v: Visit) -> None:
    v.goto("/device")
    v.page.fill('input[name="user_code"]', v.device_code())
    v.submit('form:has(input[name="user_code"]) button[type="submit"]')


def device_consent(v: Visit) -> None:
    device_login(v)
    v.sign_in()


def device_approved(v: Visit) -> None:
    device_consent(v)
    v.submit('button[name="decision"][value="approve"]')


def device_denied(v: Visit) -> None:
    device_consent(v)
    v.submit('button[name="decision"][value="deny"]')


@dataclass(frozen=True)
class Page:
    name: str
    reach: Callable[[Visit], None]
    selector: str  # present on that page, whatever the language
    status: int = 200
    script: bool = False  # the page runs its own (external, 'self') script


PAGES = [
    Page("login", login, 'input[name="username"]:not([aria-invalid])'),
    Page("login-failed", login_failed, 'input[name="password"][aria-invalid="true"]', 400),
    Page("consent", consent, 'button[name="decision"][value="approve"]'),
    Page("select-account", select_account, 'button[name="account"][value="another"]'),
    Page("logout", logout_confirm, 'form[action$="/logout"]'),
    Page("logout-done", logout_done, "main:not(:has(form))"),
    Page("form-post", form_post, "form#form_post", script=True),
    Page("apps-sign-in", apps_sign_in, 'form input[name="password"]'),
    Page("apps", apps, "section.app[data-grant] form button"),
    Page("error", error, "dl.error-details", 400),
    Page("error-expired-form", error_expired_form, "dl.error-details", 403),
    Page("device-entry", device_entry, 'input[name="user_code"]:not([aria-invalid])'),
    Page("device-unknown-code", device_unknown_code, 'input[aria-invalid="true"]', 400),
    Page("device-login", device_login, 'input[name="password"]'),
    Page("device-consent", device_consent, "[data-user-code]"),
    Page("device-approved", device_approved, '[data-result="approved"]'),
    Page("device-denied", device_denied, '[data-result="denied"]'),
]


# What every page must satisfy ---------------------------------------------------------------


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core run in the page. Injected through DevTools evaluation, which the page's CSP
    does not govern: the page itself keeps its real CSP (test_csp_is_enforced checks it).
    """
    page.evaluate(AXE_SOURCE)
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return list(result["violations"])


def check_headers(v: Visit, spec: Page) -> None:
    headers = v.document.headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    if spec.script:
        assert "script-src 'self';" in csp
    else:
        assert "script-src" not in csp
    assert "style-src 'self'" in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def screenshots(v: Visit, name: str) -> None:
    folder = v.server.screenshots
    if folder is None:
        return
    stem = f"{name}-{v.lang}"
    v.page.emulate_media(color_scheme="light")
    v.page.screenshot(path=str(folder / f"{stem}-desktop.png"), full_page=True)
    v.page.set_viewport_size(PHONE)
    v.page.screenshot(path=str(folder / f"{stem}-phone.png"), full_page=True)
    v.page.emulate_media(color_scheme="dark")
    v.page.screenshot(path=str(folder / f"{stem}-phone-dark.png"), full_page=True)
    v.page.set_viewport_size(DESKTOP)
    v.page.emulate_media(color_scheme="light")


@pytest.mark.spec("SEC-40")
@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_page(visit_factory: Any, spec: Page, locale: str) -> None:
    v: Visit = visit_factory(locale)
    spec.reach(v)
    check_page(v, spec)


def check_page(v: Visit, spec: Page) -> None:
    page = v.page
    assert v.document.status == spec.status, page.content()[:2000]
    assert page.locator(spec.selector).count() >= 1, page.content()[:2000]
    assert page.get_attribute("html", "lang") == v.lang
    check_headers(v, spec)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found = [x for x in axe_violations(page) if x["impact"] in BLOCKING]
        summary = [(x["id"], x["impact"], [n["target"] for n in x["nodes"]]) for x in found]
        assert not found, f"{scheme}: {json.dumps(summary, ensure_ascii=False)}"
    screenshots(v, spec.name)
    assert v.foreign == [], "requests to another origin"
