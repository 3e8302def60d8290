"""Real `authgate serve` processes on free loopback ports, for tests that need TCP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO

import httpx2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]  # stdout and stderr (a file, not a pipe: a full pipe would stall the server)

    def output(self) -> str:
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode(errors="replace")


def cli_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env["AUTHGATE_DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


@contextlib.contextmanager
def live_server(
    database_url: str,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[LiveServer]:
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = cli_env(database_url, {"AUTHGATE_ISSUER": base, **(env or {})})
    log = tempfile.NamedTemporaryFile(prefix="authgate-serve-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "authgate", "serve", "--port", str(port), "--workers", str(workers)],
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = LiveServer(base, process, log)
    try:
        deadline = time.monotonic() + 60  # four workers on a loaded 2-core machine: slow
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"authgate serve exited: {server.output()}")
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("authgate serve did not become healthy in 60 s")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run_cli(
    database_url: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "authgate", *args],
        env=cli_env(database_url, env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
