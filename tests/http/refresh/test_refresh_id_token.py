"""OIDC Core §12.2: a refresh of a grant with `openid` returns a new ID token."""

from __future__ import annotations

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.helpers import ASGIApp, issue_user_tokens, make_client, make_user


async def _verify(client: httpx2.AsyncClient, token: str) -> dict[str, object]:
    keys = KeySet.import_key_set((await client.get("/jwks")).json())
    return dict(jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims)


@pytest.mark.spec("OIDC Core §12.2")
async def test_refresh_returns_a_new_id_token_with_the_original_auth_time(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    web = await make_client(
        app, redirect_uris=("https://app.test/cb",), scope="openid profile offline_access"
    )
    sub = await make_user(app)
    tokens = await issue_user_tokens(app, web.client_id, sub, "openid profile offline_access")
    async with app.store.transaction(readonly=True) as tx:
        from authgate.core.types import GrantId

        grant = await tx.find_grant(GrantId(tokens.grant_id))
    assert grant is not None
    assert grant.auth_time is not None
    response = await client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        auth=web.auth,
    )
    assert response.status_code == 200, response.text
    claims = await _verify(client, response.json()["id_token"])
    assert claims["sub"] == sub
    assert claims["aud"] == web.client_id
    assert claims["iss"] == "http://127.0.0.1:8000"
    assert claims["auth_time"] == int(grant.auth_time.timestamp())
    assert "nonce" not in claims
    narrowed = await client.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": response.json()["refresh_token"],
            "scope": "profile offline_access",
        },
        auth=web.auth,
    )
    assert narrowed.status_code == 200
    assert "id_token" not in narrowed.json()


async def test_a_grant_without_openid_gets_no_id_token(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    web = await make_client(
        app, redirect_uris=("https://app.test/cb",), scope="api:read offline_access"
    )
    tokens = await issue_user_tokens(
        app, web.client_id, await make_user(app), "api:read offline_access"
    )
    response = await client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        auth=web.auth,
    )
    assert response.status_code == 200
    assert "id_token" not in response.json()
