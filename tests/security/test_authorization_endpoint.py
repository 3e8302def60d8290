"""SECURITY.md 1.A: the authorization endpoint and redirect URIs (SEC-01 … SEC-11)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from tests.helpers import ASGIApp, make_client
from tests.http.authorize.browser import (
    C1_URI,
    Browser,
    Browsers,
    Setup,
    code_params,
    location_params,
    pkce,
    setup,
)


@pytest.fixture
async def fx(app: ASGIApp) -> Setup:
    return await setup(app)


@pytest.fixture
async def browser(app: ASGIApp) -> AsyncIterator[Browser]:
    pool = Browsers(app)
    yield pool()
    await pool.aclose()


def assert_error_page(response: httpx2.Response) -> None:
    """SECURITY.md §0 "error page": HTML, 400/403, no Location, nothing pointing away."""
    assert response.status_code in (400, 403), response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "http-equiv" not in response.text.lower()
    assert "<script" not in response.text.lower()
    assert "evil" not in response.text


BAD_URIS = [
    "https://c1.test/cb/extra",
    "https://c1.test/cb/",
    "https://c1.test/cb/../cb",
    "https://c1.test/cb?x=1",
    "https://c1.test/cb#f",
    "HTTPS://C1.TEST/cb",
    "https://c1.test:443/cb",
    "https://c1.test.evil.test/cb",
    "https://c1.test@evil.test/cb",
    "https://c1.test/%63b",
    "https://c1.test/cb%0d%0aLocation:x",
]


@pytest.mark.spec("SEC-01")
async def test_unregistered_redirect_uri_gets_an_error_page(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    for uri in BAD_URIS:
        params = code_params(fx.c1.client_id, challenge, redirect_uri=uri)
        assert_error_page(await browser.authorize(**params))


@pytest.mark.spec("SEC-02")
async def test_query_is_part_of_the_exact_match(app: ASGIApp, browser: Browser) -> None:
    await setup(app)
    c = await make_client(app, name="Q", redirect_uris=("https://c1.test/cb?x=1",))
    _, challenge = pkce()
    ok = await browser.authorize(
        **code_params(c.client_id, challenge, redirect_uri="https://c1.test/cb?x=1")
    )
    assert ok.status_code == 303 and "/interaction/" in ok.headers["location"]
    for uri in ("https://c1.test/cb?x=2", "https://c1.test/cb?x=1&y=2", "https://c1.test/cb"):
        bad = await browser.authorize(**code_params(c.client_id, challenge, redirect_uri=uri))
        assert_error_page(bad)


@pytest.mark.spec("SEC-02")
async def test_registered_query_is_kept_in_the_response(app: ASGIApp, browser: Browser) -> None:
    await setup(app)
    c = await make_client(app, name="Q", redirect_uris=("https://c1.test/cb?x=1",))
    _, challenge = pkce()
    final = await browser.flow(
        **code_params(c.client_id, challenge, redirect_uri="https://c1.test/cb?x=1")
    )
    assert final.headers["location"].startswith("https://c1.test/cb?x=1&code=")


@pytest.mark.spec("SEC-03")
async def test_only_loopback_redirects_may_vary_the_port(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    params = code_params(fx.p1.client_id, challenge, redirect_uri="http://127.0.0.1:53123/cb")
    final = await browser.flow(**params)
    assert final.headers["location"].startswith("http://127.0.0.1:53123/cb?code=")
    params["redirect_uri"] = "http://127.0.0.1:53123/cb2"
    assert_error_page(await browser.authorize(**params))


@pytest.mark.spec("SEC-04")
async def test_redirect_uri_required_with_several_registered(
    app: ASGIApp, browser: Browser
) -> None:
    c = await make_client(app, name="Two", redirect_uris=(C1_URI, "https://c1.test/cb2"))
    _, challenge = pkce()
    params = code_params(c.client_id, challenge, scope="openid")
    del params["redirect_uri"]
    assert_error_page(await browser.authorize(**params))


@pytest.mark.spec("SEC-05")
async def test_unknown_or_missing_client_never_redirects(browser: Browser) -> None:
    _, challenge = pkce()
    params = code_params("nope", challenge, redirect_uri="https://evil.test/cb")
    assert_error_page(await browser.authorize(**params))
    del params["client_id"]
    assert_error_page(await browser.authorize(**params))


@pytest.mark.spec("SEC-06")
async def test_errors_after_verification_redirect_with_state_and_iss(
    fx: Setup, browser: Browser
) -> None:
    _, challenge = pkce()
    bad_scope = await browser.authorize(
        **code_params(fx.c1.client_id, challenge, scope="openid bogus")
    )
    assert bad_scope.status_code == 302
    assert bad_scope.headers["location"].startswith(C1_URI + "?")
    assert location_params(bad_scope) | {"error_description": ""} == {
        "error": "invalid_scope",
        "error_description": "",
        "state": "s",
        "iss": "http://127.0.0.1:8000",
    }
    token = await browser.authorize(
        **code_params(fx.c1.client_id, challenge, response_type="token")
    )
    assert location_params(token)["error"] == "unsupported_response_type"
    missing = await browser.authorize(**code_params(fx.c1.client_id, challenge, response_type=""))
    assert location_params(missing)["error"] == "invalid_request"


@pytest.mark.spec("SEC-07")
async def test_no_cors_on_the_authorization_endpoint(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    headers = {"Origin": "https://evil.test"}
    get = await browser.http.get(
        "/authorize", params=code_params(fx.c1.client_id, challenge), headers=headers
    )
    options = await browser.http.options("/authorize", headers=headers)
    for response in (get, options):
        assert not any(h.startswith("access-control-") for h in response.headers)


@pytest.mark.spec("SEC-08")
async def test_unknown_parameters_are_ignored(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, extra="foobar"))
    assert "code" in location_params(final)


@pytest.mark.spec("SEC-09")
async def test_repeated_parameters_are_refused(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    _, challenge = pkce()
    query = httpx2.QueryParams(code_params(fx.c1.client_id, challenge)).add(
        "redirect_uri", "https://evil.test/cb"
    )
    assert_error_page(await browser.http.get("/authorize", params=query))
    token = await client.post(
        "/token",
        content="grant_type=authorization_code&code=a&code=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=fx.c1.auth,
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_request"


@pytest.mark.spec("SEC-10")
async def test_only_the_code_flow_exists(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    _, challenge = pkce()
    for response_type in ("token", "id_token token", "id_token", "code id_token"):
        r = await browser.authorize(
            **code_params(fx.c1.client_id, challenge, response_type=response_type)
        )
        assert location_params(r)["error"] == "unsupported_response_type"
    password = await client.post(
        "/token",
        data={"grant_type": "password", "username": "alice", "password": "x"},
        auth=fx.c1.auth,
    )
    assert password.json()["error"] == "unsupported_grant_type"
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert md["response_types_supported"] == ["code"]
    assert "authorization_code" in md["grant_types_supported"]
    assert not {"password", "implicit"} & set(md["grant_types_supported"])


@pytest.mark.spec("SEC-11")
async def test_unregistered_grant_is_refused(app: ASGIApp, browser: Browser) -> None:
    # SEC-11's rule at the authorization endpoint: a client registered without the
    # authorization_code grant gets unauthorized_client (the device endpoint is issue 6's).
    c = await make_client(
        app, name="Device only", redirect_uris=(C1_URI,), grant_types=("client_credentials",)
    )
    _, challenge = pkce()
    r = await browser.authorize(**code_params(c.client_id, challenge, scope="api"))
    assert location_params(r)["error"] == "unauthorized_client"
