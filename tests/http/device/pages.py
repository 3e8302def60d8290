"""The device flow as a test drives it: the device's requests (device authorization, polls)
and a scripted browser at the verification page, by INTERFACE.md field names.
"""

from __future__ import annotations

import re
from typing import Any

import httpx2

from tests.helpers import ASGIApp, RegisteredClient, make_client
from tests.http.authorize.browser import PASSWORD, Browser, forms

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


async def make_device_client(app: ASGIApp, **fields: Any) -> RegisteredClient:
    """SECURITY.md §0 D1: a public device client that may refresh."""
    fields.setdefault("name", "TV app")
    fields.setdefault("public", True)
    fields.setdefault("grant_types", (DEVICE_GRANT, "refresh_token"))
    fields.setdefault("scope", "openid profile offline_access")
    return await make_client(app, **fields)


async def start(
    http: httpx2.AsyncClient,
    d1: RegisteredClient,
    scope: str = "openid offline_access",
    **headers: str,
) -> dict[str, Any]:
    response = await http.post(
        "/device_authorization", data={"client_id": d1.client_id, "scope": scope}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def poll(
    http: httpx2.AsyncClient, d1: RegisteredClient, device_code: object
) -> httpx2.Response:
    return await http.post(
        "/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": d1.client_id},
    )


def browser_at(app: ASGIApp, ip: str = "127.0.0.1", *, like: Browser | None = None) -> Browser:
    """A browser whose requests come from `ip` (with the cookies of `like`: the same
    browser on another network).
    """
    b = Browser(app)
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 4321))
    cookies = like.http.cookies if like else None
    b.http = httpx2.AsyncClient(transport=transport, base_url=b.issuer, cookies=cookies)
    return b


async def enter(browser: Browser, user_code: str, *, typed: str | None = None) -> httpx2.Response:
    """Open verification_uri_complete, confirm (or retype) the code, follow on."""
    page = await browser.http.get("/device", params={"user_code": user_code})
    assert page.status_code == 200, page.text
    value = user_code if typed is None else typed
    return await browser.follow(await browser.submit(page, {"user_code": value}))


async def finish(
    browser: Browser,
    response: httpx2.Response,
    *,
    username: str = "alice",
    password: str = PASSWORD,
    decision: str | None = "approve",
) -> httpx2.Response:
    """Sign in if asked, then press `decision` on the consent page: the page shown after
    (with decision None: the consent page).
    """
    for _ in range(3):
        if 'name="username"' in response.text:
            response = await browser.follow(await browser.login(response, username, password))
        elif 'name="decision"' in response.text and decision is not None:
            response = await browser.follow(await browser.decide(response, decision))
        else:
            break
    return response


async def verify(browser: Browser, user_code: str, **kwargs: Any) -> httpx2.Response:
    """The whole verification: enter the code, sign in if needed, decide; the result page."""
    return await finish(browser, await enter(browser, user_code), **kwargs)


async def seed_live(database_url: str, scope: str = "openid profile offline_access") -> str:
    """D1 and the user alice in a live server's database; D1's client_id."""
    from authgate.config import Settings
    from authgate.core.client_metadata import ClientRegistration
    from authgate.flows import clients, users
    from authgate.server import open_store
    from tests.helpers import now

    settings = Settings(database_url=database_url)
    store = open_store(settings)
    try:
        reg = ClientRegistration(
            name="TV app", public=True, grant_types=(DEVICE_GRANT, "refresh_token"), scope=scope
        )
        client, _ = await clients.create_client(store, settings, reg, now=now())
        await users.create_user(store, username="alice", password=PASSWORD, now=now())
    finally:
        await store.close()
    return client.client_id


def verify_live(
    base_url: str, user_code: str, *, username: str = "alice", decision: str = "approve"
) -> str:
    """A real browser session at a live server's verification page (synchronous, with a
    cookie jar): enter the code, sign in, press `decision`; the result page's text.
    """
    with httpx2.Client(base_url=base_url, timeout=10, follow_redirects=True) as http:
        page = http.get("/device", params={"user_code": user_code})
        for _ in range(4):
            fields = forms(page.text)
            form = next(
                (f for f in fields if {"user_code", "username"} & set(f.fields) or f.buttons),
                None,
            )
            if form is None:
                return page.text
            data = dict(form.fields)
            if "user_code" in data:
                data["user_code"] = user_code
            elif "username" in data:
                data.update(username=username, password=PASSWORD)
            else:
                data["decision"] = decision
            page = http.post(form.action, data=data, headers={"Origin": base_url})
            assert page.status_code == 200, page.text
    raise AssertionError("the verification did not finish")
