"""RFC 8628 §3.3 verification page, driven over HTTP by field names (INTERFACE.md): enter
the code → sign in → device consent → result page → the device's poll (SECURITY.md 1.I at
the page level: SEC-61, SEC-65 … SEC-67, SEC-69; CSRF and framing as SEC-36/SEC-37).
"""

from __future__ import annotations

import re

import anyio
import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authgate.flows.clients import set_retired
from tests.helpers import ASGIApp, RegisteredClient, now
from tests.http.authorize.browser import Browser, Browsers, form_with, forms
from tests.http.device.pages import enter, finish, make_device_client, poll, start, verify


@pytest.mark.spec("SEC-67")
async def test_the_whole_flow_by_field_names(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    body = await start(client, d1, "openid profile offline_access")
    entry = await browser.http.get(body["verification_uri"])
    form = form_with(entry.text, "user_code")
    assert form.method == "post" and set(form.fields) == {"user_code", "csrf_token"}
    assert form.fields["user_code"] == ""
    login = await browser.follow(await browser.submit(entry, {"user_code": body["user_code"]}))
    assert {"username", "password", "csrf_token"} <= set(form_with(login.text, "username").fields)
    consent = await browser.follow(await browser.login(login))
    decision = form_with(consent.text, "decision")
    assert sorted(decision.buttons) == [("decision", "approve"), ("decision", "deny")]
    assert set(decision.fields) == {"csrf_token"}  # the request itself is stored server-side
    assert (await poll(client, d1, body["device_code"])).json()["error"] == "authorization_pending"
    done = await browser.follow(await browser.decide(consent))
    assert done.status_code == 200
    assert "You can return to your device" in done.text
    tokens = await poll(client, d1, body["device_code"])
    assert tokens.status_code == 200, tokens.text
    data = tokens.json()
    assert data["scope"] == "offline_access openid profile"
    keys = KeySet.import_key_set((await client.get("/jwks")).json())
    claims = jwt.decode(data["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["sub"] == u1 and claims["amr"] == ["pwd"] and "auth_time" in claims
    assert "refresh_token" in data


@pytest.mark.spec("SEC-67")
async def test_complete_uri_is_prefilled_never_submitted_and_sso_still_asks(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    first = await start(client, d1)
    await verify(browser, first["user_code"])  # now signed in
    body = await start(client, d1, "openid profile")
    page = await browser.http.get(body["verification_uri_complete"])
    assert page.status_code == 200
    assert form_with(page.text, "user_code").fields["user_code"] == body["user_code"]
    assert "this is the code shown on your device" in page.text
    assert "<script" not in page.text and "http-equiv" not in page.text  # not auto-submitted
    assert (await poll(client, d1, body["device_code"])).json()["error"] == "authorization_pending"
    consent = await browser.follow(await browser.submit(page, {"user_code": body["user_code"]}))
    assert 'name="username"' not in consent.text  # signed in: straight to the consent page
    text = re.sub(r"\s+", " ", consent.text)
    assert "A device is asking to use TV app with your account alice" in text
    assert body["user_code"] in text and "match the one on your device" in text
    assert "Continue only if you started this yourself, on your own device" in text
    assert "Confirm who you are" in text and "See your name, username and profile" in text
    await anyio.sleep(1.1)
    assert (await poll(client, d1, body["device_code"])).json()["error"] == "slow_down"
    await browser.follow(await browser.decide(consent))
    assert (await poll(client, d1, body["device_code"])).status_code == 200


async def test_consent_page_shows_when_and_from_where_the_device_asked(
    app: ASGIApp, client: httpx2.AsyncClient, u1: str, browser: Browser
) -> None:
    tv = await make_device_client(app, name="Living room <TV>", logo_uri="https://tv.test/l.png")
    body = await start(client, tv, "openid", **{"User-Agent": "SmartTV/7 <b>x</b>"})
    consent = await enter(browser, body["user_code"])
    consent = await browser.follow(await browser.login(consent))
    assert "Living room &lt;TV&gt;" in consent.text
    assert "SmartTV/7 &lt;b&gt;x&lt;/b&gt;" in consent.text
    assert "<dd>127.0.0.1</dd>" in consent.text and "UTC" in consent.text
    assert '<img class="client-logo" src="https://tv.test/l.png"' in consent.text
    assert "img-src 'self' data: https://tv.test;" in consent.headers["content-security-policy"]


@pytest.mark.spec("SEC-61")
async def test_deny_shows_the_denied_page_and_the_device_gets_access_denied(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    body = await start(client, d1)
    page = await verify(browser, body["user_code"], decision="deny")
    assert page.status_code == 200 and 'data-result="denied"' in page.text
    assert "TV app was not given access" in page.text
    denied = await poll(client, d1, body["device_code"])
    assert (denied.status_code, denied.json()["error"]) == (400, "access_denied")


@pytest.mark.spec("SEC-66")
async def test_a_used_code_shows_already_used(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browsers: Browsers
) -> None:
    body = await start(client, d1)
    await verify(browsers(), body["user_code"])
    again = await enter(browsers(), body["user_code"])
    assert again.status_code == 400 and "location" not in again.headers
    assert "This code has already been used" in again.text
    assert 'name="decision"' not in again.text


@pytest.mark.spec("SEC-66")
async def test_two_browsers_with_one_code_decide_once(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, u2: str, browsers: Browsers
) -> None:
    body = await start(client, d1)
    a, b = browsers(), browsers()
    consent_a = await finish(a, await enter(a, body["user_code"]), decision=None)
    consent_b = await finish(b, await enter(b, body["user_code"]), username="bob", decision=None)
    assert 'name="decision"' in consent_a.text and 'name="decision"' in consent_b.text
    await a.follow(await a.decide(consent_a))
    late = await b.follow(await b.decide(consent_b))
    assert late.status_code == 400 and "already been used" in late.text
    tokens = (await poll(client, d1, body["device_code"])).json()
    keys = KeySet.import_key_set((await client.get("/jwks")).json())
    assert jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims["sub"] == u1


async def test_consent_twice_is_one_decision(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    body = await start(client, d1)
    consent = await finish(browser, await enter(browser, body["user_code"]), decision=None)
    first = await browser.decide(consent)
    second = await browser.decide(consent, "deny")
    assert first.status_code == second.status_code == 303
    page = await browser.follow(second)
    assert 'data-result="approved"' in page.text
    assert (await poll(client, d1, body["device_code"])).status_code == 200


async def test_use_another_account(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, u2: str, browser: Browser
) -> None:
    await verify(browser, (await start(client, d1))["user_code"])  # signed in as alice
    body = await start(client, d1, "openid")
    consent = await enter(browser, body["user_code"])
    assert "your account alice" in consent.text
    switch = next(f for f in forms(consent.text) if f.action.endswith("/another"))
    login = await browser.follow(
        await browser.http.post(
            switch.action, data=switch.fields, headers={"Origin": browser.issuer}
        )
    )
    consent = await browser.follow(await browser.login(login, "bob"))
    assert "your account bob" in consent.text
    await browser.follow(await browser.decide(consent))
    tokens = (await poll(client, d1, body["device_code"])).json()
    keys = KeySet.import_key_set((await client.get("/jwks")).json())
    assert jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims["sub"] == u2


async def test_wrong_password_shows_the_login_form_again(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    body = await start(client, d1)
    login = await enter(browser, body["user_code"])
    failed = await browser.login(login, password="wrong password")
    assert failed.status_code == 400
    assert "The username or password is incorrect" in failed.text
    consent = await browser.follow(await browser.login(failed))
    assert 'name="decision"' in consent.text


@pytest.mark.spec("SEC-43")
async def test_device_login_has_the_login_limits(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    body = await start(client, d1)
    login = await enter(browser, body["user_code"])
    statuses = []
    for _ in range(app.settings.login_max_failures + 1):
        statuses.append((await browser.login(login, password="wrong password")).status_code)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400}
    right = await browser.login(login)
    assert right.status_code == 429 and "Too many attempts" in right.text


@pytest.mark.spec("SEC-65")
@pytest.mark.parametrize("variant", [str.lower, lambda c: c.replace("-", ""), "spaced"])
async def test_code_variants_find_the_request(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser, variant: object
) -> None:
    body = await start(client, d1)
    code = body["user_code"]
    typed = code.lower().replace("-", " ") if variant == "spaced" else variant(code)  # type: ignore[operator]
    page = await enter(browser, code, typed=typed)
    assert page.status_code == 200 and 'name="username"' in page.text


@pytest.mark.spec("SEC-69")
async def test_reflected_input_is_escaped(client: httpx2.AsyncClient, browser: Browser) -> None:
    attack = "<script>alert(1)</script>"
    page = await browser.http.get("/device", params={"user_code": attack})
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script" not in page.text
    posted = await browser.submit(page, {"user_code": '"><script>alert(2)</script>'})
    assert posted.status_code == 400
    assert "<script" not in posted.text and "&lt;script&gt;alert(2)" in posted.text
    assert "A code has 8 letters" in posted.text


@pytest.mark.spec("SEC-37")
async def test_forms_need_the_csrf_token_of_this_browser(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browsers: Browsers
) -> None:
    body = await start(client, d1)
    browser, other = browsers(), browsers()
    page = await browser.http.get("/device")
    token = form_with(page.text, "user_code").fields["csrf_token"]
    code = {"user_code": body["user_code"]}
    origin = {"Origin": browser.issuer}
    assert (await browser.http.post("/device", data=code, headers=origin)).status_code == 403
    evil = {**code, "csrf_token": token}
    cross = await browser.http.post("/device", data=evil, headers={"Origin": "https://evil.test"})
    assert cross.status_code == 403
    await other.http.get("/device")
    assert (await other.http.post("/device", data=evil, headers=origin)).status_code == 403
    login = await enter(browser, body["user_code"])
    stolen = await other.http.get(login.url)
    assert stolen.status_code == 400 and "unknown in this browser" in stolen.text
    no_token = await browser.http.post(
        form_with(login.text, "username").action,
        data={"username": "alice", "password": "correct horse battery"},
        headers=origin,
    )
    assert no_token.status_code == 403


@pytest.mark.spec("SEC-36")
@pytest.mark.spec("SEC-42")
async def test_every_device_page_is_unframeable_and_not_stored(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    body = await start(client, d1)
    entry = await browser.http.get("/device")
    login = await enter(browser, body["user_code"])
    consent = await browser.follow(await browser.login(login))
    done = await browser.follow(await browser.decide(consent))
    wrong = await enter(browser, "BBBB-BBBB")
    for page in (entry, login, consent, done, wrong):
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        cookie = page.headers.get("set-cookie", "")
        assert "authgate_device=" in cookie and "HttpOnly" in cookie and "Path=/device" in cookie


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("it-IT,it;q=0.9", ("Collega un dispositivo", "Sì, collega il dispositivo")),
        ("zh-CN", ("连接设备", "是，连接设备")),
        ("en", ("Connect a device", "Yes, connect the device")),
    ],
)
async def test_device_pages_are_localised(
    app: ASGIApp,
    client: httpx2.AsyncClient,
    d1: RegisteredClient,
    u1: str,
    language: str,
    texts: tuple[str, str],
) -> None:
    browser = Browser(app)
    browser.http.headers["Accept-Language"] = language
    try:
        body = await start(client, d1)
        entry = await browser.http.get("/device")
        assert texts[0] in entry.text
        consent = await browser.follow(await browser.login(await enter(browser, body["user_code"])))
        assert texts[1] in consent.text
    finally:
        await browser.aclose()


async def test_a_code_of_a_retired_client_is_refused_on_the_page(
    app: ASGIApp, client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browser: Browser
) -> None:
    body = await start(client, d1)
    login = await enter(browser, body["user_code"])
    await set_retired(app.store, d1.client_id, retired=True, actor="test", now=now())
    gone = await browser.http.get(login.url)
    assert gone.status_code == 400 and "no longer available" in gone.text
