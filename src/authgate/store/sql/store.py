"""SqlStore: the Store protocol on SQLAlchemy Core, for SQLite and PostgreSQL alike.

SqlTx is composed of one mixin per group of records (tx_*.py). Consume-once operations are
single conditional `UPDATE … RETURNING`/rowcount statements, so the database decides races.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

import anyio
import asyncpg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from authgate.core.errors import InvalidRequestError, TemporarilyUnavailableError
from authgate.store.sql import migrate, tables as t
from authgate.store.sql.engine import READONLY
from authgate.store.sql.group_commit import GroupCommit
from authgate.store.sql.tx_authorization import AuthorizationTx
from authgate.store.sql.tx_base import GOING_AWAY, AsyncExecutor, SyncExecutor
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
# A value the caller supplied that its column cannot hold (PostgreSQL: too long for a
# VARCHAR(n), an integer out of range, a NUL character; sqlite3: an int beyond 64 bits)
# is a bad request.
_OUT_OF_RANGE = (sa_exc.DataError, OverflowError)
_KEPT_READERS = 8
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.exceptions.InternalClientError,  # a connection left unusable (tx_base.py)
    OSError,
    TimeoutError,
)


class SqlStore:
    """The Store on an AsyncEngine (PostgreSQL) or a synchronous Engine (SQLite)."""

    def __init__(self, engine: AsyncEngine | Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        # SQLite has one writer at a time. One process's write transactions are queued on
        # one long-lived connection and share their COMMITs (group_commit.py); without the
        # queue they would wait for each other in SQLite's busy handler, which sleeps in
        # growing steps. Other processes are still waited for by busy_timeout.
        self._writer = GroupCommit(engine, _database_errors) if isinstance(engine, Engine) else None
        self._readers: list[Connection] = []  # SQLite: idle read-only connections

    @property
    def table_names(self) -> Sequence[str]:
        return [table.name for table in t.metadata.sorted_tables]

    @asynccontextmanager
    async def transaction(
        self, *, readonly: bool = False, single_write: bool = False
    ) -> AsyncIterator[SqlTx]:
        if isinstance(self.engine, Engine):
            async with self._sync_transaction(self.engine, readonly, single_write) as tx:
                yield tx
            return
        with _database_errors():
            async with self._connect(self.engine) as conn:
                if readonly or single_write:
                    # PostgreSQL's READ COMMITTED gives each statement its own snapshot and
                    # a SELECT takes no lock: BEGIN and COMMIT around reads, or around reads
                    # followed by one write (atomic by itself), add two round trips and
                    # nothing else.
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                async with conn.begin():
                    executor = AsyncExecutor(conn, single_write=single_write)
                    await executor.open()
                    yield SqlTx(executor, self._dialect)

    @asynccontextmanager
    async def _connect(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """A live pooled connection, within one `database_timeout` in all (REL-06).

        No pre-ping: SQLAlchemy's asyncpg ping is three round trips (BEGIN, `;`, ROLLBACK)
        before every transaction. asyncpg marks a connection closed when the database closes
        its socket (a restart), so a stale connection is seen without a round trip: it is
        dropped, with the rest of the pool (its other connections are as stale), and a new
        one is opened within the same budget.
        """
        pool = engine.sync_engine.pool
        with anyio.fail_after(pool.timeout() if isinstance(pool, QueuePool) else None):
            while True:
                conn = engine.connect()
                await conn.start()
                raw = await conn.get_raw_connection()
                if not raw.driver_connection.is_closed():  # type: ignore[union-attr]
                    break
                await conn.invalidate()
                await conn.close()
                await engine.dispose(close=False)
        try:
            yield conn
        finally:
            await conn.close()

    @asynccontextmanager
    async def _sync_transaction(
        self, engine: Engine, readonly: bool, single_write: bool
    ) -> AsyncIterator[SqlTx]:
        if not readonly:
            assert self._writer is not None  # noqa: S101 - a SQLite store has one
            async with self._writer.transaction() as conn:
                yield SqlTx(SyncExecutor(conn, single_write=single_write), self._dialect)
            return
        # Readers are kept open (a pool checkout and return cost more than the reads of an
        # introspection); a deferred BEGIN lets WAL run them beside the writer.
        with _database_errors():
            conn = (
                self._readers.pop()
                if self._readers
                else engine.connect().execution_options(**{READONLY: True})
            )
            try:
                with conn.begin():
                    yield SqlTx(SyncExecutor(conn), self._dialect)
            finally:
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
        try:
            conn = await self.engine.connect()
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc
        try:
            lock = sa.text("SELECT pg_try_advisory_lock(:k)")
            acquired = bool((await conn.execute(lock, {"k": _SWEEP_LOCK})).scalar())
            await conn.commit()  # the lock is the session's, not the transaction's
            yield acquired
            if acquired:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _SWEEP_LOCK})
                await conn.commit()
        finally:
            await conn.close()

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
            await self.engine.dispose()


@contextmanager
def _database_errors() -> Iterator[None]:
    """Database failures as the errors a client should see: 503 when the database cannot be
    reached (REL-06), 400 for a value a column cannot hold; anything else propagates.
    """
    try:
        yield
    except _UNAVAILABLE as exc:
        raise _unavailable(exc) from exc
    except _OUT_OF_RANGE as exc:
        raise _out_of_range(exc) from exc
    except sa_exc.DBAPIError as exc:
        if exc.connection_invalidated or _server_going_away(exc):
            raise _unavailable(exc) from exc
        if _bad_value(exc):
            raise _out_of_range(exc) from exc
        raise


def _unavailable(exc: BaseException) -> TemporarilyUnavailableError:
    log.warning("database unavailable: %s", type(exc).__name__)
    return TemporarilyUnavailableError(
        "the authorization server cannot reach its database; retry shortly",
        detail=f"{type(exc).__name__}: {exc}",
    )


def _sqlstates(exc: sa_exc.DBAPIError) -> set[str]:
    codes = set()
    for error in (exc.orig, exc.orig.__cause__ if exc.orig else None):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if isinstance(code, str):
            codes.add(code)
    return codes


def _server_going_away(exc: sa_exc.DBAPIError) -> bool:
    return bool(_sqlstates(exc) & GOING_AWAY)


def _bad_value(exc: sa_exc.DBAPIError) -> bool:
    """asyncpg's data errors reach SQLAlchemy as a plain DBAPIError: SQLSTATE class 22
    ("data exception") from the server, or a ValueError when encoding an argument.
    """
    for error in (exc.orig, exc.orig.__cause__ if exc.orig else None):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if (isinstance(code, str) and code.startswith("22")) or isinstance(error, ValueError):
            return True
    return False


def _out_of_range(exc: BaseException) -> InvalidRequestError:
    return InvalidRequestError(
        "a value cannot be stored: too long, out of range or not valid text",
        detail=f"{type(exc).__name__}: {exc}"[:500],
    )
