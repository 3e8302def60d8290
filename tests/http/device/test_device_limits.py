"""RFC 8628 §5.1 brute-force limits at the verification page (SECURITY.md SEC-64, SEC-65):
5 failed codes per 10 minutes per client IP and per browser, then a 429 "too many attempts,
wait N minutes" page that looks nothing up, a valid code included.
"""

from __future__ import annotations

import secrets

import anyio
import httpx2
import pytest

from authgate.core.tokens import expiry
from authgate.flows.user_codes import TOTAL
from tests.helpers import ASGIApp, RegisteredClient, now
from tests.http.authorize.browser import Browser, form_with
from tests.http.device.pages import browser_at, enter, start

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def random_code() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


async def wrong(browser: Browser, code: str | None = None) -> httpx2.Response:
    return await enter(browser, code or random_code())


def assert_limited(page: httpx2.Response, minutes: int = 10) -> None:
    assert page.status_code == 429, page.text
    assert "Too many attempts" in page.text
    assert f"Wait {minutes} minutes, then try again." in page.text
    assert 0 < int(page.headers["retry-after"]) <= minutes * 60
    assert 'name="user_code"' not in page.text and "location" not in page.headers


@pytest.mark.spec("SEC-64")
async def test_twenty_wrong_codes_from_one_ip_hit_the_limit_then_even_a_valid_code_is_refused(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    body = await start(client, d1)
    statuses = []
    for _ in range(20):  # a new browser each time: only the IP ties them together
        b = browser_at(app, "198.51.100.7")
        statuses.append((await wrong(b)).status_code)
        await b.http.aclose()
    assert statuses == [400] * 5 + [429] * 15
    b = browser_at(app, "198.51.100.7")
    assert_limited(await enter(b, body["user_code"]))
    elsewhere = browser_at(app, "203.0.113.9")
    assert (await enter(elsewhere, body["user_code"])).status_code == 200
    for x in (b, elsewhere):
        await x.http.aclose()


@pytest.mark.spec("SEC-64")
async def test_the_limit_holds_per_browser_across_ips(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    body = await start(client, d1)
    first = browser_at(app, "198.51.100.10")
    await first.http.get("/device")  # the device cookie
    for n in range(5):  # one browser, a new IP each time
        b = browser_at(app, f"198.51.100.{n + 11}", like=first)
        assert (await wrong(b)).status_code == 400
        await b.http.aclose()
    b = browser_at(app, "198.51.100.99", like=first)
    assert_limited(await enter(b, body["user_code"]))
    for x in (first, b):
        await x.http.aclose()


@pytest.mark.spec("SEC-64")
async def test_a_success_does_not_reset_the_counter(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    body = await start(client, d1)
    b = browser_at(app, "192.0.2.5")
    for _ in range(4):
        assert (await wrong(b)).status_code == 400
    assert (await enter(b, body["user_code"])).status_code == 200  # found: the login page
    assert (await wrong(b)).status_code == 400  # the 5th failure
    assert_limited(await wrong(b))
    await b.http.aclose()


@pytest.mark.spec("SEC-65")
async def test_variants_of_one_wrong_code_count_once(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    b = browser_at(app, "192.0.2.6")
    for typed in ("BBBB-BBBB", "bbbb-bbbb", "BBBBBBBB", "bbbb bbbb", " Bbbb-bbbB "):
        assert (await enter(b, "BBBB-BBBB", typed=typed)).status_code == 400
    for _ in range(4):  # 4 more distinct wrong codes: 5 failures in all
        assert (await wrong(b)).status_code == 400
    assert_limited(await wrong(b))
    await b.http.aclose()


async def test_entries_that_cannot_be_codes_are_not_counted(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    b = browser_at(app, "192.0.2.8")
    for typed in ("hello", "AAAA-AAAA", "BCDF-GHJ", "BCDF-GHJK-L", "12345678", "ＢＣＤＦＧＨＪＫ"):
        page = await enter(b, "x", typed=typed)
        assert page.status_code == 400 and "A code has 8 letters" in page.text
    for _ in range(5):
        assert (await wrong(b)).status_code == 400
    assert_limited(await wrong(b))
    await b.http.aclose()


@pytest.mark.spec("SEC-64")
async def test_parallel_guesses_from_one_ip_get_no_more_than_the_budget(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    """The check and the count are one step per source (PostgreSQL: an advisory lock per
    bucket; SQLite: serial write transactions): 20 guesses at once, 5 are looked up.
    """
    pages = []
    for _ in range(20):
        b = browser_at(app, "198.51.100.77")
        page = await b.http.get("/device")
        pages.append((b, form_with(page.text, "user_code").fields["csrf_token"]))
    statuses: list[int] = []

    async def guess(b: Browser, token: str) -> None:
        data = {"user_code": random_code(), "csrf_token": token}
        r = await b.http.post("/device", data=data, headers={"Origin": b.issuer})
        statuses.append(r.status_code)

    async with anyio.create_task_group() as tg:
        for b, token in pages:
            tg.start_soon(guess, b, token)
    assert sorted(statuses) == [400] * 5 + [429] * 15
    for b, _ in pages:
        await b.http.aclose()


@pytest.mark.spec("SEC-64")
async def test_the_global_ceiling(app: ASGIApp) -> None:
    """Every source under its own limit, the total at the ceiling: everyone waits."""
    ceiling = app.settings.user_code_global_max_failures
    async with app.store.transaction() as tx:
        for _ in range(ceiling - 1):  # failures counted elsewhere in this window
            await tx.hit_rate_limit(TOTAL, now=now(), window_ends_at=expiry(now(), 300))
    b = browser_at(app, "192.0.2.50")
    assert (await wrong(b)).status_code == 400  # the 1000th failure
    other = browser_at(app, "192.0.2.51")
    assert_limited(await wrong(other), minutes=5)
    for x in (b, other):
        await x.http.aclose()
