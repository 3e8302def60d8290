"""`authgate serve` as a real process over TCP (issue 2: the "Done when" checks)."""

from __future__ import annotations

import json

import httpx2
import pytest

from tests.live import live_server, run_cli


def _client(db: str) -> tuple[str, str]:
    result = run_cli(db, "client", "create", "--name", "Svc", "--scope", "api:read", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return data["client_id"], data["client_secret"]


@pytest.mark.spec("SEC-101")
def test_serve_answers_token_requests_over_tcp(db: str) -> None:
    cid, secret = _client(db)
    with live_server(db, env={"AUTHGATE_ACCESS_TOKEN_TTL": "120"}) as server:
        md = httpx2.get(f"{server.base_url}/.well-known/openid-configuration").json()
        assert md["issuer"] == server.base_url
        ok = httpx2.post(
            md["token_endpoint"], data={"grant_type": "client_credentials"}, auth=(cid, secret)
        )
        assert ok.status_code == 200
        assert ok.json()["expires_in"] == 120
        bad = httpx2.post(
            md["token_endpoint"], data={"grant_type": "client_credentials"}, auth=(cid, "x")
        )
        assert bad.status_code == 401
        assert bad.json()["error"] == "invalid_client"
        unsupported = httpx2.post(
            md["token_endpoint"], data={"grant_type": "password"}, auth=(cid, secret)
        )
        assert unsupported.status_code == 400
        assert unsupported.json()["error"] == "unsupported_grant_type"
        assert httpx2.get(f"{server.base_url}/readyz").json() == {"status": "ready"}
        assert "server" not in ok.headers


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_two_processes_share_clients_and_keys(db: str) -> None:
    with live_server(db) as a, live_server(db) as b:
        cid, secret = _client(db)  # created after both started: each sees it at once
        for server in (a, b):
            response = httpx2.post(
                f"{server.base_url}/token",
                data={"grant_type": "client_credentials"},
                auth=(cid, secret),
            )
            assert response.status_code == 200
        assert httpx2.get(f"{a.base_url}/jwks").json() == httpx2.get(f"{b.base_url}/jwks").json()
        run_cli(db, "client", "revoke", cid)
        for server in (a, b):
            refused = httpx2.post(
                f"{server.base_url}/token",
                data={"grant_type": "client_credentials"},
                auth=(cid, secret),
            )
            assert refused.status_code == 401


def test_serve_with_several_workers(db: str) -> None:
    cid, secret = _client(db)
    with live_server(db, workers=2) as server:
        for _ in range(20):
            response = httpx2.post(
                f"{server.base_url}/token",
                data={"grant_type": "client_credentials"},
                auth=(cid, secret),
            )
            assert response.status_code == 200


@pytest.mark.spec("SEC-100")
@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"AUTHGATE_ISSUER": "http://example.test"}, "AUTHGATE_ISSUER"),
        ({"AUTHGATE_DATABASE_URL": "mysql://x"}, "AUTHGATE_DATABASE_URL"),
        ({"AUTHGATE_ACCESS_TOKEN_TTL": "soon"}, "AUTHGATE_ACCESS_TOKEN_TTL"),
        ({"AUTHGATE_CONFIG": "/nonexistent/authgate.toml"}, "AUTHGATE_CONFIG"),
    ],
)
def test_bad_settings_stop_the_server_with_one_line(
    db: str, env: dict[str, str], needle: str
) -> None:
    result = run_cli(db, "serve", "--port", "1", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert needle in lines[0]
