"""SECURITY.md SEC-95 (RFC 9068 §4/§5): an ID token is not an access token."""

from __future__ import annotations

import base64
import json

import httpx2
import pytest

from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, code_params, location_params, pkce, redeem, setup


def _header(jwt: str) -> dict[str, object]:
    head = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))  # type: ignore[no-any-return]


@pytest.mark.spec("SEC-95")
async def test_an_id_token_is_refused_as_a_bearer_token(
    app: ASGIApp, client: httpx2.AsyncClient
) -> None:
    fx = await setup(app)
    browser = Browser(app)
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge))
    await browser.aclose()
    tokens = await redeem(client, fx.c1, location_params(final)["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    id_token, access_token = tokens.json()["id_token"], tokens.json()["access_token"]
    assert _header(id_token).get("typ") != "at+jwt"

    as_bearer = await client.get("/userinfo", headers={"Authorization": f"Bearer {id_token}"})
    assert as_bearer.status_code == 401
    assert 'error="invalid_token"' in as_bearer.headers["www-authenticate"]
    # the access token of the same response works: the refusal is about the token's kind
    ok = await client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert ok.status_code == 200
