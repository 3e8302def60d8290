"""Issue 9 item 4: the number of SQL statements and transactions each hot-path request
costs, pinned, so that speed does not erode silently. A change that adds a statement to one
of these paths fails here; if the statement is needed, update the number and say why.

Counted at the store's executors (every statement a mixin sends, prepared or not) and at
`SqlStore.transaction`, on both databases, through the real app over HTTP. Every statement
of these paths must also be a `Prepared` one (compiled once per dialect): an ad-hoc Core
statement costs several times its prepared form in compilation and result set-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from authgate.flows.resources import create_resource
from authgate.store.sql import store as sql_store, tx_base
from authgate.store.sql.prepared import Prepared
from tests.helpers import ASGIApp, RegisteredClient, issue_user_tokens, make_client, make_user, now

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class Counts:
    statements: int = 0
    transactions: int = 0
    unprepared: list[str] = field(default_factory=list)


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counts]:
    counts = Counts()
    for cls in (tx_base.SyncExecutor, tx_base.PgExecutor):
        original = cls.execute

        async def execute(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counts.statements += 1
            if not isinstance(args[0], Prepared):
                counts.unprepared.append(str(args[0]).split("\n")[0][:60])
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "execute", execute)
    original_tx = sql_store.SqlStore.transaction

    @asynccontextmanager
    async def transaction(self: Any, **kwargs: Any) -> Any:
        counts.transactions += 1
        async with original_tx(self, **kwargs) as tx:
            yield tx

    monkeypatch.setattr(sql_store.SqlStore, "transaction", transaction)
    yield counts
    monkeypatch.undo()


Request = Callable[[], Awaitable[httpx2.Response]]


@dataclass
class World:
    client: httpx2.AsyncClient
    app: ASGIApp
    service: RegisteredClient
    web: RegisteredClient


@pytest.fixture
async def world(client: httpx2.AsyncClient, app: ASGIApp) -> World:
    service = await make_client(
        app,
        scope="api:read openid",
        grant_types=("client_credentials", DEVICE),
        can_introspect=True,
    )
    web = await make_client(
        app, redirect_uris=("https://app.test/cb",), scope="openid api:read offline_access"
    )
    await create_resource(app.store, uri="urn:bench:es256", alg="ES256", now=now())
    return World(client, app, service, web)


async def _cc(w: World, **extra: str) -> httpx2.Response:
    return await w.client.post(
        "/token", data={"grant_type": "client_credentials", **extra}, auth=w.service.auth
    )


async def measure(monkeypatch: pytest.MonkeyPatch, request: Request) -> Counts:
    await request()  # warm caches (keys, compiled statements) outside the count
    with counting(monkeypatch) as counts:
        response = await request()
    assert response.status_code < 500
    return counts


# path → (statements, transactions)
EXPECTED = {
    "discovery": (0, 0),
    "jwks": (0, 0),
    "cc_opaque": (2, 1),
    "cc_jwt": (3, 1),  # + the resource lookup
    "introspect_opaque": (2, 1),
    "revoke_unknown": (2, 1),  # client, what the value is (one read over the four tables)
    # client and access token read, then its revocation: one single-write transaction
    "revoke_fresh": (3, 1),
    "device_auth": (2, 1),  # client, insert (taking over an expired holder of the user code)
    "device_poll": (3, 1),  # client, device code (locked), polling state
    # read, lock the grant, read again under the lock (REL-03), rotate, issue, ID token's user,
    # replay bookkeeping, touch: the price of rotation with reuse detection
    "refresh": (12, 1),
    "userinfo": (3, 1),
}


async def _scenarios(w: World) -> dict[str, Request]:
    sub = await make_user(w.app)
    pool = [
        await issue_user_tokens(w.app, w.web.client_id, sub, "openid api:read offline_access")
        for _ in range(2)
    ]
    fresh = iter([(await _cc(w)).json()["access_token"] for _ in range(2)])
    device = (
        await w.client.post("/device_authorization", data={"scope": "openid"}, auth=w.service.auth)
    ).json()
    refreshes = iter(p.refresh_token for p in pool)
    user_at = pool[0].access_token
    opaque = (await _cc(w)).json()["access_token"]
    return {
        "discovery": lambda: w.client.get("/.well-known/openid-configuration"),
        "jwks": lambda: w.client.get("/jwks"),
        "cc_opaque": lambda: _cc(w),
        "cc_jwt": lambda: _cc(w, resource="urn:bench:es256"),
        "introspect_opaque": lambda: w.client.post(
            "/introspect", data={"token": opaque}, auth=w.service.auth
        ),
        "revoke_unknown": lambda: w.client.post(
            "/revoke", data={"token": "x" * 43}, auth=w.service.auth
        ),
        "revoke_fresh": lambda: w.client.post(
            "/revoke", data={"token": next(fresh)}, auth=w.service.auth
        ),
        "device_auth": lambda: w.client.post(
            "/device_authorization", data={"scope": "openid"}, auth=w.service.auth
        ),
        "device_poll": lambda: w.client.post(
            "/token",
            data={"grant_type": DEVICE, "device_code": device["device_code"]},
            auth=w.service.auth,
        ),
        "refresh": lambda: w.client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": next(refreshes)},
            auth=w.web.auth,
        ),
        "userinfo": lambda: w.client.get(
            "/userinfo", headers={"Authorization": f"Bearer {user_at}"}
        ),
    }


@pytest.mark.parametrize("path", sorted(EXPECTED))
async def test_statements_per_request(
    world: World, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    request = (await _scenarios(world))[path]
    counts = await measure(monkeypatch, request)
    assert (counts.statements, counts.transactions) == EXPECTED[path]
    # every statement of a hot path is compiled once (store/sql/prepared.py), not per request
    assert counts.unprepared == []


async def test_revoking_a_grants_access_token_reads_it_once_per_transaction(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 7009 with SEC-77's cascade, not a hot path (its tree UPDATEs are not prepared), but
    its lookups are: the first transaction reads the client and what the value is (its grant's
    revocation in the same statement); the second reads it, locks the grant, reads it again
    (REL-03), revokes the token, then the grant's tokens, successor pairs and the grant.
    """
    w = world
    sub = await make_user(w.app)
    tokens = iter(
        [
            (await issue_user_tokens(w.app, w.web.client_id, sub, "openid api:read")).access_token
            for _ in range(2)
        ]
    )
    counts = await measure(
        monkeypatch,
        lambda: w.client.post("/revoke", data={"token": next(tokens)}, auth=w.web.auth),
    )
    assert (counts.statements, counts.transactions) == (2 + 8, 2)
