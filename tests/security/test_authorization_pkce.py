"""SECURITY.md 1.C: PKCE (SEC-18 … SEC-25)."""

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
    redeem,
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


def without_pkce(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if not k.startswith("code_challenge")}


@pytest.mark.spec("SEC-18")
async def test_pkce_is_required_by_default(fx: Setup, browser: Browser) -> None:
    _, challenge = pkce()
    for c in (fx.p1, fx.c1):
        params = code_params(c.client_id, challenge)
        if c is fx.p1:
            params["redirect_uri"] = "http://127.0.0.1/cb"
        r = await browser.authorize(**without_pkce(params))
        assert r.status_code == 302
        assert location_params(r)["error"] == "invalid_request"
        assert "code_challenge" in location_params(r)["error_description"]


@pytest.mark.spec("SEC-19")
async def test_verifier_for_a_code_issued_without_challenge_is_refused(
    app: ASGIApp, browser: Browser, client: httpx2.AsyncClient
) -> None:
    await setup(app)
    opt = await make_client(app, name="Optional", redirect_uris=(C1_URI,), require_pkce=False)
    final = await browser.flow(**without_pkce(code_params(opt.client_id, "")))
    code = location_params(final)["code"]
    verifier, _ = pkce()
    downgrade = await redeem(client, opt, code, verifier)
    assert downgrade.status_code == 400 and downgrade.json()["error"] == "invalid_grant"
    assert (await redeem(client, opt, code, None)).status_code == 200


async def _code(fx: Setup, browser: Browser, challenge: str) -> str:
    final = await browser.flow(**code_params(fx.c1.client_id, challenge))
    return location_params(final)["code"]


@pytest.mark.spec("SEC-20")
async def test_verifier_is_mandatory_after_a_challenge(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    _, challenge = pkce()
    r = await redeem(client, fx.c1, await _code(fx, browser, challenge), None)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


@pytest.mark.spec("SEC-21")
async def test_wrong_verifier_is_refused(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    _, challenge = pkce()
    other, _ = pkce()
    r = await redeem(client, fx.c1, await _code(fx, browser, challenge), other)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


@pytest.mark.spec("SEC-22")
async def test_only_s256(fx: Setup, browser: Browser, client: httpx2.AsyncClient) -> None:
    _verifier, challenge = pkce()
    for method in ("plain", ""):
        params = code_params(fx.c1.client_id, challenge, code_challenge_method=method)
        if not method:
            del params["code_challenge_method"]
        r = await browser.authorize(**params)
        assert location_params(r)["error"] == "invalid_request"
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert md["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.spec("SEC-23")
async def test_the_challenge_is_not_a_verifier(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    _, challenge = pkce()
    r = await redeem(client, fx.c1, await _code(fx, browser, challenge), challenge)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


@pytest.mark.spec("SEC-24")
async def test_pkce_syntax(fx: Setup, browser: Browser, client: httpx2.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await _code(fx, browser, challenge)
    for bad in ("a" * 42, "a" * 129, verifier[:42] + "+"):
        r = await redeem(client, fx.c1, code, bad)
        assert r.status_code == 400 and r.json()["error"] in ("invalid_grant", "invalid_request")
    for bad_challenge in (challenge[:42], challenge[:42] + "="):
        r = await browser.authorize(**code_params(fx.c1.client_id, bad_challenge))
        assert location_params(r)["error"] == "invalid_request"


@pytest.mark.spec("SEC-25")
async def test_valid_pkce_works_for_confidential_clients(
    fx: Setup, browser: Browser, client: httpx2.AsyncClient
) -> None:
    verifier, challenge = pkce()
    r = await redeem(client, fx.c1, await _code(fx, browser, challenge), verifier)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
