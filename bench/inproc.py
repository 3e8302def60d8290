"""CPU cost per request of authgate's hot paths, measured in process (no network, no wrk).

Useful while iterating on a busy machine: it reports process CPU time per request through
the real ASGI app (lifespan, front door, endpoints, store) on SQLite or PostgreSQL, which
other processes barely disturb. Requests are handed to the app as ASGI messages, as uvicorn
would after parsing them, so the figure is the app's own cost; the HTTP parsing and the
socket work that wrk also exercises (~20-40 µs per request, by host) are not in it. Compare runs
with each other, not with wrk's req/s.

    .venv/bin/python bench/inproc.py [--requests 20000] [--only cc_opaque,discovery]
        [--concurrency 32] [--log] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import itertools
import json
import logging.config
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import ASGIApp, basic, lifespan_app, make_client, now

from authgate.config import Settings
from authgate.flows.resources import create_resource
from authgate.server import build_app, skip_unused_log_fields, tune_gc
from authgate.web.observability import log_config


@dataclass
class Call:
    """One request as the server hands it to the app."""

    method: str
    path: str
    form: dict[str, str] | None = None
    auth: dict[str, str] | None = None

    @functools.cached_property
    def _scope(self) -> dict[str, Any]:
        headers = [(b"host", b"127.0.0.1:9000"), (b"user-agent", b"inproc")]
        if self.form is not None:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            headers.append((b"content-length", str(len(self.body)).encode()))
        for name, value in (self.auth or {}).items():
            headers.append((name.lower().encode(), value.encode()))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 9000),
        }

    def scope(self) -> dict[str, Any]:
        """A new scope each time: the app adds to it."""
        scope = dict(self._scope)
        scope["headers"] = list(scope["headers"])
        return scope

    @functools.cached_property
    def body(self) -> bytes:
        return urlencode(self.form or {}).encode()


async def send_call(app: ASGIApp, call: Call) -> tuple[int, bytes]:
    """The status and body of the app's answer to `call`."""
    body = call.body
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # a client that stays connected
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(call.scope(), receive, send)
    return status, b"".join(chunks)


Calls = Callable[[int], Awaitable[Iterator[Call]]]  # n → the scenario's next n calls


async def scenarios(app: ASGIApp) -> dict[str, Calls]:
    service = await make_client(app, scope="api:read", can_introspect=True)
    auth = basic(service.client_id, service.secret or "")
    await create_resource(app.store, uri="urn:bench:es256", alg="ES256", now=now())
    await create_resource(app.store, uri="urn:bench:rs256", alg="RS256", now=now())
    form = {"grant_type": "client_credentials", "scope": "api:read"}
    mint = Call("POST", "/token", form, auth)

    async def live_tokens(n: int) -> Iterator[Call]:
        """Revocations of n tokens issued for the purpose (each is revoked once)."""
        values = []
        for _ in range(n):
            status, body = await send_call(app, mint)
            assert status == 200, body
            values.append(json.loads(body)["access_token"])
        return iter([Call("POST", "/revoke", {"token": value}, auth) for value in values])

    token = json.loads((await send_call(app, mint))[1])["access_token"]
    fixed = {
        "introspect": Call(
            "POST", "/introspect", {"token": token, "token_type_hint": "access_token"}, auth
        ),
        "revoke_unknown": Call("POST", "/revoke", {"token": "unknown-token-value"}, auth),
        "discovery": Call("GET", "/.well-known/openid-configuration"),
        "jwks": Call("GET", "/jwks"),
        "cc_opaque": mint,
        "cc_jwt_es256": Call("POST", "/token", {**form, "resource": "urn:bench:es256"}, auth),
        "cc_jwt_rs256": Call("POST", "/token", {**form, "resource": "urn:bench:rs256"}, auth),
        "healthz": Call("GET", "/healthz"),
    }
    calls: dict[str, Calls] = {name: _repeated(call) for name, call in fixed.items()}
    calls["revoke_live"] = live_tokens
    return calls


def _repeated(call: Call) -> Calls:
    async def calls(n: int) -> Iterator[Call]:
        return itertools.repeat(call, n)

    return calls


async def main(args: argparse.Namespace) -> None:
    only = set(filter(None, args.only.split(","))) or None
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=args.database_url or f"sqlite:///{tmp}/bench.db")
        async with lifespan_app(build_app(settings)) as app:
            tune_gc()  # as a served worker does once the app is built
            for name, make_calls in (await scenarios(app)).items():
                if only and name not in only:
                    continue
                per_task = args.requests // args.concurrency
                calls = await make_calls(200 + per_task * args.concurrency)
                for call in itertools.islice(calls, 200):
                    status, body = await send_call(app, call)
                    assert status == 200, (name, status, body)
                profile = cProfile.Profile() if args.profile else None
                start = time.process_time()
                if profile:
                    profile.enable()
                await asyncio.gather(
                    *(_repeat(app, calls, per_task) for _ in range(args.concurrency))
                )
                if profile:
                    profile.disable()
                    profile.dump_stats(f"{args.profile}.{name}")
                cost = (time.process_time() - start) / (per_task * args.concurrency) * 1e6
                print(f"{name:14s} {cost:8.1f} µs CPU/request")


async def _repeat(app: ASGIApp, calls: Iterator[Call], times: int) -> None:
    for call in itertools.islice(calls, times):
        await send_call(app, call)


def _log_as_served() -> None:
    """The logging of `authgate serve` (one JSON line per request), written to /dev/null."""
    config = log_config("json", "info")
    config["handlers"]["default"]["stream"] = open(os.devnull, "w")  # noqa: SIM115
    logging.config.dictConfig(config)
    skip_unused_log_fields()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--only", default="")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight at once (wrk uses 32)"
    )
    parser.add_argument(
        "--database-url", default="", help="a migrated database (default: a new SQLite file)"
    )
    parser.add_argument(
        "--log", action="store_true", help="log as `authgate serve` does (lines to /dev/null)"
    )
    parser.add_argument("--profile", default="", help="write a cProfile per scenario here")
    arguments = parser.parse_args()
    if arguments.log:
        _log_as_served()
    asyncio.run(main(arguments))
