"""SqlStore: the Store protocol on SQLAlchemy Core, for SQLite and PostgreSQL alike.

SqlTx is composed of one mixin per group of records (tx_*.py). Consume-once operations are
single conditional `UPDATE … RETURNING`/rowcount statements, so the database decides races.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.core.errors import InvalidRequestError, TemporarilyUnavailableError
from authgate.store.sql import migrate, tables as t
from authgate.store.sql.engine import READONLY
from authgate.store.sql.group_commit import GroupCommit
from authgate.store.sql.pg_batch import PgBatcher
from authgate.store.sql.pg_pool import GOING_AWAY, PgPool, connect_arguments
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
        assert self.pool is not None  # noqa: S101 - a PostgreSQL store has one
        with _database_errors():
            executor = PgExecutor(
                self.pool,
                self.engine.dialect,
                batcher=self._batcher,
                autocommit=readonly,
                single_write=single_write,
            )
            try:
                yield SqlTx(executor, self._dialect)
                await executor.commit()
            except Exception:
                await executor.rollback()
                raise
            except BaseException:  # cancelled mid-statement: the connection is not reused
                executor.broken = True
                raise
            finally:
                if executor.driver is not None:
                    self.pool.release(executor.driver, broken=executor.broken)

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
        assert self.pool is not None  # noqa: S101
        try:
            conn = await self.pool.acquire()
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc
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
