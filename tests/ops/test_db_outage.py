"""SECURITY.md REL-06 against a real `authgate serve`: PostgreSQL goes away, requests fail
fast with 503 + Retry-After (JSON `temporarily_unavailable`), /readyz says not ready, and
service returns by itself once the database is back, without restarting authgate.

The machine's PostgreSQL is shared with other test runs, so it is not restarted: authgate
reaches it through a small TCP proxy in this test, which is stopped and started instead.
"Down" drops every connection and refuses new ones (a restart); "blackhole" keeps them open
and forwards nothing (a partition), which only timeouts can end.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator

import httpx2
import pytest

from tests.live import live_server, run_cli

TIMEOUT = 2.0  # AUTHGATE_DATABASE_TIMEOUT for the server under test
# A request may wait for a pooled connection's ping, then for a new connection: each is
# bounded by database_timeout.
BOUND = TIMEOUT + 1.0
RECOVERY = 5.0  # REL-06: full recovery within 5 s of the database's return


class Proxy:
    """127.0.0.1:<port> → PostgreSQL, with a switch: up, down or blackhole."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.state = "up"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._sockets.update(socks)

    def _drop_all(self) -> None:
        with self._lock:
            socks, self._sockets = self._sockets, set()
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.state == "down":
                client.close()
                continue
            if self.state == "blackhole":
                self._track(client)  # accepted, never answered
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self._track(client, upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                break
            if not data:
                break
            if self.state == "blackhole":
                continue
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        self.state = "down"
        self._drop_all()

    def blackhole(self) -> None:
        self.state = "blackhole"

    def up(self) -> None:
        self._drop_all()  # a blackholed connection lost bytes: it cannot be resumed
        self.state = "up"

    def close(self) -> None:
        self._listener.close()
        self._drop_all()


@pytest.fixture
def proxy(db: str) -> Iterator[Proxy]:
    url = urllib.parse.urlsplit(db)
    p = Proxy((url.hostname or "127.0.0.1", url.port or 5432))
    yield p
    p.close()


def _proxied(db: str, port: int) -> str:
    url = urllib.parse.urlsplit(db)
    netloc = url.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urllib.parse.urlunsplit(
        url._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host)
    )


def _timed(call: object) -> tuple[httpx2.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def _assert_unavailable(response: httpx2.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed <= BOUND, f"took {elapsed:.1f}s"


@pytest.mark.spec("REL-06")
@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
@pytest.mark.parametrize("outage", ["down", "blackhole"])
def test_database_outage_gives_503_then_recovers_without_restart(
    db: str, proxy: Proxy, outage: str
) -> None:
    created = run_cli(db, "client", "create", "--name", "Svc", "--scope", "api:read", "--json")
    client = json.loads(created.stdout)
    auth = (client["client_id"], client["client_secret"])
    env = {"AUTHGATE_DATABASE_TIMEOUT": str(TIMEOUT), "AUTHGATE_JANITOR_INTERVAL": "0"}
    with (
        live_server(_proxied(db, proxy.port), env=env) as server,
        httpx2.Client(base_url=server.base_url, timeout=30) as http,
    ):

        def token() -> httpx2.Response:
            return http.post("/token", data={"grant_type": "client_credentials"}, auth=auth)

        for _ in range(3):  # fill the pool
            assert token().status_code == 200
        getattr(proxy, outage)()
        for _ in range(3):
            _assert_unavailable(*_timed(token))
        _assert_unavailable(*_timed(lambda: http.get("/readyz")))
        assert http.get("/healthz").status_code == 200  # alive, only not ready
        assert http.get("/metrics").status_code == 200  # still observable

        proxy.up()
        back = time.monotonic()
        while token().status_code != 200:
            assert time.monotonic() - back <= RECOVERY, "no recovery within 5 s"
            time.sleep(0.1)
        assert all(token().status_code == 200 for _ in range(10))
        assert http.get("/readyz").status_code == 200
        log = server.output()
    assert '"level": "error"' not in log  # an outage is a warning, not a crash
    assert "database unavailable" in log
