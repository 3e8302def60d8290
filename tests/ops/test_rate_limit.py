"""The per-client token endpoint rate limit (issue 8 "Limits"): 429 with Retry-After and
`temporarily_unavailable`, counted in the database so every process shares it.
"""

from __future__ import annotations

import httpx2
import pytest

from authgate.config import Settings
from authgate.server import build_app
from tests.conftest import ISSUER
from tests.helpers import ASGIApp, lifespan_app, make_client

LIMIT = 3
FORM = {"grant_type": "client_credentials"}


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, token_rate_limit_per_minute=LIMIT)


async def test_over_the_limit_the_client_gets_429(client: httpx2.AsyncClient, app: ASGIApp) -> None:
    busy = await make_client(app, scope="api:read")
    calm = await make_client(app, scope="api:read")
    for _ in range(LIMIT):
        assert (await client.post("/token", data=FORM, auth=busy.auth)).status_code == 200
    refused = await client.post("/token", data=FORM, auth=busy.auth)
    assert refused.status_code == 429
    assert refused.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["cache-control"] == "no-store"
    assert (await client.post("/token", data=FORM, auth=calm.auth)).status_code == 200
    metrics = (await client.get("/metrics")).text
    assert 'authgate_rate_limit_hits_total{limit="token"} 1.0' in metrics


async def test_unauthenticated_requests_do_not_use_up_a_clients_budget(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    victim = await make_client(app, scope="api:read")
    for _ in range(LIMIT + 2):
        wrong = await client.post("/token", data=FORM, auth=(victim.client_id, "not-the-secret"))
        assert wrong.status_code == 401
    assert (await client.post("/token", data=FORM, auth=victim.auth)).status_code == 200


async def test_the_count_is_shared_by_every_process(
    client: httpx2.AsyncClient, app: ASGIApp, settings: Settings
) -> None:
    registered = await make_client(app, scope="api:read")
    async with lifespan_app(build_app(settings)) as other_app:
        transport = httpx2.ASGITransport(app=other_app)
        async with httpx2.AsyncClient(transport=transport, base_url=ISSUER) as other:
            statuses = []
            for i in range(LIMIT + 1):
                http = client if i % 2 else other
                statuses.append(
                    (await http.post("/token", data=FORM, auth=registered.auth)).status_code
                )
    assert statuses == [200] * LIMIT + [429]


class TestOff:
    @pytest.fixture
    def settings(self, db: str) -> Settings:
        return Settings(issuer=ISSUER, database_url=db)

    async def test_no_limit_by_default(self, client: httpx2.AsyncClient, app: ASGIApp) -> None:
        registered = await make_client(app, scope="api:read")
        for _ in range(10):
            assert (await client.post("/token", data=FORM, auth=registered.auth)).status_code == 200
