"""The base of every StoreTx mixin: one connection inside an open transaction.

Mixins execute SQLAlchemy Core statements, or `Prepared` ones (store/sql/prepared.py) on
the hot paths, through an Executor: SyncExecutor for SQLite (sqlite3, synchronously on the
event loop's thread), AsyncExecutor for PostgreSQL (asyncpg).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, Protocol, overload

import asyncpg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable

from authgate.store.sql.prepared import (
    Compiled,
    Prepared,
    PreparedResult,
    run_asyncpg,
    run_sqlite,
    statement_kind,
)

Result = CursorResult[*tuple[Any, ...]] | PreparedResult


class Executor(Protocol):
    """What a mixin executes statements on."""

    @overload
    async def execute(
        self, statement: Prepared, parameters: Mapping[str, Any] | None = None
    ) -> PreparedResult: ...
    @overload
    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> CursorResult[*tuple[Any, ...]]: ...


class SingleWriteError(RuntimeError):
    """A single-write transaction sent a statement after its write, or locked a row."""


class SingleWrite:
    """The rule of a single-write transaction (`Store.transaction(single_write=True)`): reads,
    then at most one statement that changes rows, and nothing after it; no row locks. On
    PostgreSQL such a transaction runs without BEGIN and COMMIT, each statement committing by
    itself (the write alone changes anything, atomically): two round trips fewer. The rule is
    checked on both databases, so that a flow breaking it fails its tests on either.
    """

    __slots__ = ("written",)

    def __init__(self) -> None:
        self.written = False

    def before(self, writes: bool, locks: bool) -> None:
        if self.written:
            raise SingleWriteError("a single-write transaction sent a statement after its write")
        if locks:
            raise SingleWriteError("a single-write transaction cannot lock rows")

    def after(self, writes: bool, rowcount: int) -> None:
        if writes and rowcount > 0:
            self.written = True

    def after_prepared(self, compiled: Compiled, result: PreparedResult) -> None:
        # a write with RETURNING changed the rows it returned (sqlite3's rowcount may lag)
        self.after(compiled.writes, len(result.rows) if compiled.returns_rows else result.rowcount)


class SyncExecutor:
    """A synchronous SQLAlchemy connection behind the async interface the mixins use."""

    def __init__(self, conn: Connection, *, single_write: bool = False) -> None:
        self.conn = conn
        self.single_write = SingleWrite() if single_write else None

    @overload
    async def execute(
        self, statement: Prepared, parameters: Mapping[str, Any] | None = None
    ) -> PreparedResult: ...
    @overload
    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> CursorResult[*tuple[Any, ...]]: ...
    async def execute(
        self, statement: Executable | Prepared, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        guard = self.single_write
        if not isinstance(statement, Prepared):
            if guard is None:
                return self.conn.execute(statement, parameters)
            writes, locks = statement_kind(statement)
            guard.before(writes, locks)
            result = self.conn.execute(statement, parameters)
            guard.after(writes, result.rowcount)
            return result
        compiled = statement.compiled(self.conn.dialect)
        if guard is not None:
            guard.before(compiled.writes, compiled.locks)
        try:
            # The transaction was begun on this driver connection (engine.py's begin hook).
            driver = self.conn.connection.driver_connection
            prepared = run_sqlite(driver, compiled, parameters or {})
        except sqlite3.Error as exc:
            raise sa_exc.DBAPIError.instance(
                compiled.sql, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc
        if guard is not None:
            guard.after_prepared(compiled, prepared)
        return prepared


# asyncpg failures that mean the connection (or the server) is gone, or that the connection
# is in a state no further statement can use (InternalClientError: "cannot switch to state
# …; another operation is in progress", seen on a connection PostgreSQL shut down mid-reply).
_CONNECTION_ERRORS = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)
# SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: PostgreSQL is
# stopping, restarting or starting (REL-06); asyncpg reports them as plain server errors.
GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})


def _broken(exc: BaseException, driver: Any) -> bool:
    """Whether the connection `exc` came from must not be used again: the connection failed,
    or the server said it is going away (its connection then closes, perhaps before asyncpg
    has noticed: returned to the pool, it would fail the next request with a 500).
    """
    return (
        isinstance(exc, _CONNECTION_ERRORS)  # e.g. command_timeout: no answer
        or isinstance(exc.__cause__, _CONNECTION_ERRORS)
        or getattr(exc, "sqlstate", None) in GOING_AWAY
        or getattr(exc.__cause__, "sqlstate", None) in GOING_AWAY
        or bool(driver.is_closed())
    )


class AsyncExecutor:
    """An AsyncConnection; prepared statements go to its asyncpg connection directly.

    BEGIN is sent before the transaction's first statement that writes or locks rows, not
    before its reads: under READ COMMITTED each statement reads its own snapshot and a plain
    SELECT takes no lock, so reads that come first mean the same outside the transaction. A
    request that only reads (an unknown token to revoke, a refused client) then costs no
    BEGIN and COMMIT, and a single-write transaction never begins one (its write commits by
    itself). Statements that are not `Prepared` go through SQLAlchemy, which begins the
    transaction at the first of them.
    """

    def __init__(self, conn: AsyncConnection, *, single_write: bool = False) -> None:
        self.conn = conn
        self._driver: Any = None
        self._adapted: Any = None
        self.single_write = SingleWrite() if single_write else None

    async def open(self) -> None:
        """Take the driver connection (no round trip)."""
        raw = await self.conn.get_raw_connection()
        self._adapted = raw.dbapi_connection
        self._driver = raw.driver_connection

    @overload
    async def execute(
        self, statement: Prepared, parameters: Mapping[str, Any] | None = None
    ) -> PreparedResult: ...
    @overload
    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> CursorResult[*tuple[Any, ...]]: ...
    async def execute(
        self, statement: Executable | Prepared, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        guard = self.single_write
        if not isinstance(statement, Prepared):
            if guard is None:
                return await self.conn.execute(statement, parameters)
            writes, locks = statement_kind(statement)
            guard.before(writes, locks)
            result = await self.conn.execute(statement, parameters)
            guard.after(writes, result.rowcount)
            return result
        compiled = statement.compiled(self.conn.dialect)
        if self._driver is None:
            await self.open()
        if guard is not None:
            guard.before(compiled.writes, compiled.locks)
        elif compiled.writes or compiled.locks:
            await self._begin()
        try:
            prepared = await run_asyncpg(self._driver, compiled, parameters or {})
        except (asyncpg.PostgresError, *_CONNECTION_ERRORS) as exc:
            broken = _broken(exc, self._driver)
            if broken:
                await self._invalidate()
            raise sa_exc.DBAPIError(
                compiled.sql, None, exc, hide_parameters=True, connection_invalidated=broken
            ) from exc
        if guard is not None:
            guard.after_prepared(compiled, prepared)
        return prepared

    async def _begin(self) -> None:
        """BEGIN, through SQLAlchemy's adapter (which commits what it began), unless the
        transaction is begun already or the connection is in autocommit.
        """
        adapted = self._adapted
        if adapted._transaction is not None or adapted.autocommit:
            return
        try:
            await adapted._start_transaction()
        except Exception as exc:
            broken = _broken(exc, self._driver)
            if broken:
                await self._invalidate()
            raise sa_exc.DBAPIError(
                "BEGIN", None, exc, hide_parameters=True, connection_invalidated=broken
            ) from exc

    async def _invalidate(self) -> None:
        """Drop a broken connection. Its socket is closed first: SQLAlchemy's invalidation
        would otherwise wait up to 2 s for a polite goodbye from a database that does not
        answer (a network partition).
        """
        raw = await self.conn.get_raw_connection()
        raw.driver_connection.terminate()  # type: ignore[union-attr]
        await self.conn.invalidate()


class ForDialects:
    """A statement that differs by dialect (INSERT … ON CONFLICT, FOR UPDATE), prepared for
    each: `build` receives the dialect's name and its INSERT constructor.
    """

    def __init__(self, build: Callable[[str, Callable[[sa.Table], Any]], Executable]) -> None:
        self._prepared = {
            "sqlite": Prepared(build("sqlite", sqlite.insert)),
            "postgresql": Prepared(build("postgresql", postgresql.insert)),
        }

    def __getitem__(self, dialect: str) -> Prepared:
        return self._prepared[dialect]


class SqlTxBase:
    def __init__(self, conn: Executor, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which has ON CONFLICT on both backends."""
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)
