"""SqlStore: the Store protocol on SQLAlchemy Core, for SQLite and PostgreSQL alike.

SqlTx is composed of one mixin per group of records (tx_*.py). Consume-once operations are
single conditional `UPDATE … RETURNING`/rowcount statements, so the database decides races.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.store.sql import migrate, tables as t
from authgate.store.sql.engine import READONLY
from authgate.store.sql.errors import UNAVAILABLE, client_error, database_errors, unavailable
from authgate.store.sql.group_commit import GroupCommit
from authgate.store.sql.pg_batch import PgBatcher
from authgate.store.sql.pg_pool import PgPool, connect_arguments
from authgate.store.sql.tx_authorization import AuthorizationTx
from authgate.store.sql.tx_base import PgExecutor, SyncExecutor
from authgate.store.sql.tx_core import CoreTx
from authgate.store.sql.tx_device import DeviceTx
from authgate.store.sql.tx_grants import GrantTx
from authgate.store.sql.tx_janitor import JanitorTx
from authgate.store.sql.tx_revocation import RevocationTx

log = logging.getLogger(__name__)


class SqlTx(CoreTx, GrantTx, AuthorizationTx, RevocationTx, DeviceTx, JanitorTx):
    """StoreTx on one SQLAlchemy connection inside an open transaction."""


# pg_advisory_lock key of the janitor's sweep (keys.lock_keys uses 4242001).
_SWEEP_LOCK = 4242002
_KEPT_READERS = 8


class SqlStore:
    """The Store on an AsyncEngine (PostgreSQL) or a synchronous Engine (SQLite)."""

    def __init__(
        self, engine: AsyncEngine | Engine, *, pool_size: int = 10, timeout: float = 10.0
    ) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        # PostgreSQL: transactions on asyncpg connections of our own pool (pg_pool.py); the
        # engine (without a pool) compiles statements and runs the migrations.
        self.pool = (
            PgPool(
                connect_arguments(engine.dialect.create_connect_args(engine.url)[1]),
                size=pool_size,
                timeout=timeout,
            )
            if isinstance(engine, AsyncEngine)
            else None
        )
        self._batcher = PgBatcher(self.pool, engine.dialect) if self.pool is not None else None
        # SQLite has one writer at a time. One process's write transactions are queued on
        # one long-lived connection and share their COMMITs (group_commit.py); without the
        # queue they would wait for each other in SQLite's busy handler, which sleeps in
        # growing steps. Other processes are still waited for by busy_timeout.
        self._writer = GroupCommit(engine, database_errors) if isinstance(engine, Engine) else None
        self._readers: list[Connection] = []  # SQLite: idle read-only connections

    @property
    def table_names(self) -> Sequence[str]:
        return [table.name for table in t.metadata.sorted_tables]

    def transaction(
        self, *, readonly: bool = False, single_write: bool = False
    ) -> AbstractAsyncContextManager[SqlTx]:
        if self._writer is None:
            assert self.pool is not None  # noqa: S101 - a PostgreSQL store has one
            executor = PgExecutor(
                self.pool,
                self.engine.dialect,
                batcher=self._batcher,
                autocommit=readonly,
                single_write=single_write,
            )
            return _PgTransaction(self.pool, executor)
        if readonly:
            return _SqliteRead(self)
        return _SqliteWrite(self._writer, single_write)

    def _reader(self) -> Connection:
        """A kept read-only SQLite connection: a pool checkout and return cost more than the
        reads of an introspection.
        """
        if self._readers:
            return self._readers.pop()
        assert isinstance(self.engine, Engine)  # noqa: S101
        return self.engine.connect().execution_options(**{READONLY: True})

    def _return_reader(self, conn: Connection) -> None:
        if conn.invalidated or len(self._readers) >= _KEPT_READERS:
            conn.close()
        else:
            self._readers.append(conn)

    @asynccontextmanager
    async def sweep_lock(self) -> AsyncIterator[bool]:
        """One sweeper per database: a session-level advisory lock on PostgreSQL (released
        by the server if this process dies), an flock on a file beside the SQLite database.
        """
        if isinstance(self.engine, Engine):
            path = self.engine.url.database
            if not path or path == ":memory:":
                yield True
                return
            with open(f"{path}-janitor", "a+b") as lock_file:  # noqa: ASYNC230 - local, instant
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
            return
        assert self.pool is not None  # noqa: S101
        try:
            conn = await self.pool.acquire()
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc
        broken = True
        try:
            acquired = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", _SWEEP_LOCK))
            # the lock is the session's, not a transaction's
            yield acquired
            if acquired:
                await conn.execute("SELECT pg_advisory_unlock($1)", _SWEEP_LOCK)
            broken = False
        finally:
            self.pool.release(conn, broken=broken)  # a connection still locking is closed

    async def ping(self) -> None:
        async with self.transaction(readonly=True) as tx:
            await tx._conn.execute(sa.text("SELECT 1"))

    async def schema_is_current(self) -> bool:
        return await migrate.is_current(self.engine)

    async def upgrade(self) -> None:
        await migrate.upgrade(self.engine)

    async def close(self) -> None:
        if isinstance(self.engine, Engine):
            assert self._writer is not None  # noqa: S101
            self._writer.close()
            while self._readers:
                self._readers.pop().close()
            self.engine.dispose()
        else:
            assert self.pool is not None  # noqa: S101
            await self.pool.close()
            await self.engine.dispose()


class _PgTransaction:
    """`SqlStore.transaction` on PostgreSQL (PgExecutor: lazy BEGIN, batches)."""

    __slots__ = ("_executor", "_pool")

    def __init__(self, pool: PgPool, executor: PgExecutor) -> None:
        self._pool = pool
        self._executor = executor

    async def __aenter__(self) -> SqlTx:
        return SqlTx(self._executor, "postgresql")

    async def __aexit__(
        self, kind: type[BaseException] | None, failure: BaseException | None, tb: object
    ) -> None:
        executor = self._executor
        try:
            if failure is None:
                await executor.commit()
            elif isinstance(failure, Exception):
                await executor.rollback()
            else:  # cancelled mid-statement: the connection is not reused
                executor.broken = True
        except Exception as exc:
            raise client_error(exc) or exc from exc
        finally:
            if executor.driver is not None:
                self._pool.release(executor.driver, broken=executor.broken)
        _reraise_for_client(failure)


class _SqliteRead:
    """A read-only transaction on SQLite: a deferred BEGIN (SyncExecutor `reads`), which WAL
    runs beside the writer, ended by a ROLLBACK (nothing to commit).
    """

    __slots__ = ("_conn", "_executor", "_store")

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def __aenter__(self) -> SqlTx:
        with database_errors():
            self._conn = self._store._reader()
        self._executor = SyncExecutor(self._conn, reads=True)
        return SqlTx(self._executor, "sqlite")

    async def __aexit__(
        self, kind: type[BaseException] | None, failure: BaseException | None, tb: object
    ) -> None:
        try:
            self._executor.end_reads()
        except Exception:
            self._conn.invalidate()
        finally:
            self._store._return_reader(self._conn)
        _reraise_for_client(failure)


class _SqliteWrite:
    """A write transaction on SQLite: the request's part of the group commit."""

    __slots__ = ("_single_write", "_writer")

    def __init__(self, writer: GroupCommit, single_write: bool) -> None:
        self._writer = writer
        self._single_write = single_write

    async def __aenter__(self) -> SqlTx:
        conn = await self._writer.enter(savepoint=not self._single_write)
        return SqlTx(SyncExecutor(conn, single_write=self._single_write), "sqlite")

    async def __aexit__(
        self, kind: type[BaseException] | None, failure: BaseException | None, tb: object
    ) -> None:
        await self._writer.exit(failure)
        _reraise_for_client(failure)


def _reraise_for_client(failure: BaseException | None) -> None:
    """A database failure that ended the transaction, as the error a client should see."""
    if failure is not None:
        error = client_error(failure)
        if error is not None:
            raise error from failure
