"""Single-write transactions (`Store.transaction(single_write=True)`, issue 9).

A flow that reads and then changes rows in one statement, its last (client_credentials,
device authorization), declares it; on PostgreSQL the transaction then runs without BEGIN and
COMMIT. The rule is enforced on both databases: a statement after the write, or a row lock,
is refused before it is sent.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from authgate.store.sql import tables as t
from authgate.store.sql.prepared import Prepared
from authgate.store.sql.store import SqlStore
from authgate.store.sql.tx_base import SingleWriteError
from tests.helpers import ASGIApp, now

_INSERT = Prepared(
    sa.insert(t.rate_limits).values(
        bucket=sa.bindparam("b"), count=1, window_ends_at=sa.bindparam("w")
    )
)
_NOTHING = Prepared(sa.delete(t.rate_limits).where(t.rate_limits.c.bucket == sa.bindparam("b")))
_READ = Prepared(
    sa.select(t.rate_limits.c.count).where(t.rate_limits.c.bucket == sa.bindparam("b"))
)
_LOCK = Prepared(
    sa.select(t.rate_limits.c.count)
    .where(t.rate_limits.c.bucket == sa.bindparam("b"))
    .with_for_update()
)


def _values(bucket: str) -> dict[str, object]:
    return {"b": bucket, "w": now() + timedelta(minutes=1)}


async def _count(store: SqlStore, bucket: str) -> int | None:
    async with store.transaction(readonly=True) as tx:
        row = (await tx._conn.execute(_READ, {"b": bucket})).first()
    return None if row is None else int(row["count"])


async def test_reads_then_one_write_commit(app: ASGIApp) -> None:
    store: SqlStore = app.store
    async with store.transaction(single_write=True) as tx:
        assert (await tx._conn.execute(_READ, {"b": "sw-1"})).first() is None
        # a write that changes nothing leaves the transaction free to write again
        assert (await tx._conn.execute(_NOTHING, {"b": "sw-1"})).rowcount == 0
        await tx._conn.execute(_INSERT, _values("sw-1"))
    assert await _count(store, "sw-1") == 1


async def _write_then_read(store: SqlStore, bucket: str, *, prepared: bool) -> None:
    async with store.transaction(single_write=True) as tx:
        if prepared:
            await tx._conn.execute(_INSERT, _values(bucket))
            await tx._conn.execute(_READ, {"b": bucket})
        else:
            values = {"bucket": bucket, "count": 1, "window_ends_at": _values(bucket)["w"]}
            await tx._conn.execute(sa.insert(t.rate_limits), values)
            await tx._conn.execute(sa.select(t.rate_limits.c.count))


async def _lock(store: SqlStore, statement: object) -> None:
    async with store.transaction(single_write=True) as tx:
        await tx._conn.execute(statement, {"b": "sw-4"})  # type: ignore[call-overload]


@pytest.mark.parametrize("prepared", [True, False])
async def test_a_statement_after_the_write_is_refused(app: ASGIApp, prepared: bool) -> None:
    with pytest.raises(SingleWriteError, match="after its write"):
        await _write_then_read(app.store, f"sw-2-{prepared}", prepared=prepared)


async def test_a_row_lock_is_refused(app: ASGIApp) -> None:
    for statement in (_LOCK, _LOCK.statement):
        with pytest.raises(SingleWriteError, match="lock"):
            await _lock(app.store, statement)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_on_postgresql_it_runs_without_begin(app: ASGIApp) -> None:
    """Each statement is its own transaction: the write is visible to other connections
    before the transaction's block ends, and reads do not share a snapshot time.
    """
    store: SqlStore = app.store
    async with store.transaction(single_write=True) as tx:
        first = (await tx._conn.execute(sa.text("SELECT now()"))).scalar()
        await asyncio.sleep(0.01)
        second = (await tx._conn.execute(sa.text("SELECT now()"))).scalar()
        assert first != second
        await tx._conn.execute(_INSERT, _values("sw-5"))
        assert await _count(store, "sw-5") == 1  # committed already


async def test_a_transaction_level_advisory_lock_counts_as_a_lock(app: ASGIApp) -> None:
    lock = Prepared(sa.select(sa.func.pg_advisory_xact_lock(sa.bindparam("k"))))
    assert lock.compiled(app.store.engine.dialect).locks  # type: ignore[attr-defined]
    assert not _READ.compiled(app.store.engine.dialect).locks  # type: ignore[attr-defined]
    assert _INSERT.compiled(app.store.engine.dialect).writes  # type: ignore[attr-defined]
