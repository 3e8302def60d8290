"""OIDC Core §3.1.2.1: each authorization request parameter and its effect."""

from __future__ import annotations

import json
import urllib.parse

import httpx2
import pytest

from tests.helpers import ASGIApp, make_client
from tests.http.authorize.browser import (
    C1_URI,
    Browser,
    Browsers,
    Setup,
    code_params,
    form_with,
    location_params,
    pkce,
    redeem,
)
from tests.http.authorize.tokens import verify_id_token


async def code_and_tokens(
    fx: Setup, browser: Browser, http: httpx2.AsyncClient, **extra: str
) -> dict[str, str]:
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, **extra))
    r = await redeem(http, fx.c1, location_params(final)["code"], verifier)
    assert r.status_code == 200, r.text
    body: dict[str, str] = r.json()
    return body


async def test_post_form_serialisation(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    r = await browser.http.post("/authorize", data=code_params(fx.c1.client_id, challenge))
    assert r.status_code == 303 and "/interaction/" in r.headers["location"]


async def test_response_mode_fragment(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, response_mode="fragment"))
    parts = urllib.parse.urlsplit(final.headers["location"])
    assert not parts.query and "code=" in parts.fragment and "iss=" in parts.fragment


async def test_response_mode_form_post(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, response_mode="form_post"))
    assert final.status_code == 200 and "location" not in final.headers
    form = form_with(final.text, "code")
    assert form.action == C1_URI and form.method == "post"
    assert form.fields["state"] == "s" and form.fields["iss"] == "http://127.0.0.1:8000"
    csp = final.headers["content-security-policy"]
    assert "form-action https://c1.test" in csp and "frame-ancestors 'none'" in csp
    assert 'type="submit"' in final.text  # works without JavaScript


async def test_form_post_errors_too(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    r = await browser.authorize(
        **code_params(fx.c1.client_id, challenge, response_mode="form_post", scope="bogus")
    )
    form = form_with(r.text, "error")
    assert form.fields["error"] == "invalid_scope" and form.action == C1_URI


async def test_invalid_response_mode(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    r = await browser.authorize(**code_params(fx.c1.client_id, challenge, response_mode="jwt"))
    assert location_params(r)["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("display", "compact"), [("page", False), ("popup", True), ("touch", True), ("wap", False)]
)
async def test_display(fx: Setup, browser: Browser, display: str, compact: bool) -> None:
    _, challenge = pkce()
    page = await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge, display=display))
    )
    assert ('class="compact"' in page.text) is compact


async def test_prompt_none_with_another_value_is_an_error(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    r = await browser.authorize(**code_params(fx.c1.client_id, challenge, prompt="none login"))
    assert location_params(r)["error"] == "invalid_request"


async def test_login_hint_prefills_the_username(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    page = await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge, login_hint="bob"))
    )
    assert form_with(page.text, "username").fields["username"] == "bob"


async def test_select_account_and_several_accounts(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    await code_and_tokens(fx, browser, client)  # alice
    _, challenge = pkce()
    page = await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge, prompt="select_account"))
    )
    form = form_with(page.text, "account")
    assert ("account", "another") in form.buttons and len(form.buttons) == 2
    page = await browser.follow(await browser.submit(page, {}, ("account", "another")))
    page = await browser.follow(await browser.login(page, "bob"))
    final = await browser.follow(await browser.decide(page))
    assert "code" in location_params(final)
    chooser = await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge))
    )
    assert len(form_with(chooser.text, "account").buttons) == 3  # alice, bob, another
    # several accounts and no hint: prompt=none cannot choose
    r = await browser.authorize(**code_params(fx.c1.client_id, challenge, prompt="none"))
    assert location_params(r)["error"] == "account_selection_required"
    # login_hint picks one
    r = await browser.authorize(
        **code_params(fx.c1.client_id, challenge, prompt="none", login_hint="alice")
    )
    assert "code" in location_params(r)


async def test_choosing_an_account(
    fx: Setup, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    b = browsers()
    await code_and_tokens(fx, b, client)
    _, challenge = pkce()
    page = await b.follow(
        await b.authorize(**code_params(fx.c1.client_id, challenge, prompt="select_account"))
    )
    sid = next(v for n, v in form_with(page.text, "account").buttons if v != "another")
    final = await b.follow(await b.submit(page, {}, ("account", sid)))
    assert "code" in location_params(final)


async def test_id_token_hint(fx: Setup, browsers: Browsers, client: httpx2.AsyncClient) -> None:
    a = browsers()
    tokens = await code_and_tokens(fx, a, client)
    _, challenge = pkce()
    hint = tokens["id_token"]
    r = await a.authorize(
        **code_params(fx.c1.client_id, challenge, prompt="none", id_token_hint=hint)
    )
    assert "code" in location_params(r)
    other = browsers()
    await other.flow(username="bob", **code_params(fx.c1.client_id, challenge))
    r = await other.authorize(
        **code_params(fx.c1.client_id, challenge, prompt="none", id_token_hint=hint)
    )
    assert location_params(r)["error"] == "login_required"  # the hinted user is not signed in
    r = await other.authorize(
        **code_params(fx.c1.client_id, challenge, id_token_hint="not-a-token")
    )
    assert location_params(r)["error"] == "invalid_request"


async def test_claims_parameter_reaches_id_token_and_userinfo(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    claims = {"id_token": {"email": {"essential": True}}, "userinfo": {"name": None}}
    tokens = await code_and_tokens(fx, browser, client, claims=json.dumps(claims))
    _, id_claims = await verify_id_token(client, tokens["id_token"])
    assert id_claims["email"] == "alice@example.test" and "name" not in id_claims
    info = await client.get(
        "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    assert info.json() == {"sub": fx.u1, "name": "Alice"}
    _, challenge = pkce()
    r = await browser.authorize(**code_params(fx.c1.client_id, challenge, claims="[1]"))
    assert location_params(r)["error"] == "invalid_request"


async def test_claims_sub_value(fx: Setup, browser: Browser, client: httpx2.AsyncClient) -> None:
    await code_and_tokens(fx, browser, client)
    _, challenge = pkce()
    wanted = json.dumps({"id_token": {"sub": {"value": fx.u2}}})
    r = await browser.authorize(
        **code_params(fx.c1.client_id, challenge, prompt="none", claims=wanted)
    )
    assert location_params(r)["error"] == "login_required"


async def test_acr_values_and_auth_time(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    tokens = await code_and_tokens(fx, browser, client, acr_values="1", max_age="600")
    _, claims = await verify_id_token(client, tokens["id_token"])
    assert claims["acr"] == "1" and isinstance(claims["auth_time"], int)


async def test_request_objects_are_not_supported(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    for name, error in (
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
    ):
        r = await browser.authorize(**code_params(fx.c1.client_id, challenge, **{name: "x"}))
        assert location_params(r)["error"] == error


async def test_public_native_client_is_asked_every_time(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    params = code_params(fx.p1.client_id, challenge, redirect_uri="http://127.0.0.1/cb")
    first = await browser.flow(**params)
    assert "code" in location_params(first)
    r = await browser.authorize(**params, prompt="none")
    assert location_params(r)["error"] == "interaction_required"  # RFC 8252 §8.6


async def test_remembered_consent_is_asked_once(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    await browser.flow(**code_params(fx.c1.client_id, challenge, scope="openid email"))
    again = await browser.authorize(**code_params(fx.c1.client_id, challenge, scope="openid"))
    assert "code" in location_params(again)
    wider = await browser.follow(
        await browser.authorize(**code_params(fx.c1.client_id, challenge, scope="openid profile"))
    )
    assert 'name="decision"' in wider.text


async def test_consent_page_links_the_policy(app: ASGIApp, fx: Setup, browser: Browser) -> None:
    c = await make_client(
        app, name="Policy", redirect_uris=(C1_URI,), policy_uri="https://c1.test/privacy"
    )
    _, challenge = pkce()
    page = await browser.follow(
        await browser.login(
            await browser.follow(await browser.authorize(**code_params(c.client_id, challenge)))
        )
    )
    assert 'href="https://c1.test/privacy"' in page.text
