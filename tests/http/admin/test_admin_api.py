"""The operator API under /admin (issue 2 item 6): same actions as the CLI, bearer-protected."""

from __future__ import annotations

import httpx2
import pytest
from tests.http.admin.conftest import ADMIN

AUTH = {"Authorization": f"Bearer {ADMIN}"}


async def test_requires_the_admin_token(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/admin/clients")).status_code == 401
    wrong = await client.get("/admin/clients", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get("/admin/clients", headers=AUTH)).status_code == 200


async def test_client_lifecycle(client: httpx2.AsyncClient) -> None:
    created = await client.post(
        "/admin/clients",
        json={"name": "Svc", "scope": "api:read", "grant_types": ["client_credentials"]},
        headers=AUTH,
    )
    assert created.status_code == 201
    body = created.json()
    cid, secret = body["client_id"], body["client_secret"]
    token = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert token.status_code == 200
    patched = await client.patch(
        f"/admin/clients/{cid}", json={"scope": "api:read api:write"}, headers=AUTH
    )
    assert patched.json()["scope"] == "api:read api:write"
    assert "client_secret" not in patched.json()
    retired = await client.post(f"/admin/clients/{cid}/revoke?reason=test", headers=AUTH)
    assert retired.json()["retired_at"] is not None
    refused = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert refused.status_code == 401
    await client.post(f"/admin/clients/{cid}/approve", headers=AUTH)
    audit = (await client.get("/admin/audit", headers=AUTH)).json()["items"]
    assert [e["action"] for e in audit[:2]] == ["client.approve", "client.revoke"]
    assert audit[1]["actor"] == "admin-api"
    assert (await client.delete(f"/admin/clients/{cid}", headers=AUTH)).status_code == 204
    assert (await client.get(f"/admin/clients/{cid}", headers=AUTH)).status_code == 404
    assert (await client.post(f"/admin/clients/{cid}/explode", headers=AUTH)).status_code == 404


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"name": "x", "redirect_uris": ["http://evil.test/cb"]}, "invalid_redirect_uri"),
        ({"name": "x", "grant_types": ["password"]}, "invalid_client_metadata"),
        ({"name": "x", "colour": "blue"}, "invalid_request"),
        ({"redirect_uris": "https://a.test"}, "invalid_request"),
    ],
)
async def test_bad_registrations_are_400(
    client: httpx2.AsyncClient, payload: dict[str, object], error: str
) -> None:
    response = await client.post("/admin/clients", json=payload, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_users_resources_and_keys(client: httpx2.AsyncClient) -> None:
    user = await client.post(
        "/admin/users", json={"username": "bob", "password": "long enough pw"}, headers=AUTH
    )
    assert user.status_code == 201
    sub = user.json()["sub"]
    dup = await client.post(
        "/admin/users", json={"username": "bob", "password": "long enough pw"}, headers=AUTH
    )
    assert dup.status_code == 409
    disabled = await client.post(f"/admin/users/{sub}/disable", headers=AUTH)
    assert disabled.json()["disabled_at"] is not None
    pw = await client.post(
        "/admin/users/bob/password", json={"password": "another long pw"}, headers=AUTH
    )
    assert pw.status_code == 200
    assert (await client.get("/admin/users", headers=AUTH)).json()["items"][0]["username"] == "bob"
    res = await client.post(
        "/admin/resources", json={"uri": "https://api.test", "alg": "ES256"}, headers=AUTH
    )
    assert res.status_code == 201
    assert (await client.get("/admin/resources", headers=AUTH)).json()["items"][0][
        "uri"
    ] == "https://api.test"
    keys_before = (await client.get("/admin/keys", headers=AUTH)).json()["items"]
    rotated = (await client.post("/admin/keys/rotate", headers=AUTH)).json()["items"]
    assert len(rotated) == len(keys_before) + 2


async def test_admin_api_is_off_without_a_token(db: str) -> None:
    from tests.conftest import ISSUER
    from tests.helpers import lifespan_app

    from authgate.config import Settings
    from authgate.server import build_app

    async with lifespan_app(build_app(Settings(issuer=ISSUER, database_url=db))) as app:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url=ISSUER) as http:
            assert (await http.get("/admin/clients", headers=AUTH)).status_code == 404
