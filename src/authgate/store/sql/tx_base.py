"""The base of every StoreTx mixin: one connection inside an open transaction.

Mixins execute SQLAlchemy Core statements, or `Prepared` ones (store/sql/prepared.py) on
the hot paths, through an Executor: SyncExecutor for SQLite (sqlite3, synchronously on the
event loop's thread), PgExecutor for PostgreSQL (asyncpg).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, Protocol, overload

import asyncpg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.sql.base import Executable

from authgate.store.sql.pg_batch import Batch, ByKey, PgBatcher
from authgate.store.sql.pg_pool import DRIVER_ERRORS, PgPool, driver_error
from authgate.store.sql.prepared import (
    Compiled,
    Prepared,
    PreparedResult,
    run_adhoc,
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
    """A synchronous SQLAlchemy connection behind the async interface the mixins use.

    `reads`: a read-only transaction on a connection in autocommit, begun (a deferred BEGIN,
    straight on the driver) at its first prepared statement: SQLite takes and releases its
    WAL read lock (system calls) once for the transaction, not once per statement.
    """

    def __init__(
        self, conn: Connection, *, single_write: bool = False, reads: bool = False
    ) -> None:
        self.conn = conn
        self.single_write = SingleWrite() if single_write else None
        self.reads = reads
        self.began = False  # `reads`: BEGIN sent on the driver
        self.adhoc = False  # a statement ran through SQLAlchemy (which may have begun)
        self._driver: sqlite3.Connection | None = None

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
            self.adhoc = True
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
        driver = self._driver
        if driver is None:
            # the transaction is begun on this driver connection (engine.py's begin hook)
            found = self.conn.connection.driver_connection
            assert isinstance(found, sqlite3.Connection)  # noqa: S101
            driver = self._driver = found
        try:
            if self.reads and not driver.in_transaction:
                driver.execute("BEGIN")
                self.began = True
            prepared = run_sqlite(driver, compiled, parameters or {})
        except sqlite3.Error as exc:
            raise sa_exc.DBAPIError.instance(
                compiled.sql, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc
        if guard is not None:
            guard.after_prepared(compiled, prepared)
        return prepared

    def end_reads(self) -> None:
        """End a `reads` transaction (nothing to commit)."""
        if self.adhoc and self.conn.in_transaction():
            self.conn.rollback()  # SQLAlchemy's, which began it or joined ours
        elif self.began and self._driver is not None and self._driver.in_transaction:
            self._driver.execute("ROLLBACK")


class PgExecutor:
    """One transaction on PostgreSQL, on an asyncpg connection of the pool (pg_pool.py),
    taken at its first statement that needs one.

    BEGIN is sent before the transaction's first `Prepared` statement that writes or locks
    rows, not before its reads: under READ COMMITTED each statement reads its own snapshot
    and a plain SELECT takes no lock, so reads that come first mean the same outside the
    transaction. A request that only reads (an unknown token to revoke, a refused client)
    then costs no BEGIN and COMMIT; a read-only or single-write transaction (`autocommit`)
    never begins one (its one write commits by itself). While a transaction holds no
    connection of its own, its lookups that may be batched go with the same lookup of other
    requests (pg_batch.py), and so do its inserts if it commits statement by statement. A
    statement that is not `Prepared` is compiled for its one execution and begins the
    transaction first, whatever it does (an advisory lock in `sa.text`, say).
    """

    def __init__(
        self,
        pool: PgPool,
        dialect: Dialect,
        *,
        batcher: PgBatcher | None = None,
        autocommit: bool = False,
        single_write: bool = False,
    ) -> None:
        self.pool = pool
        self.dialect = dialect
        self.driver: asyncpg.Connection | None = None
        self.autocommit = autocommit or single_write
        self.batcher = batcher
        self.begun = False
        self.broken = False
        self.single_write = SingleWrite() if single_write else None

    async def _connection(self) -> asyncpg.Connection:
        if self.driver is None:
            self.driver = await self.pool.acquire()
        return self.driver

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
            if guard is not None:
                guard.before(*statement_kind(statement))
            elif not self.autocommit:
                await self._begin()
            driver = await self._connection()
            try:
                adhoc, writes, _ = await run_adhoc(driver, statement, self.dialect, parameters)
            except DRIVER_ERRORS as exc:
                raise self._failed(exc, str(statement)) from exc
            if guard is not None:
                guard.after(writes, adhoc.rowcount)
            return adhoc
        compiled = statement.compiled(self.dialect)
        if guard is not None:
            guard.before(compiled.writes, compiled.locks)
        elif (compiled.writes or compiled.locks) and not self.autocommit:
            await self._begin()
        if self._batches(statement):
            assert self.batcher is not None  # noqa: S101 - _batches says so
            prepared = await self.batcher.run(statement, parameters or {})
        else:
            driver = await self._connection()
            try:
                prepared = await run_asyncpg(
                    driver, compiled, compiled.parameters(parameters or {})
                )
            except DRIVER_ERRORS as exc:
                raise self._failed(exc, compiled.sql) from exc
        if guard is not None:
            guard.after_prepared(compiled, prepared)
        return prepared

    def _batches(self, statement: Prepared) -> bool:
        """Whether `statement` goes with the same statement of other transactions: while
        this one holds no connection (so has not begun either), a lookup always (before a
        transaction's first write, its reads run in autocommit anyway), an insert only in a
        transaction that commits statement by statement.
        """
        batch = statement.batch
        if batch is None or self.batcher is None or self.driver is not None:
            return False
        return self.autocommit or isinstance(batch, ByKey)

    async def _begin(self) -> None:
        if not self.begun:
            await self._command("BEGIN")
            self.begun = True

    async def commit(self) -> None:
        if self.begun:
            self.begun = False
            await self._command("COMMIT")

    async def rollback(self) -> None:
        """End a failed transaction; a connection that cannot is dropped by the pool."""
        if self.begun and not self.broken and self.driver is not None:
            self.begun = False
            try:
                await self.driver.execute("ROLLBACK")
            except Exception:
                self.broken = True

    async def _command(self, command: str) -> None:
        driver = await self._connection()
        try:
            await driver.execute(command)
        except DRIVER_ERRORS as exc:
            raise self._failed(exc, command) from exc

    def _failed(self, exc: BaseException, sql: str) -> sa_exc.DBAPIError:
        assert self.driver is not None  # noqa: S101 - the statement ran on it
        error = driver_error(exc, self.driver, sql)
        self.broken = self.broken or error.connection_invalidated
        return error


class ForDialects:
    """A statement that differs by dialect (INSERT … ON CONFLICT, FOR UPDATE), prepared for
    each: `build` receives the dialect's name and its INSERT constructor; `batch`, how
    PostgreSQL may send it for many requests at once (pg_batch.py).
    """

    def __init__(
        self,
        build: Callable[[str, Callable[[sa.Table], Any]], Executable],
        *,
        batch: Callable[[Any], Batch] | None = None,
    ) -> None:
        self._prepared = {
            "sqlite": Prepared(build("sqlite", sqlite.insert)),
            "postgresql": Prepared(build("postgresql", postgresql.insert), batch=batch),
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
