"""SECURITY.md REL-06 with a real PostgreSQL restart under load (soak only).

tests/ops/test_db_outage.py covers REL-06 in the suite through a TCP proxy it can switch
off; this test stops and starts the machine's PostgreSQL itself, which breaks every other
test session using it, so it runs only under `make soak` (AUTHGATE_SOAK=1) and needs
`pg_ctlcluster` and the right to use it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field

import httpx2
import pytest

from tests.live import live_server, run_cli
from tests.reliability import invariants
from tests.reliability.cluster import SOAK

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SOAK, reason="restarts the shared PostgreSQL: make soak only"),
    pytest.mark.skipif(shutil.which("pg_ctlcluster") is None, reason="needs pg_ctlcluster"),
]

CLUSTER = os.environ.get("AUTHGATE_TEST_PG_CLUSTER", "15 main").split()
TIMEOUT = 2.0  # AUTHGATE_DATABASE_TIMEOUT of the server under test
BOUND = 10.0  # REL-06: every request answers within the request timeout (≤ 10 s)
DOWN = 10.0  # seconds PostgreSQL stays down
RECOVERY = 5.0  # full recovery within 5 s of its return


def _pg(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *CLUSTER, action],
        check=True,
        timeout=60,
        capture_output=True,
    )


@dataclass
class Sample:
    at: float
    status: int
    elapsed: float
    retry_after: str | None
    body: str


@dataclass
class Loader:
    base: str
    auth: tuple[str, str]
    samples: list[Sample] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx2.Client(base_url=self.base, timeout=30) as http:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    r = http.post(
                        "/token", data={"grant_type": "client_credentials"}, auth=self.auth
                    )
                except httpx2.TransportError as exc:  # a hang or a dropped connection
                    self.samples.append(
                        Sample(started, 0, time.monotonic() - started, None, str(exc))
                    )
                    continue
                self.samples.append(
                    Sample(
                        started,
                        r.status_code,
                        time.monotonic() - started,
                        r.headers.get("retry-after"),
                        r.text[:200],
                    )
                )
                time.sleep(0.02)  # ≈ 50 requests per second from two threads


@pytest.mark.spec("REL-06")
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgresql_restart_under_load_gives_503_then_recovers(db: str) -> None:
    created = run_cli(db, "client", "create", "--name", "Svc", "--scope", "api:read", "--json")
    client = json.loads(created.stdout)
    env = {"AUTHGATE_DATABASE_TIMEOUT": str(TIMEOUT)}
    with live_server(db, env=env) as server:
        loader = Loader(server.base_url, (client["client_id"], client["client_secret"]))
        threads = [threading.Thread(target=loader.run) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            time.sleep(2)
            stopping = time.monotonic()
            _pg("stop")  # returns once PostgreSQL is down
            down = time.monotonic()
            time.sleep(DOWN)
            starting = time.monotonic()
            _pg("start")
            back = time.monotonic()
            time.sleep(RECOVERY + 5)
        finally:
            loader.stop.set()
            for t in threads:
                t.join()
            status = subprocess.run(
                ["pg_ctlcluster", *CLUSTER, "status"], capture_output=True, check=False
            )
            if status.returncode != 0:  # never leave the shared server down
                _pg("start")
        samples = loader.samples
        errors = [line for line in server.output().splitlines() if "rror" in line][:6]
        odd = [(round(s.at - stopping, 2), s.status, s.body) for s in samples]
        odd = [o for o in odd if o[1] not in (200, 503)]
        assert not odd, (odd[:3], errors)  # I4: only 200 and 503, no 500, no hang
        assert all(s.elapsed <= BOUND for s in samples), max(s.elapsed for s in samples)
        outage = [s for s in samples if down < s.at and s.at + s.elapsed < starting]
        assert outage, "no request during the outage"
        assert all(s.status == 503 for s in outage), ("outage", {s.status for s in outage})
        assert all(s.retry_after and int(s.retry_after) >= 1 for s in outage)
        assert all(json.loads(s.body)["error"] == "temporarily_unavailable" for s in outage)
        recovered = [s for s in samples if s.at > back + RECOVERY]
        late = [(round(s.at - back, 2), s.status) for s in recovered if s.status != 200]
        assert recovered, "no request after the recovery window"
        assert not late, ("not recovered 5 s after PostgreSQL returned", late[:5])
    asyncio.run(invariants.check(db))
