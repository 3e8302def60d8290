"""Request size limits apply to every endpoint that reads a body or parameters
(`max_body_bytes`, `max_param_length`, at most 200 parameters).
"""

from __future__ import annotations

import httpx2
import pytest

from authgate.config import Settings
from tests.conftest import ISSUER

ADMIN = "admin-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(
        issuer=ISSUER, database_url=db, admin_token=ADMIN, max_body_bytes=2048, max_param_length=100
    )


@pytest.mark.parametrize("chunked", [False, True])
async def test_bodies_over_the_cap_get_413(client: httpx2.AsyncClient, chunked: bool) -> None:
    form = b"grant_type=client_credentials&scope=" + b"a" * 4096

    async def stream():  # no Content-Length: the cap holds while reading
        yield form

    response = await client.post(
        "/token",
        content=stream() if chunked else form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    admin = await client.post(
        "/admin/clients",
        content=b'{"name": "' + b"n" * 4096 + b'"}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert admin.status_code == 413


async def test_long_and_numerous_parameters_are_refused(client: httpx2.AsyncClient) -> None:
    long = await client.post(
        "/token", data={"grant_type": "client_credentials", "scope": "a" * 101}
    )
    assert long.status_code == 400
    assert long.json()["error"] == "invalid_request"
    many = "&".join(f"p{i}=1" for i in range(201))
    response = await client.post(
        "/token", content=many, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert "too many parameters" in response.json()["error_description"]
