"""Issue 4 item 5 and SECURITY.md REL-09: a revocation or approval made through one server
process is seen by another at its next request (two `authgate serve` processes, one
PostgreSQL database; nothing about revocation is cached in a process).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest

from authgate.config import Settings
from authgate.server import build_app
from tests.helpers import ASGIApp, lifespan_app
from tests.parties import Parties, make_parties

ADMIN = {"Authorization": "Bearer two-process-admin"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serve(database_url: str, issuer: str, port: int) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env |= {
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_ISSUER": issuer,
        "AUTHGATE_ADMIN_TOKEN": ADMIN["Authorization"].split()[1],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "authgate", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "authgate serve exited"
            try:
                if httpx2.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "authgate serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def servers(db: str) -> Iterator[tuple[str, str]]:
    port_a, port_b = _free_port(), _free_port()
    issuer = f"http://127.0.0.1:{port_a}"
    with _serve(db, issuer, port_a) as a, _serve(db, issuer, port_b) as b:
        yield a, b


@pytest.fixture
async def parties(db: str, servers: tuple[str, str]) -> AsyncIterator[Parties]:
    settings = Settings(issuer=servers[0], database_url=db)
    async with lifespan_app(build_app(settings)) as app:
        assert isinstance(app, ASGIApp)
        yield await make_parties(app)


@pytest.mark.spec("REL-09")
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_revocation_and_approval_reach_every_process(
    servers: tuple[str, str], parties: Parties
) -> None:
    a, b = servers
    t = await parties.tokens()
    async with httpx2.AsyncClient() as http:

        async def active_at(base: str, token: str) -> bool:
            r = await http.post(base + "/introspect", data={"token": token}, auth=parties.r1.auth)
            assert r.status_code == 200
            return bool(r.json()["active"])

        assert await active_at(b, t.access_token)
        revoked = await http.post(
            a + "/revoke", data={"token": t.refresh_token}, auth=parties.c1.auth
        )
        assert revoked.status_code == 200
        assert not await active_at(b, t.access_token)
        assert not await active_at(b, t.refresh_token)

        u = await parties.tokens(sub=parties.u2)
        assert await active_at(a, u.access_token)
        bulk = await http.post(b + "/admin/tokens/revoke", json={"user": parties.u2}, headers=ADMIN)
        assert bulk.json()["tokens"] == 2
        assert not await active_at(a, u.access_token)
        approved = await http.post(
            a + "/admin/tokens/approve", json={"token": u.refresh_token}, headers=ADMIN
        )
        assert approved.status_code == 200, approved.text
        assert await active_at(b, u.access_token)
        refreshed = await http.post(
            b + "/token",
            data={"grant_type": "refresh_token", "refresh_token": u.refresh_token},
            auth=parties.c1.auth,
        )
        assert refreshed.status_code == 200, refreshed.text
