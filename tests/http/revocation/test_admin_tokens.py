"""The operator commands under /admin (issue 4 item 3): /admin/tokens/revoke and approve."""

from __future__ import annotations

import httpx2
import pytest

from authgate.config import Settings
from tests.conftest import ISSUER
from tests.parties import Parties, is_active

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, admin_token="admin-secret")


async def _post(http: httpx2.AsyncClient, path: str, body: object) -> httpx2.Response:
    return await http.post(path, json=body, headers=ADMIN)


async def test_revoke_and_approve_a_token(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens()
    revoked = await _post(
        client, "/admin/tokens/revoke", {"token": t.refresh_token, "reason": "support ticket"}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.headers["cache-control"] == "no-store"
    assert revoked.json() | {"message": ""} == {
        "action": "revoke",
        "tokens": 2,
        "grants": 1,
        "cascade": True,
        "dry_run": False,
        "type": "refresh_token",
        "message": "",
    }
    assert not await is_active(client, parties.r1, t.access_token)
    approved = await _post(
        client, "/admin/tokens/approve", {"token": t.access_token, "cascade": False}
    )
    assert approved.json()["tokens"] == 1
    assert await is_active(client, parties.r1, t.access_token)
    assert not await is_active(client, parties.r1, t.refresh_token)
    audit = (await client.get("/admin/audit", headers=ADMIN)).json()["items"]
    assert [(e["action"], e["actor"], e["reason"]) for e in audit][:2] == [
        ("token.approve", "admin-api", None),
        ("token.revoke", "admin-api", "support ticket"),
    ]


async def test_bulk_revoke_with_dry_run(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens(sub=parties.u2)
    dry = await _post(client, "/admin/tokens/revoke", {"user": parties.u2, "dry_run": True})
    assert dry.json()["tokens"] == 2 and dry.json()["dry_run"] is True
    assert await is_active(client, parties.r1, t.access_token)
    done = await _post(client, "/admin/tokens/revoke", {"client_id": parties.c1.client_id})
    assert (done.json()["tokens"], done.json()["grants"]) == (2, 1)
    assert not await is_active(client, parties.r1, t.access_token)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/admin/tokens/revoke", {"token": "unknown"}, 404),
        ("/admin/tokens/revoke", {}, 400),
        ("/admin/tokens/revoke", {"token": "x", "user": "y"}, 400),
        ("/admin/tokens/revoke", {"token": 1}, 400),
        ("/admin/tokens/revoke", {"token": "x", "cascade": "no"}, 400),
        ("/admin/tokens/revoke", {"tokn": "x"}, 400),
        ("/admin/tokens/revoke", [], 400),
        ("/admin/tokens/approve", {"client_id": "c"}, 400),
        ("/admin/tokens/approve", {}, 400),
        ("/admin/tokens/revoke", {"user": "nobody"}, 404),
    ],
)
async def test_bad_requests(
    client: httpx2.AsyncClient, parties: Parties, path: str, body: object, status: int
) -> None:
    assert (await _post(client, path, body)).status_code == status


async def test_expired_or_replayed_approval_is_a_conflict(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    from tests.parties import refresh

    t = await parties.tokens(parties.p1)
    await refresh(client, parties.p1, t.refresh_token)
    await refresh(client, parties.p1, t.refresh_token)  # replay
    response = await _post(client, "/admin/tokens/approve", {"token": t.access_token})
    assert response.status_code == 409
    assert "reuse detection" in response.json()["error_description"]


async def test_admin_api_needs_the_token(client: httpx2.AsyncClient) -> None:
    response = await client.post("/admin/tokens/revoke", json={"token": "x"})
    assert response.status_code == 401
    bad = await client.post(
        "/admin/tokens/revoke", content=b"{}", headers={**ADMIN, "Content-Type": "text/plain"}
    )
    assert bad.status_code == 400
    garbage = await client.post(
        "/admin/tokens/revoke",
        content=b"{",
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert garbage.status_code == 400
