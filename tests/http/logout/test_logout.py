"""OpenID Connect RP-Initiated Logout 1.0 (end_session_endpoint)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from tests.helpers import ASGIApp, make_client
from tests.http.authorize.browser import (
    C1_URI,
    Browser,
    Browsers,
    code_params,
    form_with,
    location_params,
    pkce,
    redeem,
    setup,
)

AFTER = "https://c1.test/bye"


@pytest.fixture
async def browser(app: ASGIApp) -> AsyncIterator[Browser]:
    pool = Browsers(app)
    yield pool()
    await pool.aclose()


async def signed_in(app: ASGIApp, browser: Browser, http: httpx2.AsyncClient) -> tuple[str, str]:
    await setup(app)
    c = await make_client(
        app, name="RP", redirect_uris=(C1_URI,), post_logout_redirect_uris=(AFTER,)
    )
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(c.client_id, challenge))
    body = (await redeem(http, c, location_params(final)["code"], verifier)).json()
    return c.client_id, body["id_token"]


async def test_discovery_advertises_end_session(client: httpx2.AsyncClient) -> None:
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert md["end_session_endpoint"] == "http://127.0.0.1:8000/logout"


async def test_logout_with_hint_redirects_with_state_and_ends_the_session(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    client_id, id_token = await signed_in(app, browser, client)
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": AFTER, "state": "xyz"}
    page = await browser.http.get("/logout", params=params)
    assert page.status_code == 200 and "RP" in page.text
    form = form_with(page.text, "csrf_token")
    done = await browser.http.post(
        form.action, data=form.fields, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert done.status_code == 303 and done.headers["location"] == AFTER + "?state=xyz"
    assert "authgate_session=" in done.headers["set-cookie"]
    _, challenge = pkce()
    r = await browser.authorize(**code_params(client_id, challenge, prompt="none"))
    assert location_params(r)["error"] == "login_required"


async def test_confirmation_needs_the_csrf_token(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    await signed_in(app, browser, client)
    page = await browser.http.get("/logout")
    form = form_with(page.text, "csrf_token")
    forged = await browser.http.post(form.action, data={"csrf_token": "x"})
    assert forged.status_code == 403


async def test_unregistered_post_logout_redirect_uri_is_refused(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    client_id, id_token = await signed_in(app, browser, client)
    for params in (
        {"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.test/"},
        {"client_id": client_id, "post_logout_redirect_uri": AFTER + "/x"},
        {"post_logout_redirect_uri": AFTER},
        {"id_token_hint": "garbage"},
    ):
        r = await browser.http.get("/logout", params=params)
        assert r.status_code == 400 and "location" not in r.headers
        assert r.headers["content-type"].startswith("text/html")


async def test_not_signed_in_goes_straight_back(app: ASGIApp, browser: Browser) -> None:
    await setup(app)
    c = await make_client(
        app, name="RP", redirect_uris=(C1_URI,), post_logout_redirect_uris=(AFTER,)
    )
    r = await browser.http.get(
        "/logout", params={"client_id": c.client_id, "post_logout_redirect_uri": AFTER}
    )
    assert r.status_code == 303 and r.headers["location"] == AFTER
    plain = await browser.http.get("/logout")
    assert plain.status_code == 200 and "csrf_token" not in plain.text
