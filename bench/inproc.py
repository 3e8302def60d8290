"""CPU cost per request of authgate's hot paths, measured in process (no network, no wrk).

Useful while iterating on a busy machine: it reports process CPU time per request through
the real ASGI app on SQLite, which other processes barely disturb. The numbers include the
in-process HTTP client (~0.3-0.4 ms); compare runs with each other, not with wrk's req/s.

    .venv/bin/python bench/inproc.py [--requests 2000] [--only cc_opaque,discovery]
        [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import ASGIApp, lifespan_app, make_client, now

from authgate.config import Settings
from authgate.flows.resources import create_resource
from authgate.server import build_app

Scenario = Callable[[httpx2.AsyncClient], Awaitable[httpx2.Response]]


async def scenarios(app: ASGIApp, http: httpx2.AsyncClient) -> dict[str, Scenario]:
    service = await make_client(app, scope="api:read", can_introspect=True)
    await create_resource(app.store, uri="urn:bench:es256", alg="ES256", now=now())
    await create_resource(app.store, uri="urn:bench:rs256", alg="RS256", now=now())
    form = {"grant_type": "client_credentials", "scope": "api:read"}

    def post(extra: dict[str, str]) -> Scenario:
        return lambda http: http.post("/token", data={**form, **extra}, auth=service.auth)

    token = (await post({})(http)).json()["access_token"]
    introspect = {"token": token, "token_type_hint": "access_token"}
    return {
        "introspect": lambda http: http.post("/introspect", data=introspect, auth=service.auth),
        "revoke_unknown": lambda http: http.post(
            "/revoke", data={"token": "unknown-token-value"}, auth=service.auth
        ),
        "discovery": lambda http: http.get("/.well-known/openid-configuration"),
        "jwks": lambda http: http.get("/jwks"),
        "cc_opaque": post({}),
        "cc_jwt_es256": post({"resource": "urn:bench:es256"}),
        "cc_jwt_rs256": post({"resource": "urn:bench:rs256"}),
        "healthz": lambda http: http.get("/healthz"),
    }


async def main(requests: int, only: set[str] | None, concurrency: int, url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=url or f"sqlite:///{tmp}/bench.db")
        async with lifespan_app(build_app(settings)) as app:
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url=settings.issuer) as http:
                for name, scenario in (await scenarios(app, http)).items():
                    if only and name not in only:
                        continue
                    for _ in range(min(200, requests)):
                        assert (await scenario(http)).status_code == 200, name
                    start = time.process_time()
                    await asyncio.gather(
                        *(
                            _repeat(scenario, http, requests // concurrency)
                            for _ in range(concurrency)
                        )
                    )
                    cost = (time.process_time() - start) / requests * 1e6
                    print(f"{name:14s} {cost:8.0f} µs CPU/request")


async def _repeat(scenario: Scenario, http: httpx2.AsyncClient, times: int) -> None:
    for _ in range(times):
        await scenario(http)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--only", default="")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests in flight at once (wrk uses 32)"
    )
    parser.add_argument(
        "--database-url", default="", help="a migrated database (default: a new SQLite file)"
    )
    args = parser.parse_args()
    only = set(filter(None, args.only.split(","))) or None
    asyncio.run(main(args.requests, only, args.concurrency, args.database_url))
