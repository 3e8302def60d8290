from __future__ import annotations

import httpx2

from tests.parties import Parties, is_active, refresh, revoke


async def test_smoke(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens()
    r = await refresh(client, parties.c1, t.refresh_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert await is_active(client, parties.r1, body["access_token"])
    assert not await is_active(client, parties.r1, t.refresh_token)
    again = await refresh(client, parties.c1, t.refresh_token)
    assert again.status_code == 400, again.text
    assert not await is_active(client, parties.r1, body["access_token"])
    r = await revoke(client, parties.c1, body["refresh_token"])
    assert r.status_code == 200
