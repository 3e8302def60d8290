"""RFC 9068 JWT access tokens for registered resource servers (RFC 8707 `resource`)."""

from __future__ import annotations

import base64
import json

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from tests.helpers import ASGIApp, RegisteredClient, make_client, now

from authgate.flows.resources import create_resource


def _header(token: str) -> dict[str, object]:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
async def service(app: ASGIApp) -> RegisteredClient:
    for alg in ("ES256", "RS256"):
        await create_resource(
            app.store,
            uri=f"https://api.test/{alg.lower()}",
            token_format="jwt",
            alg=alg,
            ttl=300,
            now=now(),
        )
    return await make_client(app, scope="api:read")


@pytest.mark.spec("SEC-94")
@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_jwt_for_a_resource_is_signed_and_carries_rfc9068_claims(
    client: httpx2.AsyncClient, service: RegisteredClient, alg: str
) -> None:
    resource = f"https://api.test/{alg.lower()}"
    response = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "resource": resource, "scope": "api:read"},
        auth=service.auth,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 300
    token = body["access_token"]
    header = _header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == alg
    jwks = (await client.get("/jwks")).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    claims = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=[alg]).claims
    assert claims["iss"] == "http://127.0.0.1:8000"
    assert claims["aud"] == resource
    assert claims["sub"] == service.client_id
    assert claims["client_id"] == service.client_id
    assert claims["scope"] == "api:read"
    assert claims["exp"] - claims["iat"] == 300
    assert len(claims["jti"]) >= 16


@pytest.mark.spec("SEC-94")
async def test_jtis_are_distinct(client: httpx2.AsyncClient, service: RegisteredClient) -> None:
    jtis = set()
    for _ in range(20):
        response = await client.post(
            "/token",
            data={"grant_type": "client_credentials", "resource": "https://api.test/es256"},
            auth=service.auth,
        )
        payload = response.json()["access_token"].split(".")[1]
        jtis.add(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])
    assert len(jtis) == 20


@pytest.mark.spec("SEC-98")
async def test_opaque_tokens_have_at_least_128_bits(
    client: httpx2.AsyncClient, service: RegisteredClient
) -> None:
    tokens = set()
    for _ in range(50):
        response = await client.post(
            "/token", data={"grant_type": "client_credentials"}, auth=service.auth
        )
        token = response.json()["access_token"]
        assert len(token) >= 43
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        tokens.add(token)
    assert len(tokens) == 50


@pytest.mark.spec("REL-10")
async def test_rotation_keeps_signing_until_the_new_key_activates(
    client: httpx2.AsyncClient, service: RegisteredClient, app: ASGIApp
) -> None:
    from authgate.flows.keys import rotate_keys

    before = _header(
        (
            await client.post(
                "/token",
                data={"grant_type": "client_credentials", "resource": "https://api.test/es256"},
                auth=service.auth,
            )
        ).json()["access_token"]
    )["kid"]
    new = await rotate_keys(app.store, app.settings, now=now())  # new keys sign in key_cache_ttl
    app.state["ctx"].keys.invalidate()
    response = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "resource": "https://api.test/es256"},
        auth=service.auth,
    )
    assert response.status_code == 200
    kid = _header(response.json()["access_token"])["kid"]
    assert kid not in {k.kid for k in new}  # the new keys do not sign yet...
    published = {k["kid"] for k in (await client.get("/jwks")).json()["keys"]}
    assert {k.kid for k in new} | {before, kid} <= published  # ...but are published at once
