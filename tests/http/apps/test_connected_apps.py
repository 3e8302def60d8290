"""Issue 5: the connected apps page. A signed-in user sees the apps holding offline access
(a live grant with a live refresh token) and removes one, which revokes every token of that
grant at once (RevokedBy.USER, SEC-86); another user's grant is a 404 and stays untouched.
"""

from __future__ import annotations

import re

import httpx2
import pytest

from authgate.core.errors import ConflictError
from authgate.core.types import GrantId, RevokedBy
from tests.helpers import make_client
from tests.http.authorize.browser import PASSWORD, Browser, Browsers, form_with, forms
from tests.parties import Parties, is_active, refresh, revoke

ORIGIN = {"Origin": "http://127.0.0.1:8000"}


async def sign_in(browser: Browser, username: str) -> httpx2.Response:
    """Sign in through the page's own form; returns the apps page then shown."""
    page = await browser.http.get("/apps")
    done = await browser.submit(page, {"username": username, "password": PASSWORD})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "http://127.0.0.1:8000/apps"
    return await browser.http.get("/apps")


def listed(page: httpx2.Response) -> set[str]:
    """The grant ids of the apps on the page (one revoke form each)."""
    return {f.action.split("/")[-2] for f in forms(page.text) if f.action.endswith("/revoke")}


async def test_without_a_session_the_page_is_a_sign_in_form(browsers: Browsers) -> None:
    page = await browsers().http.get("/apps")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    form = form_with(page.text, "username")
    assert form.method == "post" and form.action == "/apps/login"
    assert {"username", "password", "csrf_token"} <= set(form.fields)
    assert "authgate_apps=" in page.headers["set-cookie"]
    assert "httponly" in page.headers["set-cookie"].lower()


async def test_lists_only_the_users_live_offline_grants(
    parties: Parties, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    p = parties
    mine = await p.tokens(p.c1, p.u1, "openid profile offline_access")
    used = await p.tokens(p.c2, p.u1, "openid offline_access")
    refreshed = await refresh(client, p.c2, used.refresh_token)
    assert refreshed.status_code == 200
    from tests.helpers import issue_user_tokens

    no_refresh = await issue_user_tokens(p.app, p.c1.client_id, p.u1, "openid", refresh=False)
    revoked = await p.tokens(p.c1, p.u1)
    assert (await revoke(client, p.c1, revoked.refresh_token)).status_code == 200
    theirs = await p.tokens(p.c1, p.u2)

    page = await sign_in(browsers(), "u1")
    assert page.status_code == 200
    assert listed(page) == {mine.grant_id, used.grant_id}
    assert not {no_refresh.grant_id, revoked.grant_id, theirs.grant_id} & listed(page)
    assert "C1" in page.text and "C2" in page.text and "u1" in page.text
    # Scopes in words, as on the consent page; last use shown once the app refreshed.
    assert "See your name, username and profile details" in page.text
    assert 'data-scope="offline_access"' in page.text
    section = page.text.split(f'data-grant="{used.grant_id}"')[1].split("</section>")[0]
    assert "not yet" not in section and " UTC" in section
    first = page.text.split(f'data-grant="{mine.grant_id}"')[1].split("</section>")[0]
    assert "not yet" in first


async def test_revoking_an_app_ends_every_token_of_its_grant(
    parties: Parties, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    p = parties
    tokens = await p.tokens(p.c1, p.u1)
    other = await p.tokens(p.c2, p.u1)
    browser = browsers()
    page = await sign_in(browser, "u1")
    form = next(f for f in forms(page.text) if f.action == f"/apps/{tokens.grant_id}/revoke")
    done = await browser.http.post(form.action, data=form.fields, headers=ORIGIN)
    assert done.status_code == 303
    assert done.headers["location"] == "http://127.0.0.1:8000/apps?revoked=1"
    after = await browser.http.get(done.headers["location"])
    assert "Access removed" in after.text
    assert listed(after) == {other.grant_id}

    assert not await is_active(client, p.r1, tokens.access_token)
    assert not await is_active(client, p.r1, tokens.refresh_token)
    r = await refresh(client, p.c1, tokens.refresh_token)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert await is_active(client, p.r1, other.access_token)
    async with p.app.store.transaction(readonly=True) as tx:
        grant = await tx.find_grant(GrantId(tokens.grant_id))
        entries = await tx.list_audit_entries(limit=5)
    assert grant is not None and grant.revoked_by is RevokedBy.USER
    assert any(
        e.action == "grant.revoke" and e.target == tokens.grant_id and e.actor == "user:" + p.u1
        for e in entries
    )


@pytest.mark.spec("SEC-86")
async def test_operator_approval_does_not_revive_what_the_user_removed(
    parties: Parties, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    from authgate.flows.revoke import operator_token_action
    from tests.helpers import now

    p = parties
    tokens = await p.tokens(p.c1, p.u1)
    browser = browsers()
    page = await sign_in(browser, "u1")
    form = form_with(page.text, "csrf_token")
    assert (await browser.http.post(form.action, data=form.fields)).status_code == 303
    with pytest.raises(ConflictError, match="revoked by the user"):
        await operator_token_action(
            p.app.store, tokens.refresh_token, approve=True, actor="test", now=now()
        )
    assert not await is_active(client, p.r1, tokens.refresh_token)


async def test_another_users_grant_is_not_found_and_stays_live(
    parties: Parties, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    p = parties
    theirs = await p.tokens(p.c1, p.u2)
    mine = await p.tokens(p.c1, p.u1)
    browser = browsers()
    page = await sign_in(browser, "u1")
    token = form_with(page.text, "csrf_token").fields["csrf_token"]
    for grant_id in (theirs.grant_id, "no-such-grant"):
        r = await browser.http.post(
            f"/apps/{grant_id}/revoke", data={"csrf_token": token}, headers=ORIGIN
        )
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert grant_id not in r.text and "C1" not in r.text
    assert await is_active(client, p.r1, theirs.access_token)
    assert await is_active(client, p.r1, theirs.refresh_token)
    assert await is_active(client, p.r1, mine.refresh_token)


async def test_without_a_session_revoke_is_not_found(
    parties: Parties, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    tokens = await parties.tokens()
    browser = browsers()
    page = await browser.http.get("/apps")
    token = form_with(page.text, "csrf_token").fields["csrf_token"]
    r = await browser.http.post(
        f"/apps/{tokens.grant_id}/revoke", data={"csrf_token": token}, headers=ORIGIN
    )
    assert r.status_code == 404
    assert await is_active(client, parties.r1, tokens.refresh_token)


@pytest.mark.spec("SEC-37")
async def test_revoke_without_the_csrf_token_is_refused(
    parties: Parties, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    p = parties
    tokens = await p.tokens(p.c1, p.u1)
    browser = browsers()
    page = await sign_in(browser, "u1")
    valid = form_with(page.text, "csrf_token").fields
    action = f"/apps/{tokens.grant_id}/revoke"
    for data, headers in (
        ({"csrf_token": ""}, ORIGIN),
        ({"csrf_token": "forged"}, ORIGIN),
        (valid, {"Origin": "https://evil.test"}),
        (valid, {"Sec-Fetch-Site": "cross-site"}),
    ):
        r = await browser.http.post(action, data=data, headers=headers)
        assert r.status_code == 403
    # A valid token of another browser does not work either.
    stranger = browsers()
    theirs = form_with((await stranger.http.get("/apps")).text, "csrf_token")
    r = await browser.http.post(action, data=theirs.fields, headers=ORIGIN)
    assert r.status_code == 403
    assert await is_active(client, p.r1, tokens.refresh_token)


@pytest.mark.spec("SEC-43")
async def test_sign_in_is_throttled_like_every_login(parties: Parties, browsers: Browsers) -> None:
    browser = browsers()
    page = await browser.http.get("/apps")
    wrong = await browser.submit(page, {"username": "u1", "password": "wrong password"})
    unknown = await browser.submit(page, {"username": "nobody", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 400
    assert "The username or password is incorrect." in wrong.text
    # The same page either way (the CSRF token differs per response; it is random text that
    # may contain "u1").
    assert _without_csrf(wrong.text).replace("u1", "") == _without_csrf(unknown.text).replace(
        "nobody", ""
    )
    statuses = [
        (await browser.submit(page, {"username": "u1", "password": "wrong"})).status_code
        for _ in range(parties.app.settings.login_max_failures)
    ]
    assert statuses[-1] == 429
    right = await browser.submit(page, {"username": "u1", "password": PASSWORD})
    assert right.status_code == 429 and "Too many attempts" in right.text
    assert "authgate_session" not in right.headers.get("set-cookie", "")


async def test_sign_in_needs_the_csrf_token(parties: Parties, browsers: Browsers) -> None:
    browser = browsers()
    await browser.http.get("/apps")
    r = await browser.http.post(
        "/apps/login", data={"username": "u1", "password": PASSWORD}, headers=ORIGIN
    )
    assert r.status_code == 403
    assert "authgate_session" not in r.headers.get("set-cookie", "")


async def test_page_is_localised_and_shows_a_registered_logo(
    parties: Parties, browsers: Browsers
) -> None:
    p = parties
    logo = "https://cdn.example.test/logo.png"
    c = await make_client(
        p.app,
        name="Fotografie",
        redirect_uris=("https://foto.test/cb",),
        grant_types=("authorization_code", "refresh_token"),
        scope="openid offline_access",
        logo_uri=logo,
    )
    await p.tokens(c, p.u1, "openid offline_access")
    browser = browsers()
    await sign_in(browser, "u1")
    page = await browser.http.get("/apps", headers={"Accept-Language": "it"})
    assert "App collegate" in page.text and "Rimuovi accesso" in page.text
    assert f'src="{logo}"' in page.text
    assert (
        "img-src 'self' data: https://cdn.example.test" in page.headers["content-security-policy"]
    )
    zh = await browser.http.get("/apps", params={"ui_locales": "zh-Hans"})
    assert "已关联的应用" in zh.text


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)
