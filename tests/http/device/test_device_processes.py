"""The device flow through real `authgate serve --workers 2` processes: REL-04 (many
pollers of one device code) and SEC-64 (one user-code budget for all workers).
"""

from __future__ import annotations

import secrets
from collections import Counter

import anyio
import httpx2
import pytest

from tests.http.device.pages import DEVICE_GRANT, seed_live, verify_live
from tests.live import live_server

pytestmark = pytest.mark.slow


async def _poll_all(base: str, client_id: str, device_code: str, n: int) -> Counter[str]:
    results: list[str] = []
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id}
    async with httpx2.AsyncClient(base_url=base, timeout=30) as http:

        async def one() -> None:
            r = await http.post("/token", data=data)
            results.append("200" if r.status_code == 200 else r.json()["error"])

        async with anyio.create_task_group() as tg:
            for _ in range(n):
                tg.start_soon(one)
    return Counter(results)


@pytest.mark.spec("REL-04")
async def test_twenty_pollers_of_one_device_code_get_one_set_of_tokens(db: str) -> None:
    client_id = await seed_live(db)
    with live_server(db, workers=2) as server:
        async with httpx2.AsyncClient(base_url=server.base_url) as http:
            start = await http.post(
                "/device_authorization", data={"client_id": client_id, "scope": "openid"}
            )
        body = start.json()
        before = await _poll_all(server.base_url, client_id, body["device_code"], 20)
        assert before == Counter({"authorization_pending": 1, "slow_down": 19})
        assert "You can return to your device" in verify_live(server.base_url, body["user_code"])
        after = await _poll_all(server.base_url, client_id, body["device_code"], 20)
        assert after == Counter({"200": 1, "invalid_grant": 19})


@pytest.mark.spec("SEC-64")
@pytest.mark.spec("REL-09")
def test_the_user_code_budget_is_shared_by_every_worker(db: str) -> None:
    statuses = []
    with live_server(db, workers=2) as server:
        for _ in range(20):  # a new browser (connection, cookie) per guess: only the IP is shared
            with httpx2.Client(base_url=server.base_url, timeout=10) as http:
                page = http.get("/device")
                token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
                code = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
                r = http.post(
                    "/device",
                    data={"user_code": code, "csrf_token": token},
                    headers={"Origin": server.base_url},
                )
                statuses.append(r.status_code)
                if r.status_code == 429:
                    assert "Too many attempts" in r.text and "Wait 10 minutes" in r.text
    assert statuses == [400] * 5 + [429] * 15
