"""Requests schemathesis found answered with 500, each now a 4xx (issue 8 "Fuzzing")."""

from __future__ import annotations

import httpx2
import pytest

from authgate.config import Settings
from tests.conftest import ISSUER

ADMIN = "admin-token-regress-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, admin_token=ADMIN)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # descriptions quoting the input outside the RFC 6749 §5.2 charset
        ("/admin/resources", {"uri": "\x1f"}),
        ("/admin/resources", {"uri": "https://rs.test", "format": "\u00e9"}),
        ("/admin/clients", {"name": "x", "authorization_details_types": ["\x1f"]}),
        ("/admin/clients", {"name": "x", "\x1f": None}),
        # wrong JSON types for scalar fields
        ("/admin/clients", {"name": "0", "client_uri": [None]}),
        ("/admin/clients", {"name": "0", "jwks": [None]}),
        ("/admin/clients", {"name": "0", "public": "yes"}),
        ("/admin/clients", {"name": 7}),
        # values a column cannot hold
        ("/admin/resources", {"uri": "https://rs.test", "ttl": 2**70}),
    ],
)
async def test_bad_admin_input_is_a_400(
    client: httpx2.AsyncClient, path: str, body: dict[str, object]
) -> None:
    response = await client.post(path, json=body, headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("invalid_")


async def test_text_postgresql_cannot_store_is_refused_not_a_crash(
    client: httpx2.AsyncClient, settings: Settings
) -> None:
    user = {"username": "nul", "password": "a fine long password 1234", "name": "\x00"}
    response = await client.post("/admin/users", json=user, headers=AUTH)
    # SQLite stores a NUL; PostgreSQL text cannot hold one
    assert response.status_code == (201 if settings.is_sqlite else 400), response.text
    long_uri = {"uri": "https://rs.test/" + "a" * 3000}  # VARCHAR(2048)
    response = await client.post("/admin/resources", json=long_uri, headers=AUTH)
    assert response.status_code == (201 if settings.is_sqlite else 400), response.text
