"""SECURITY.md 1.E: mix-up and issuer identification (SEC-34, SEC-35)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from tests.helpers import ASGIApp
from tests.http.authorize.browser import (
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


@pytest.mark.spec("SEC-34")
async def test_iss_in_every_authorization_response(
    fx: Setup, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    _, challenge = pkce()
    approved = await browsers().flow(**code_params(fx.c1.client_id, challenge))
    assert "iss=http%3A%2F%2F127.0.0.1%3A8000" in approved.headers["location"]
    denied = await browsers().flow(
        decision="deny", **code_params(fx.c1.client_id, challenge, prompt="consent")
    )
    assert denied.status_code == 303
    assert location_params(denied) | {"error_description": ""} == {
        "error": "access_denied",
        "error_description": "",
        "state": "s",
        "iss": ISS,
    }
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert md["authorization_response_iss_parameter_supported"] is True


@pytest.mark.spec("SEC-35")
async def test_one_issuer_string_everywhere(
    fx: Setup, browsers: Browsers, client: httpx2.AsyncClient
) -> None:
    docs = [
        (await client.get(p)).json()
        for p in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
    ]
    verifier, challenge = pkce()
    final = await browsers().flow(**code_params(fx.c1.client_id, challenge))
    body = (await redeem(client, fx.c1, location_params(final)["code"], verifier)).json()
    _, claims = await verify_id_token(client, body["id_token"])
    assert {docs[0]["issuer"], docs[1]["issuer"], claims["iss"]} == {ISS}
    assert location_params(final)["iss"] == ISS
