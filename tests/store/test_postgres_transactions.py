"""How the store uses PostgreSQL connections (issue 9: few round trips; REL-06: connections a
restart broke are replaced without an error).

- No pre-ping (three round trips in SQLAlchemy's asyncpg dialect): a pooled connection the
  server closed is recognised without a round trip and replaced, with the rest of the pool.
- A write transaction begins at its first statement that writes or locks rows (its
  prepared reads before that run in autocommit: READ COMMITTED gives each statement its own
  snapshot anyway); a read-only one runs all its SELECTs in autocommit.
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from authgate.core.errors import TemporarilyUnavailableError
from authgate.core.types import ClientId
from authgate.store.sql import tables as t
from authgate.store.sql.prepared import Prepared
from authgate.store.sql.store import SqlStore
from tests.helpers import ASGIApp, now

pytestmark = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


async def _backend(store: SqlStore, *, readonly: bool) -> tuple[int, bool]:
    """The server process of the connection a transaction got, and whether its statements
    share one transaction (now() is the transaction's start time)."""
    async with store.transaction(readonly=readonly) as tx:
        pid, first = (await tx._conn.execute(sa.text("SELECT pg_backend_pid(), now()"))).one()
        await asyncio.sleep(0.01)
        second = (await tx._conn.execute(sa.text("SELECT now()"))).scalar()
    return int(pid), first == second


async def test_a_write_transaction_is_one_transaction(app: ASGIApp) -> None:
    _, one_transaction = await _backend(app.store, readonly=False)
    assert one_transaction


async def test_a_read_only_transaction_runs_in_autocommit(app: ASGIApp) -> None:
    _, one_transaction = await _backend(app.store, readonly=True)
    assert not one_transaction  # no BEGIN: each statement is its own transaction
    async with app.store.transaction(readonly=True) as tx:  # and reads work as ever
        assert await tx.find_client(ClientId("nobody")) is None
    # the connection went back to the pool in its normal mode
    _, one_transaction = await _backend(app.store, readonly=False)
    assert one_transaction


_NOW = Prepared(sa.select(sa.func.now().label("at")))
_INSERT = Prepared(
    sa.insert(t.rate_limits).values(bucket="lazy-begin", count=1, window_ends_at=sa.bindparam("w"))
)
_COUNT = (
    sa.select(sa.func.count())
    .select_from(t.rate_limits)
    .where(t.rate_limits.c.bucket == "lazy-begin")
)


async def test_a_write_transaction_begins_at_its_first_write(app: ASGIApp) -> None:
    store: SqlStore = app.store

    async def now_twice(tx: object) -> bool:
        first = (await tx._conn.execute(_NOW)).one()["at"]  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
        return bool(first == (await tx._conn.execute(_NOW)).one()["at"])  # type: ignore[attr-defined]

    async with store.transaction() as tx:
        assert not await now_twice(tx)  # reads first: no transaction yet
        await tx._conn.execute(_INSERT, {"w": now()})
        assert await now_twice(tx)  # from the write on: one transaction
        async with store.transaction(readonly=True) as other:
            assert (await other._conn.execute(_COUNT)).scalar() == 0  # not committed yet
    async with store.transaction(readonly=True) as other:
        assert (await other._conn.execute(_COUNT)).scalar() == 1


async def test_a_burst_beyond_the_pool_waits_and_opens_no_connection(app: ASGIApp) -> None:
    """Overflow connections are closed as they are returned to a full pool: under sustained
    load every few requests opened a new one (a new backend). There are none: a burst larger
    than the pool waits for pooled connections, and the next burst finds the same ones.
    """
    store: SqlStore = app.store

    async def hold() -> int:
        async with store.transaction(readonly=True) as tx:
            pid = (await tx._conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
            await asyncio.sleep(0.02)
        return int(pid)

    first = set(await asyncio.gather(*(hold() for _ in range(30))))
    second = set(await asyncio.gather(*(hold() for _ in range(30))))
    assert store.pool is not None
    size = store.pool.size
    assert size == 10  # database_pool_size's default
    assert len(first) <= size
    assert second <= first  # no connection was opened for the second burst


_PID = Prepared(sa.select(sa.func.pg_backend_pid().label("pid")))
# what PostgreSQL says to its clients as it shuts down (SQLSTATE 57P01, admin_shutdown)
_GOODBYE = Prepared(sa.text("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '57P01'; END $$"))


async def test_a_connection_the_server_said_goodbye_on_is_not_used_again(app: ASGIApp) -> None:
    """REL-06: during a shutdown a connection receives 57P01 and then closes, perhaps after
    it is back in the pool; reused, it failed the next request with a 500 (asyncpg: "cannot
    switch to state 12; another operation is in progress"). It is dropped at once.
    """
    store: SqlStore = app.store
    pids: list[int] = []

    async def goodbye() -> None:
        async with store.transaction(readonly=True) as tx:
            pids.append((await tx._conn.execute(_PID)).one()["pid"])
            await tx._conn.execute(_GOODBYE)

    with pytest.raises(TemporarilyUnavailableError):
        await goodbye()
    goner = pids[0]
    for readonly in (True, False, True):
        async with store.transaction(readonly=readonly) as tx:
            assert (await tx._conn.execute(_PID)).one()["pid"] != goner


async def test_connections_the_server_closed_are_replaced_without_an_error(
    app: ASGIApp, db: str
) -> None:
    store: SqlStore = app.store
    first, _ = await _backend(store, readonly=False)
    # The server ends that pooled connection (as a restart ends all of them).
    admin = create_async_engine(db)
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)  # the client side sees the socket close
    for readonly in (False, True, False):
        pid, _ = await _backend(store, readonly=readonly)  # no error
        assert pid != first
