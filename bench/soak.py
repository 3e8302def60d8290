"""`make bench-soak`: latency at half the maximum rate, and memory after many requests.

Issue 9's two targets that a closed-loop run cannot show:
- p99 <= 20 ms at half of the measured maximum rate: wrk (closed loop, 32 connections) finds
  the maximum of `client_credentials` (opaque); then an open-loop generator in this process
  sends requests at half that rate on a fixed schedule and measures each latency from the
  moment the request was due, so a stall counts against the server (no coordinated omission);
- one worker's RSS after 10^6 requests (wrk, in chunks, RSS read from /proc between chunks).

The server is pinned to CPU 0 and the load to CPU 1, as in bench/run.py.

Environment: BENCH_DB=sqlite|postgresql (default sqlite), SOAK_REQUESTS (default 1000000),
SOAK_SECONDS (open-loop run, default 30), SOAK_SCENARIO=cc_opaque|introspect (default
cc_opaque), BENCH_LIVE_TOKENS=N (seed N live access tokens first, as bench/run.py does).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import uvloop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (bench/run.py: database, seed, the shared driver)

load = run.load


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children (the uvicorn worker is a child)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            found = [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return []
    return [c for child in found for c in (child, *_children(child))]


def request_bytes(scenario: str, creds: dict[str, str], token: str | None) -> bytes:
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    if scenario == "introspect":
        path, body = "/introspect", f"token={token}"
    else:
        path, body = "/token", "grant_type=client_credentials&scope=api%3Aread"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{run.PORT}\r\n"
        f"Authorization: Basic {basic}\r\nAccept: application/json\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def open_loop(raw: bytes, rate: float, seconds: float, connections: int = 64) -> dict:
    """Requests due every 1/rate s; each goes out on a free keep-alive connection as soon as
    one is free; latency counts from the due time. The generator's own lateness (how long
    after its due time a request was handed to a connection's writer, beyond waiting for a
    free connection) is reported apart: a stall of this process must not pass for the
    server's. Its garbage collector is off during the run (a full collection over the run's
    objects stalled it for hundreds of milliseconds) and finished requests are not kept.
    """
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", run.PORT))
    latencies: list[float] = []
    lateness: list[float] = []
    errors = 0
    total = int(rate * seconds)
    pending: set[asyncio.Task[None]] = set()

    async def one(due: float) -> None:
        nonlocal errors
        lateness.append(time.perf_counter() - due)
        reader, writer = await pool.get()
        writer.write(raw)
        status = await _read_response(reader)
        latencies.append(time.perf_counter() - due)
        if status != 200:
            errors += 1
        pool.put_nowait((reader, writer))

    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter() + 0.1
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(due))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    latencies.sort()
    lateness.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    return {
        "sent": total,
        "achieved_rps": total / elapsed,
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": latencies[-1] * 1000,
        "late_p99_ms": pct(lateness, 0.99),
        "late_max_ms": lateness[-1] * 1000,
        "non_200": errors,
    }


def main() -> None:
    kind = os.environ.get("BENCH_DB", "sqlite")
    requests = int(os.environ.get("SOAK_REQUESTS", "1000000"))
    seconds = float(os.environ.get("SOAK_SECONDS", "30"))
    scenario = os.environ.get("SOAK_SCENARIO", "cc_opaque")
    live = int(os.environ.get("BENCH_LIVE_TOKENS", "0"))
    os.sched_setaffinity(0, {1})  # the load generator's core; the server gets CPU 0
    url, handle = run.database(kind)
    server = None
    try:
        env = {
            "AUTHGATE_DATABASE_URL": url,
            "AUTHGATE_ISSUER": f"http://127.0.0.1:{run.PORT}",
            "AUTHGATE_ACCESS_TOKEN_TTL": "3600",
        }
        creds = run.seed(env, pool=0, live=live)
        server = subprocess.Popen(run.server_cmd(env), shell=True)  # noqa: S602 - our own command
        base = f"http://127.0.0.1:{run.PORT}"
        for _ in range(100):
            try:
                if load.http("GET", f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        token = None
        if scenario == "introspect":
            form = "grant_type=client_credentials&scope=api:read"
            auth = (
                "Basic "
                + base64.b64encode(
                    f"{creds['client_id']}:{creds['client_secret']}".encode()
                ).decode()
            )
            token = json.loads(load.http("POST", f"{base}/token", form, auth)[1])["access_token"]
        raw = request_bytes(scenario, creds, token)
        args = run.driver_args()
        wrk = load.Wrk(args)
        path = "/introspect" if scenario == "introspect" else "/token"
        body = raw.split(b"\r\n\r\n", 1)[1].decode()
        auth_header = next(
            line.split(": ", 1)[1]
            for line in raw.decode().split("\r\n")
            if line.startswith("Authorization")
        )
        wrk_env = {"BENCH_METHOD": "POST", "BENCH_BODY": body, "BENCH_AUTH": auth_header}
        print(
            f"authgate on {kind}, {scenario}, {live:,} live tokens seeded; "
            f"RSS at start {rss_mb(server.pid):.0f} MB"
        )
        peak = wrk.run(f"{base}{path}", wrk_env, 10)
        max_rps = float(peak["rps"])
        print(f"maximum (wrk, 32 connections, 10 s): {max_rps:,.0f} req/s")
        half = uvloop.run(open_loop(raw, max_rps / 2, seconds))
        print(
            f"open loop at {max_rps / 2:,.0f} req/s for {seconds:.0f} s: achieved "
            f"{half['achieved_rps']:,.0f}, p50 {half['p50_ms']:.2f} ms, p99 {half['p99_ms']:.2f}"
            f" ms, max {half['max_ms']:.1f} ms, non-200 {half['non_200']}; the generator's own"
            f" lateness p99 {half['late_p99_ms']:.2f} ms, max {half['late_max_ms']:.1f} ms"
        )
        done = int(peak["requests"]) + half["sent"]
        chunk = 60.0
        while done < requests:
            r = wrk.run(f"{base}{path}", wrk_env, chunk)
            done += int(r["requests"])
            rss = rss_mb(server.pid)
            print(f"after {done:>9,} requests: RSS {rss:.0f} MB ({r['rps']:,.0f} req/s)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        run.drop(handle)


if __name__ == "__main__":
    main()
