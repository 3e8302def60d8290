"""Refresh token lifetimes: the grant's absolute lifetime (`refresh_token_ttl`, never
extended by rotation) and the idle timeout (`refresh_token_idle_ttl`).
"""

from __future__ import annotations

import anyio
import httpx2
import pytest

from authgate.config import Settings
from tests.conftest import ISSUER
from tests.helpers import make_client
from tests.parties import Parties, is_active, refresh


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, refresh_token_ttl=2, refresh_token_idle_ttl=1)


@pytest.mark.spec("SEC-55")
async def test_rotation_never_extends_the_absolute_lifetime(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(parties.p1)
    await anyio.sleep(0.6)
    first = await refresh(client, parties.p1, t.refresh_token)
    assert first.status_code == 200, first.text
    rt = first.json()["refresh_token"]
    await anyio.sleep(0.6)
    second = await refresh(client, parties.p1, rt)  # used within the idle window: still fine
    assert second.status_code == 200, second.text
    await anyio.sleep(0.9)  # 2.1 s after the grant began
    late = await refresh(client, parties.p1, second.json()["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert "absolute lifetime" in late.json()["error_description"]


async def test_idle_timeout(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens(parties.p1)
    await anyio.sleep(1.1)
    assert not await is_active(client, parties.r1, t.refresh_token)
    response = await refresh(client, parties.p1, t.refresh_token)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "unused for too long" in response.json()["error_description"]


async def test_idle_deadline_slides_without_rotation(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    c3 = await make_client(
        parties.app,
        name="C3",
        redirect_uris=("https://c3.test/cb",),
        grant_types=("authorization_code", "refresh_token"),
        rotate_refresh_tokens=False,
    )
    t = await parties.tokens(c3)
    for _ in range(2):
        await anyio.sleep(0.6)
        response = await refresh(client, c3, t.refresh_token)
        assert response.status_code == 200, response.text  # 1.2 s in, idle limit 1 s
    await anyio.sleep(1.1)
    assert (await refresh(client, c3, t.refresh_token)).json()["error"] == "invalid_grant"
