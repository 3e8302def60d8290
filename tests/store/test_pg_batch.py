"""PostgreSQL: hot statements of concurrent autocommit transactions sent together
(store/sql/pg_batch.py, issue 9). Each request must get exactly its own answer, a refused
row must fail only its own request, and a transaction holding a connection never waits for a
batch.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from authgate.core.models import AccessToken, DeviceCode
from authgate.core.tokens import hash_token, new_id, new_token
from authgate.core.types import AccessTokenFormat, ClientId, DeviceStatus, RevokedBy
from authgate.store.sql import pg_pool, tables as t
from authgate.store.sql.pg_batch import ByKey, InsertMany
from authgate.store.sql.prepared import Prepared
from authgate.store.sql.store import SqlStore
from tests.helpers import ASGIApp, make_client, now

POSTGRESQL = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


class Acquired:
    """Counts the connections taken from the pool (each batch takes one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = pg_pool.PgPool.acquire

        async def acquire(pool: Any) -> Any:
            self.count += 1
            return await original(pool)

        monkeypatch.setattr(pg_pool.PgPool, "acquire", acquire)


def _token(client_id: str) -> AccessToken:
    issued = now()
    return AccessToken(
        token_hash=hash_token(new_token()),
        jti=new_id(),
        client_id=ClientId(client_id),
        scope=frozenset({"api:read"}),
        issued_at=issued,
        expires_at=issued + timedelta(hours=1),
        token_format=AccessTokenFormat.OPAQUE,
    )


@POSTGRESQL
async def test_lookups_of_one_loop_turn_share_one_statement(
    app: ASGIApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: SqlStore = app.store
    known = [(await make_client(app, name=f"c{n}")).client_id for n in range(3)]
    wanted = [*known, known[0], known[0], "nobody", known[2], "nobody either"]

    async def find(client_id: str) -> str | None:
        async with store.transaction(readonly=True) as tx:
            client = await tx.find_client(ClientId(client_id))
        return client.client_id if client else None

    acquired = Acquired(monkeypatch)
    found = await asyncio.gather(*(find(c) for c in wanted))
    assert found == [c if c in known else None for c in wanted]
    assert acquired.count == 1  # eight transactions, one statement, one connection


@POSTGRESQL
async def test_inserts_of_one_turn_share_one_round_trip_and_a_refused_row_fails_alone(
    app: ASGIApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: SqlStore = app.store
    client_id = (await make_client(app)).client_id
    tokens = [_token(client_id) for _ in range(6)]
    tokens.insert(3, _token("no-such-client"))  # refused by the foreign key

    async def add(token: AccessToken) -> None:
        async with store.transaction(single_write=True) as tx:
            await tx.add_access_token(token)

    acquired = Acquired(monkeypatch)
    outcomes = await asyncio.gather(*(add(tok) for tok in tokens), return_exceptions=True)
    assert acquired.count == 1
    assert [o is None for o in outcomes] == [True, True, True, False, True, True, True]
    assert isinstance(outcomes[3], sa_exc.IntegrityError | sa_exc.DBAPIError)
    async with store.transaction(readonly=True) as tx:
        stored = [await tx.find_access_token(tok.token_hash) for tok in tokens]
    assert [s is not None for s in stored] == [True, True, True, False, True, True, True]


@POSTGRESQL
async def test_a_request_cancelled_before_its_batch_leaves_no_row(app: ASGIApp) -> None:
    store: SqlStore = app.store
    client_id = (await make_client(app)).client_id
    tokens = [_token(client_id) for _ in range(3)]

    async def add(token: AccessToken) -> None:
        async with store.transaction(single_write=True) as tx:
            await tx.add_access_token(token)

    tasks = [asyncio.ensure_future(add(tok)) for tok in tokens]
    await asyncio.sleep(0)  # each has asked for its insert; the batch is not sent yet
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    async with store.transaction(readonly=True) as tx:
        stored = [await tx.find_access_token(tok.token_hash) is not None for tok in tokens]
    assert stored == [True, False, True]


@POSTGRESQL
async def test_a_transaction_holding_a_connection_does_not_wait_for_a_batch(
    app: ASGIApp,
) -> None:
    """With every pooled connection held by a transaction, a batch could not get one: such
    transactions run their statements on the connection they hold.
    """
    store: SqlStore = app.store
    assert store.pool is not None
    client_id = (await make_client(app)).client_id

    async def hold_then_find() -> bool:
        async with store.transaction(readonly=True) as tx:
            await tx._conn.execute(sa.text("SELECT pg_sleep(0.05)"))  # takes a connection
            return await tx.find_client(ClientId(client_id)) is not None

    results = await asyncio.wait_for(
        asyncio.gather(*(hold_then_find() for _ in range(store.pool.size * 2))), timeout=5
    )
    assert all(results)


def test_only_plain_lookups_and_inserts_are_batched() -> None:
    with pytest.raises(TypeError):
        ByKey(
            sa.select(t.clients).where(
                t.clients.c.name == sa.bindparam("a"), t.clients.c.client_id == sa.bindparam("b")
            )
        )
    with pytest.raises(TypeError):
        InsertMany(sa.update(t.clients).values(name="x"))
    lookup = Prepared(
        sa.select(t.clients).where(t.clients.c.client_id == sa.bindparam("k")), batch=ByKey
    )
    assert isinstance(lookup.batch, ByKey) and lookup.batch.param == "k"


def _device(client_id: str, user_code: str, *, expires_in: float = 600) -> DeviceCode:
    created = now()
    return DeviceCode(
        device_code_hash=hash_token(new_token()),
        user_code=user_code,
        client_id=ClientId(client_id),
        scope=frozenset({"openid"}),
        status=DeviceStatus.PENDING,
        interval=5,
        created_at=created,
        expires_at=created + timedelta(seconds=expires_in),
    )


@POSTGRESQL
async def test_device_codes_of_one_turn_go_in_together_and_a_held_user_code_is_refused(
    app: ASGIApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8628 §6.1: a user code held by a live device code is not given again (the caller
    draws another); one held by an expired code is taken over. Also in a batch, where two
    requests of one turn may even draw the same code.
    """
    store: SqlStore = app.store
    client_id = (await make_client(app)).client_id
    async with store.transaction(single_write=True) as tx:
        assert await tx.add_device_code(_device(client_id, "LIVE-CODE"), now=now())
    async with store.transaction(single_write=True) as tx:
        old = _device(client_id, "OLD-CODE", expires_in=-1)
        assert await tx.add_device_code(old, now=now())

    async def add(device: DeviceCode) -> bool:
        async with store.transaction(single_write=True) as tx:
            return await tx.add_device_code(device, now=now())

    acquired = Acquired(monkeypatch)
    batch = [_device(client_id, c) for c in ("NEW-AAAA", "LIVE-CODE", "OLD-CODE", "NEW-BBBB")]
    assert await asyncio.gather(*(add(d) for d in batch)) == [True, False, True, True]
    assert acquired.count == 1
    twins = [_device(client_id, "TWIN-CODE"), _device(client_id, "TWIN-CODE")]
    assert sorted(await asyncio.gather(*(add(d) for d in twins))) == [False, True]
    async with store.transaction(readonly=True) as tx:
        for device, kept in [(batch[0], True), (batch[1], False), (batch[2], True)]:
            assert (await tx.find_device_code(device.device_code_hash) is not None) is kept


@POSTGRESQL
async def test_revocations_of_one_turn_share_one_update_and_each_row_changes_once(
    app: ASGIApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: SqlStore = app.store
    client_id = (await make_client(app)).client_id
    tokens = [_token(client_id) for _ in range(3)]
    for token in tokens:
        async with store.transaction(single_write=True) as tx:
            await tx.add_access_token(token)
    async with store.transaction(single_write=True) as tx:  # already revoked
        assert await tx.revoke_access_token(tokens[2].token_hash, now=now(), by=RevokedBy.CLIENT)

    async def revoke(token: AccessToken) -> int:
        async with store.transaction(single_write=True) as tx:
            return await tx.revoke_access_token(token.token_hash, now=now(), by=RevokedBy.CLIENT)

    acquired = Acquired(monkeypatch)
    named = [tokens[0], tokens[1], tokens[0], tokens[2], _token(client_id)]
    assert await asyncio.gather(*(revoke(tok) for tok in named)) == [1, 1, 0, 0, 0]
    assert acquired.count == 1
    async with store.transaction(readonly=True) as tx:
        for token in tokens:
            found = await tx.find_access_token(token.token_hash)
            assert found is not None and found[0].revoked_by is RevokedBy.CLIENT
