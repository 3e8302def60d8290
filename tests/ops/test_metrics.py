"""GET /metrics (issue 8): Prometheus text format, route templates, token and janitor
counters, table rows, and who may scrape.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx2
import pytest

from authgate.config import Settings
from authgate.core.models import AccessToken
from authgate.core.tokens import hash_token, new_id, new_token
from authgate.core.types import AccessTokenFormat, ClientId
from authgate.server import build_app
from tests.conftest import ISSUER
from tests.helpers import ASGIApp, lifespan_app, make_client, metric_samples, now

METRICS_TOKEN = "metrics-token-0123456789"


_samples = metric_samples


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text).get((name, frozenset(labels.items())), 0.0)


async def _scrape(client: httpx2.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    registered = await make_client(app, scope="api:read")
    ok = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=registered.auth
    )
    assert ok.status_code == 200
    bad = await client.post("/token", data={"grant_type": "client_credentials"}, auth=("x", "y"))
    assert bad.status_code == 401
    await client.get(f"/admin/clients/{registered.client_id}")  # 404: admin API off
    await client.get("/no/such/path/" + new_id())
    text = await _scrape(client)
    assert _value(text, "authgate_http_requests_total", route="/token", method="POST", status="200")
    assert _value(text, "authgate_http_requests_total", route="/token", method="POST", status="401")
    labels = {"route": "/admin/clients/{client_id}", "method": "GET", "status": "404"}
    assert _value(text, "authgate_http_requests_total", **labels) == 1
    assert _value(
        text, "authgate_http_requests_total", route="unmatched", method="GET", status="404"
    )
    assert registered.client_id not in text  # no client id, path or token becomes a label
    count = _value(text, "authgate_http_request_duration_seconds_count", route="/token")
    assert count == 2
    inf = _value(text, "authgate_http_request_duration_seconds_bucket", route="/token", le="+Inf")
    assert inf == 2
    issued = {"grant_type": "client_credentials", "token_type": "access", "format": "opaque"}
    assert _value(text, "authgate_tokens_issued_total", **issued) == 1
    assert (
        _value(text, "authgate_table_rows", table="signing_keys") >= 2 or not app.settings.is_sqlite
    )
    assert ("authgate_table_rows", frozenset({("table", "clients")})) in _samples(text)


async def test_revocations_by_the_client_are_counted(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    """RFC 7009: each token a client revokes counts once in authgate_tokens_revoked_total;
    revoking it again, or an unknown value, counts nothing.
    """
    registered = await make_client(app, scope="api:read")
    form = {"grant_type": "client_credentials"}
    tokens = [
        (await client.post("/token", data=form, auth=registered.auth)).json()["access_token"]
        for _ in range(2)
    ]
    for value in (*tokens, tokens[0], "unknown-" + new_id()):
        revoked = await client.post("/revoke", data={"token": value}, auth=registered.auth)
        assert revoked.status_code == 200
    text = await _scrape(client)
    assert _value(text, "authgate_tokens_revoked_total", reason="client") == 2


async def test_jwt_access_tokens_are_counted_as_jwt(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    registered = await make_client(app, scope="api:read", access_token_format="jwt")
    ok = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=registered.auth
    )
    assert ok.status_code == 200
    text = await _scrape(client)
    issued = {"grant_type": "client_credentials", "token_type": "access", "format": "jwt"}
    assert _value(text, "authgate_tokens_issued_total", **issued) == 1


@pytest.fixture
def janitor_settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, janitor_interval=1, janitor_retention=0)


@pytest.fixture
async def janitor_app(janitor_settings: Settings) -> AsyncIterator[ASGIApp]:
    async with lifespan_app(build_app(janitor_settings)) as running:
        yield running


@pytest.mark.spec("REL-11")
async def test_the_background_janitor_purges_and_counts(janitor_app: ASGIApp) -> None:
    import anyio

    registered = await make_client(janitor_app, scope="api:read")
    when = now() - timedelta(minutes=5)
    expired = AccessToken(
        token_hash=hash_token(new_token()),
        jti=new_id(),
        client_id=ClientId(registered.client_id),
        scope=frozenset(),
        issued_at=when,
        expires_at=when + timedelta(minutes=1),
        token_format=AccessTokenFormat.OPAQUE,
    )
    async with janitor_app.store.transaction() as tx:
        await tx.add_access_token(expired)
    transport = httpx2.ASGITransport(app=janitor_app)
    async with httpx2.AsyncClient(transport=transport, base_url=ISSUER) as http:
        with anyio.fail_after(10):
            while True:
                text = await _scrape(http)
                if _value(text, "authgate_janitor_rows_purged_total", table="access_tokens"):
                    break
                await anyio.sleep(0.2)
    async with janitor_app.store.transaction(readonly=True) as tx:
        assert await tx.find_access_token(expired.token_hash) is None


class TestAccess:
    @pytest.fixture
    def settings(self, db: str) -> Settings:
        return Settings(issuer=ISSUER, database_url=db, metrics_token=METRICS_TOKEN)

    async def test_a_metrics_token_is_required_when_set(self, client: httpx2.AsyncClient) -> None:
        refused = await client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        text = await _scrape(client, Authorization=f"Bearer {METRICS_TOKEN}")
        assert re.search(r"^authgate_http_requests_total\{", text, re.M)


class TestPublicIssuer:
    @pytest.fixture
    def settings(self, db: str) -> Settings:
        return Settings(issuer="https://auth.example.test", database_url=db)

    async def test_metrics_are_off_without_a_token(self, client: httpx2.AsyncClient) -> None:
        assert (await client.get("/metrics")).status_code == 404


def test_tallied_latencies_are_what_histogram_observe_makes() -> None:
    """Observations are handed to prometheus_client once per loop turn, as a sum and a
    count per bucket (web/metrics.py): the exposition equals one observe() per value.
    """
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from authgate.web.metrics import _BUCKETS, Metrics

    values = [0.0001, 0.005, 0.0051, 0.03, 0.03, 0.7, 2.4, 10.0, 11.0, 60.0]
    metrics = Metrics()
    for seconds in values:
        metrics.observe_request("/token", "POST", 200, seconds)
    metrics.observe_request("/token", "BREW", 418, 0.001)
    metrics.flush()
    registry = CollectorRegistry()
    reference = Histogram(
        "authgate_http_request_duration_seconds",
        "x",
        ["route"],
        buckets=_BUCKETS,
        registry=registry,
    )
    for seconds in [*values, 0.001]:
        reference.labels("/token").observe(seconds)

    def latency(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        return {
            key: value
            for key, value in _samples(text).items()
            if key[0].startswith("authgate_http_request_duration_seconds")
            and not key[0].endswith("_created")
        }

    ours = generate_latest(metrics.registry).decode()
    assert latency(ours) == latency(generate_latest(registry).decode())
    assert (
        _value(ours, "authgate_http_requests_total", route="/token", method="POST", status="200")
        == 10
    )
    assert (
        _value(ours, "authgate_http_requests_total", route="/token", method="OTHER", status="418")
        == 1
    )
