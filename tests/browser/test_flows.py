"""Whole flows in a real Chromium (the pages one by one are in test_pages.py): the code flow
to the client's callback, `prompt=login`, `select_account` with a second account, the device
flow, logout; keyboard focus; and the CSP as the browser enforces it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from tests.browser.conftest import Visit
from tests.browser.test_pages import consent, device_consent, signed_in


def callback_params(v: Visit) -> dict[str, str]:
    assert v.page.url.startswith(v.server.callback + "?"), v.page.url
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(v.page.url).query))


@pytest.mark.spec("SEC-37")
def test_code_flow_login_consent_redirect(visit_factory: Any) -> None:
    v: Visit = visit_factory("it-IT")
    posts: list[dict[str, str]] = []
    v.page.on("request", lambda r: posts.append(r.headers) if r.method == "POST" else None)
    consent(v)
    assert v.page.locator("h1").inner_text() == "Consentire l'accesso?"
    v.submit('button[name="decision"][value="approve"]')
    params = callback_params(v)
    assert params["code"] and params["iss"] == v.server.issuer and "state" in params
    # Chromium's form posts from our no-referrer pages say `Origin: null` (web/csrf.py); the
    # CSRF token is what lets them through.
    assert [p.get("origin") for p in posts] == ["null", "null"]
    assert v.callbacks == [v.page.url] and v.foreign == []


def test_prompt_login_asks_again(visit_factory: Any) -> None:
    v: Visit = visit_factory()
    signed_in(v)
    v.authorize()  # signed in, consent given: straight back to the client
    assert callback_params(v)["code"]
    v.authorize(prompt="login")
    assert v.page.locator('input[name="password"]').count() == 1
    v.sign_in()
    assert callback_params(v)["code"]


def test_select_account_then_another_account(visit_factory: Any) -> None:
    v: Visit = visit_factory("zh-CN")
    signed_in(v)
    v.authorize(prompt="select_account")
    assert "alice" in v.page.locator("form.accounts").inner_text()
    v.submit('button[name="account"][value="another"]')
    v.sign_in("bob")
    if v.page.locator('button[name="decision"]').count():
        assert "bob" in v.page.locator(".intro").inner_text()
        v.submit('button[name="decision"][value="approve"]')
    assert callback_params(v)["code"]


@pytest.mark.parametrize(("decision", "result"), [("approve", "approved"), ("deny", "denied")])
def test_device_flow_enter_confirm_decide(visit_factory: Any, decision: str, result: str) -> None:
    v: Visit = visit_factory()
    device_consent(v)
    code = v.page.locator("[data-user-code]").inner_text()
    qr = v.page.locator("img.qr")
    assert qr.get_attribute("alt") == f"QR code of the code {code}"
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # same origin, CSP allows
    v.submit(f'button[name="decision"][value="{decision}"]')
    assert v.page.locator(f'[data-result="{result}"]').count() == 1


def test_form_post_page_submits_itself_to_the_client(visit_factory: Any) -> None:
    v: Visit = visit_factory()
    signed_in(v)
    posted: list[str] = []
    v.page.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" else None)
    v.authorize(response_mode="form_post")
    v.page.wait_for_url(v.server.callback)
    assert "code=" in posted[-1] and "state=" in posted[-1]
    assert v.foreign == []


def test_logout_confirm_and_done(visit_factory: Any) -> None:
    v: Visit = visit_factory()
    signed_in(v)
    v.goto("/logout")
    v.submit('form[action$="/logout"] button[type="submit"]')
    assert v.page.locator("form").count() == 0
    v.authorize()
    assert v.page.locator('input[name="username"]').count() == 1  # signed out for real


def test_keyboard_focus_order_is_visible(visit_factory: Any) -> None:
    v: Visit = visit_factory()
    v.authorize()
    # autofocus is applied after the page renders, not by the time it has loaded: wait for
    # it (this asserts it happens) before walking the order
    v.page.wait_for_function(
        "() => document.activeElement && document.activeElement.name === 'username'",
        timeout=5000,
    )
    order = []
    for _ in range(3):
        focused = v.page.evaluate(
            "() => [document.activeElement.name || document.activeElement.textContent,"
            " getComputedStyle(document.activeElement).outlineStyle]"
        )
        order.append(focused[0])
        assert focused[1] != "none", f"no visible focus on {focused[0]}"
        v.page.keyboard.press("Tab")
    assert order == ["username", "password", "Sign in"]  # autofocus starts at the username


def test_errors_are_tied_to_their_fields(visit_factory: Any) -> None:
    v: Visit = visit_factory()
    v.authorize()
    v.sign_in(password="wrong")
    for name in ("username", "password"):
        field = v.page.locator(f'input[name="{name}"]')
        assert field.get_attribute("aria-invalid") == "true"
        described = field.get_attribute("aria-describedby")
        assert v.page.locator(f"#{described}[role=alert]").inner_text()
    v.goto("/device")
    v.page.fill('input[name="user_code"]', "nonsense")
    v.submit('form:has(input[name="user_code"]) button[type="submit"]')
    field = v.page.locator('input[name="user_code"]')
    assert field.get_attribute("aria-invalid") == "true"
    ids = (field.get_attribute("aria-describedby") or "").split()
    assert v.page.locator(f"#{ids[0]}[role=alert]").inner_text()


@pytest.mark.spec("SEC-36")
def test_csp_is_enforced(visit_factory: Any) -> None:
    """The page's own CSP, as the browser applies it: an inline script does not run."""
    v: Visit = visit_factory()
    v.authorize()
    ran = v.page.evaluate(
        """() => new Promise(done => {
            document.addEventListener('securitypolicyviolation',
                e => done(['blocked', e.violatedDirective]));
            const s = document.createElement('script');
            s.textContent = 'window.__ran = true';
            document.body.appendChild(s);
            setTimeout(() => done([window.__ran ? 'ran' : 'silent', '']), 2000);
        })"""
    )
    assert ran[0] == "blocked" and ran[1].startswith("script-src")
    assert v.page.evaluate("() => window.__ran") is None
