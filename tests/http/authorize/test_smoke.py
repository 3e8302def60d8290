from __future__ import annotations

import httpx2

from tests.http.authorize.browser import Browser, Setup, code_params, location_params, pkce, redeem


async def test_full_flow(fx: Setup, browser: Browser, client: httpx2.AsyncClient) -> None:
    verifier, challenge = pkce()
    final = await browser.flow(**code_params(fx.c1.client_id, challenge, nonce="n1"))
    assert final.status_code == 303, final.text
    params = location_params(final)
    assert params["state"] == "s"
    token = await redeem(client, fx.c1, params["code"], verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    assert "id_token" in body
    info = await client.get(
        "/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    )
    assert info.status_code == 200, info.text
