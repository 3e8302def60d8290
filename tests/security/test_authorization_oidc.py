"""SECURITY.md 1.D: state, nonce, prompt, ID token, UserInfo, offline_access (SEC-26 … 33)."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator

import httpx2
import pytest

from authgate.core.jose import half_hash
from authgate.core.types import SigningAlg
from tests.helpers import ASGIApp, make_client
from tests.http.authorize.browser import (
    C1_URI,
    Browser,
    Browsers,
    Setup,
    code_params,
    location_params,
    pkce,
    redeem,
    setup,
)
from tests.http.authorize.tokens import verify_id_token

ISS = "http://127.0.0.1:8000"


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


async def tokens(
    fx: Setup, browser: Browser, http: httpx2.AsyncClient, **extra: str
) -> dict[str, str]:
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, **extra))
    r = await redeem(http, fx.c1, location_params(final)["code"], verifier)
    assert r.status_code == 200, r.text
    body: dict[str, str] = r.json()
    return body


@pytest.mark.spec("SEC-26")
async def test_state_is_echoed_exactly_or_omitted(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    state = ("a%b+c d/é中" * 100)[:1000]
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, state=state))
    assert location_params(final)["state"] == state
    params = code_params(fx.c1.client_id, challenge)
    del params["state"]
    again = await browser.authorize(**params)
    assert "state" not in location_params(again) and "code" in location_params(again)


@pytest.mark.spec("SEC-27")
async def test_nonce_is_copied_and_optional(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    nonce = "n" * 64
    _, claims = await verify_id_token(
        client, (await tokens(fx, browser, client, nonce=nonce))["id_token"]
    )
    assert claims["nonce"] == nonce
    _, claims = await verify_id_token(client, (await tokens(fx, browser, client))["id_token"])
    assert "nonce" not in claims


@pytest.mark.spec("SEC-28")
async def test_prompt_none_never_shows_a_page(fx: Setup, browsers: Browsers) -> None:
    _, challenge = pkce()
    fresh = browsers()
    r = await fresh.authorize(**code_params(fx.c1.client_id, challenge, prompt="none"))
    assert r.status_code == 302 and location_params(r)["error"] == "login_required"
    b = browsers()
    await b.flow(**code_params(fx.c2.client_id, challenge, redirect_uri="https://c2.test/cb"))
    r = await b.authorize(**code_params(fx.c1.client_id, challenge, prompt="none"))
    assert location_params(r)["error"] == "consent_required"
    assert location_params(r)["iss"] == ISS and location_params(r)["state"] == "s"
    await b.flow(**code_params(fx.c1.client_id, challenge))
    r = await b.authorize(**code_params(fx.c1.client_id, challenge, prompt="none"))
    assert r.status_code == 302 and "code" in location_params(r)


@pytest.mark.spec("SEC-29")
async def test_reauthentication_requests(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    first = await tokens(fx, browser, client)
    _, claims1 = await verify_id_token(client, first["id_token"])
    _, challenge = pkce()
    r = await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge, prompt="login"))
    )
    assert 'name="password"' in r.text
    await asyncio.sleep(1.1)
    same = await tokens(fx, browser, client, max_age="10000")
    _, claims2 = await verify_id_token(client, same["id_token"])
    assert (claims2["auth_time"], claims2["sub"]) == (claims1["auth_time"], claims1["sub"])
    r = await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge, max_age="1"))
    )
    assert 'name="password"' in r.text
    again = await tokens(fx, browser, client, max_age="1")
    _, claims3 = await verify_id_token(client, again["id_token"])
    assert claims3["auth_time"] > claims1["auth_time"] and claims3["sub"] == claims1["sub"]


@pytest.mark.spec("SEC-30")
async def test_id_token_is_verifiable_and_well_formed(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    fx = await setup(app)
    issued = await tokens(fx, browser, client)
    header, claims = await verify_id_token(client, issued["id_token"])
    assert header["alg"] == "RS256" and header["typ"] != "at+jwt"
    jwks = (await client.get("/jwks")).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert claims["iss"] == ISS and claims["aud"] == fx.c1.client_id
    assert claims["azp"] == fx.c1.client_id and claims["exp"] > claims["iat"]
    assert claims["at_hash"] == half_hash(issued["access_token"], SigningAlg.RS256)
    assert claims["amr"] == ["pwd"] and "acr" in claims and "sid" in claims
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert "RS256" in md["id_token_signing_alg_values_supported"]
    assert "none" not in md["id_token_signing_alg_values_supported"]
    es = await make_client(
        app, name="ES", redirect_uris=(C1_URI,), id_token_signed_response_alg="ES256"
    )
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(es.client_id, challenge))
    r = await redeem(client, es, location_params(final)["code"], verifier)
    header, _ = await verify_id_token(client, r.json()["id_token"])
    assert header["alg"] == "ES256"


@pytest.mark.spec("SEC-31")
async def test_userinfo_sub_matches_and_bad_tokens_are_refused(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    issued = await tokens(fx, browser, client)
    _, claims = await verify_id_token(client, issued["id_token"])
    auth = {"Authorization": "Bearer " + issued["access_token"]}
    info = await client.get("/userinfo", headers=auth)
    assert info.json()["sub"] == claims["sub"] == fx.u1
    bad = await client.get("/userinfo", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith(
        'Bearer realm="authgate", error="invalid_token"'
    )


@pytest.mark.spec("SEC-95")
async def test_an_id_token_is_not_an_access_token(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    issued = await tokens(fx, browser, client)
    header, _ = await verify_id_token(client, issued["id_token"])
    assert header.get("typ") != "at+jwt"
    id_as_at = await client.get(
        "/userinfo", headers={"Authorization": "Bearer " + issued["id_token"]}
    )
    assert id_as_at.status_code == 401
    assert 'error="invalid_token"' in id_as_at.headers["www-authenticate"]
    looked_up = await client.post(
        "/introspect", data={"token": issued["id_token"]}, auth=fx.c1.auth
    )
    assert looked_up.status_code == 200 and looked_up.json() == {"active": False}
    real = await client.post("/introspect", data={"token": issued["access_token"]}, auth=fx.c1.auth)
    assert real.json()["active"] is True


@pytest.mark.spec("SEC-32")
async def test_refresh_token_only_with_consented_offline_access(
    fx: Setup, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    plain = await tokens(fx, browsers(), client)
    assert "refresh_token" not in plain
    without_consent_prompt = await tokens(fx, browsers(), client, scope="openid offline_access")
    assert "refresh_token" not in without_consent_prompt
    assert "offline_access" not in without_consent_prompt["scope"]
    b = browsers()
    _, challenge = pkce()
    page = await b.follow(
        await b.authorize(
            **code_params(
                fx.c1.client_id, challenge, scope="openid offline_access", prompt="consent"
            )
        )
    )
    page = await b.follow(await b.login(page))
    assert 'data-scope="offline_access"' in page.text and 'class="offline"' in page.text
    offline = await tokens(fx, b, client, scope="openid offline_access", prompt="consent")
    assert "refresh_token" in offline and "offline_access" in offline["scope"]
    # already granted to this client: prompt=consent no longer needed
    again = await tokens(fx, b, client, scope="openid offline_access")
    assert "refresh_token" in again


@pytest.mark.spec("SEC-32")
async def test_plain_oauth_gets_a_refresh_token_with_the_grant(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    await setup(app)
    c = await make_client(
        app,
        name="API",
        redirect_uris=(C1_URI,),
        grant_types=("authorization_code", "refresh_token"),
        scope="api",
    )
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(c.client_id, challenge, scope="api"))
    body = (await redeem(client, c, location_params(final)["code"], verifier)).json()
    assert "refresh_token" in body and "id_token" not in body and body["scope"] == "api"


@pytest.mark.spec("SEC-33")
async def test_consent_page_names_the_client_and_every_scope(
    app: ASGIApp, browser: Browser
) -> None:
    await setup(app)
    name = "<b>Evil & Co</b>"
    c = await make_client(app, name=name, redirect_uris=(C1_URI,), scope="openid profile email <x>")
    _, challenge = pkce()
    page = await browser.follow(
        await browser.authorize(
            **code_params(c.client_id, challenge, scope="openid profile email <x>")
        )
    )
    page = await browser.follow(await browser.login(page))
    assert 'name="decision"' in page.text
    assert html.escape(name) in page.text and name not in page.text
    for scope in ("openid", "profile", "email"):
        assert f'data-scope="{scope}"' in page.text
    assert "&lt;x&gt;" in page.text and "<x>" not in page.text
