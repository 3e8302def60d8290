"""Operations of a real `authgate serve`: JSON logs on stderr, metrics summed over workers,
and `authgate db purge` from the command line.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx2
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from authgate.cli import main
from tests.helpers import make_client, now
from tests.live import live_server, run_cli


def _token_requests(text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "authgate_http_requests_total" and sample.labels["route"] == "/token":
                total += sample.value
    return total


@pytest.mark.slow
def test_metrics_add_up_over_workers_and_logs_are_json(db: str) -> None:
    created = run_cli(db, "client", "create", "--name", "Svc", "--scope", "api:read", "--json")
    client = json.loads(created.stdout)
    auth = (client["client_id"], client["client_secret"])
    with live_server(db, workers=2) as server:
        with httpx2.Client(base_url=server.base_url) as http:
            for _ in range(20):
                ok = http.post("/token", data={"grant_type": "client_credentials"}, auth=auth)
                assert ok.status_code == 200
            # each scrape may reach either worker: every one reports the sum of both
            for _ in range(4):
                with httpx2.Client(base_url=server.base_url) as fresh:
                    assert _token_requests(fresh.get("/metrics").text) == 20
        output = server.output()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "authgate.access" and e["path"] == "/token"]
    assert len(access) == 20
    assert {e["client_id"] for e in access} == {client["client_id"]}
    assert client["client_secret"] not in output


async def _expired_tokens(db: str, count: int) -> None:
    from authgate.config import Settings
    from authgate.core.models import AccessToken
    from authgate.core.tokens import hash_token, new_id, new_token
    from authgate.core.types import AccessTokenFormat, ClientId
    from authgate.server import build_app
    from tests.helpers import lifespan_app

    async with lifespan_app(build_app(Settings(database_url=db))) as app:
        registered = await make_client(app, scope="api:read")
        old = now() - timedelta(days=1)
        async with app.store.transaction() as tx:
            for _ in range(count):
                await tx.add_access_token(
                    AccessToken(
                        token_hash=hash_token(new_token()),
                        jti=new_id(),
                        client_id=ClientId(registered.client_id),
                        scope=frozenset(),
                        issued_at=old,
                        expires_at=old + timedelta(minutes=5),
                        token_format=AccessTokenFormat.OPAQUE,
                    )
                )


def test_db_purge_deletes_in_batches_and_dry_run_deletes_nothing(
    db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    asyncio.run(_expired_tokens(db, 5))
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", db)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    runner = CliRunner()
    dry = runner.invoke(main, ["db", "purge", "--dry-run", "--json"], catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["purged"]["access_tokens"] == 5
    done = runner.invoke(main, ["db", "purge", "--batch", "2", "--json"], catch_exceptions=False)
    report = json.loads(done.output)
    assert report["purged"]["access_tokens"] == 5 and not report["dry_run"]
    text = runner.invoke(main, ["db", "purge"], catch_exceptions=False)
    assert "deleted 0 rows" in text.output
    bad = runner.invoke(main, ["db", "purge", "--batch", "0"])
    assert bad.exit_code == 2
