"""RFC 6749 §4.4 client_credentials at the token endpoint, and §5.1/§5.2 responses."""

from __future__ import annotations

import httpx2
import pytest
from tests.helpers import ASGIApp, RegisteredClient, make_client

from authgate.core.tokens import hash_token


@pytest.fixture
async def service(app: ASGIApp) -> RegisteredClient:
    return await make_client(app, name="Billing service", scope="api:read api:write")


async def test_issues_an_opaque_token_and_stores_only_its_hash(
    client: httpx2.AsyncClient, service: RegisteredClient, app: ASGIApp
) -> None:
    response = await client.post(
        "/token", data={"grant_type": "client_credentials", "scope": "api:read"}, auth=service.auth
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "api:read"
    assert "refresh_token" not in body  # RFC 6749 §4.4.3
    async with app.store.transaction(readonly=True) as tx:
        found = await tx.find_access_token(hash_token(body["access_token"]))
    assert found is not None
    token, status = found
    assert token.client_id == service.client_id
    assert token.scope == {"api:read"}
    assert not status.client_retired


async def test_without_scope_the_client_gets_its_registered_scope(
    client: httpx2.AsyncClient, service: RegisteredClient
) -> None:
    response = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=service.auth
    )
    assert response.json()["scope"] == "api:read api:write"


@pytest.mark.spec("RFC 6749 §3.3")
async def test_scope_beyond_the_registration_is_invalid_scope(
    client: httpx2.AsyncClient, service: RegisteredClient
) -> None:
    response = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "api:read admin"},
        auth=service.auth,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert response.headers["cache-control"] == "no-store"


async def test_openid_scopes_are_not_for_client_credentials(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    both = await make_client(
        app,
        redirect_uris=("https://app.test/cb",),
        grant_types=("authorization_code", "client_credentials"),
        scope="openid api:read",
    )
    response = await client.post(
        "/token", data={"grant_type": "client_credentials", "scope": "openid"}, auth=both.auth
    )
    assert response.json()["error"] == "invalid_scope"
    plain = await client.post("/token", data={"grant_type": "client_credentials"}, auth=both.auth)
    assert plain.json()["scope"] == "api:read"


@pytest.mark.spec("RFC 6749 §5.2")
async def test_client_not_registered_for_the_grant_is_unauthorized_client(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    web = await make_client(app, redirect_uris=("https://app.test/cb",))
    response = await client.post("/token", data={"grant_type": "client_credentials"}, auth=web.auth)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.spec("SEC-10")
@pytest.mark.parametrize(
    "grant_type",
    ["password", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer", "foo"],
)
async def test_unsupported_grant_types(
    client: httpx2.AsyncClient, service: RegisteredClient, grant_type: str
) -> None:
    response = await client.post(
        "/token",
        data={"grant_type": grant_type, "username": "alice", "password": "x"},
        auth=service.auth,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_missing_grant_type_is_invalid_request(
    client: httpx2.AsyncClient, service: RegisteredClient
) -> None:
    response = await client.post("/token", data={"scope": "api:read"}, auth=service.auth)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "missing parameter: grant_type",
    }


@pytest.mark.spec("RFC 8707 §2")
async def test_unknown_resource_is_invalid_target(
    client: httpx2.AsyncClient, service: RegisteredClient
) -> None:
    response = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "resource": "https://unknown.test/api"},
        auth=service.auth,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    fragment = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "resource": "https://api.test/#x"},
        auth=service.auth,
    )
    assert fragment.json()["error"] == "invalid_target"


async def test_retired_client_gets_invalid_client(
    client: httpx2.AsyncClient, service: RegisteredClient, app: ASGIApp
) -> None:
    from tests.helpers import now

    from authgate.flows.clients import set_retired

    await set_retired(app.store, service.client_id, retired=True, actor="test", now=now())
    response = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=service.auth
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    await set_retired(app.store, service.client_id, retired=False, actor="test", now=now())
    again = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=service.auth
    )
    assert again.status_code == 200
