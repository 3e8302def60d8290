"""The pages of limits, in a real Chromium, on their own live server (so that reaching a
limit from 127.0.0.1 does not block the other browser tests): too many sign-in failures
(the error page with 429) and too many wrong device codes (RFC 8628 §5.1).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LOCALES, Visit
from tests.browser.test_pages import Page, check_page

SERVER_ENV = {"AUTHGATE_LOGIN_MAX_FAILURES": "2", "AUTHGATE_USER_CODE_MAX_FAILURES": "2"}


def login_too_many(v: Visit) -> None:
    v.authorize()
    for _ in range(4):
        v.sign_in("mallory", "guess")
        if v.document.status == 429:
            return
    raise AssertionError("the sign-in limit was not reached")


def device_limited(v: Visit) -> None:
    v.goto("/device")
    for last in "KLMN":  # different codes: variants of one wrong code count once (SEC-65)
        if v.document.status == 429:
            return
        v.page.fill('input[name="user_code"]', "BCDF-GHJ" + last)
        v.submit('form:has(input[name="user_code"]) button[type="submit"]')
    assert v.document.status == 429


LIMIT_PAGES = [
    Page("login-too-many", login_too_many, "dl.error-details", 429),
    Page("device-limited", device_limited, "main [role=alert]", 429),
]


@pytest.mark.spec("SEC-43")
@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("spec", LIMIT_PAGES, ids=[p.name for p in LIMIT_PAGES])
def test_limit_page(visit_factory: Any, spec: Page, locale: str) -> None:
    v: Visit = visit_factory(locale)
    spec.reach(v)
    assert v.document.headers["retry-after"].isdigit()
    check_page(v, spec)
