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

from authgate.store.sql.prepared import Prepared, PreparedResult, run_asyncpg, run_sqlite

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


class SyncExecutor:
    """A synchronous SQLAlchemy connection behind the async interface the mixins use."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
        if not isinstance(statement, Prepared):
            return self.conn.execute(statement, parameters)
        compiled = statement.compiled(self.conn.dialect)
        try:
            # The transaction was begun on this driver connection (engine.py's begin hook).
            return run_sqlite(self.conn.connection.driver_connection, compiled, parameters or {})
        except sqlite3.Error as exc:
            raise sa_exc.DBAPIError.instance(
                compiled.sql, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc


# asyncpg failures that mean the connection (or the server) is gone.
_CONNECTION_ERRORS = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    OSError,
    TimeoutError,
)


class AsyncExecutor:
    """An AsyncConnection; prepared statements go to its asyncpg connection directly."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._driver: Any = None

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
        if not isinstance(statement, Prepared):
            return await self.conn.execute(statement, parameters)
        compiled = statement.compiled(self.conn.dialect)
        try:
            driver = self._driver or await self._begin()
            return await run_asyncpg(driver, compiled, parameters or {})
        except (asyncpg.PostgresError, *_CONNECTION_ERRORS) as exc:
            broken = isinstance(exc, _CONNECTION_ERRORS)
            if broken:
                await self._invalidate()
            raise sa_exc.DBAPIError(
                compiled.sql, None, exc, hide_parameters=True, connection_invalidated=broken
            ) from exc

    async def begin(self) -> None:
        """BEGIN now rather than at the first statement: SqlStore opens every PostgreSQL
        transaction this way, so a connection that fails is known before any work is done.
        """
        raw = await self.conn.get_raw_connection()
        try:
            await self._begin()
        except Exception as exc:
            broken = (
                isinstance(exc, _CONNECTION_ERRORS)  # e.g. command_timeout: no answer
                or isinstance(exc.__cause__, _CONNECTION_ERRORS)
                or bool(raw.driver_connection.is_closed())  # type: ignore[union-attr]
            )
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

    async def _begin(self) -> Any:
        """The asyncpg connection, inside the transaction SQLAlchemy's adapter tracks.

        SQLAlchemy's asyncpg adapter begins its transaction lazily, at the first statement;
        a statement sent to the driver directly must begin it first, through the adapter,
        or it would run outside the transaction (and the adapter would not commit it).
        """
        raw = await self.conn.get_raw_connection()
        adapted = raw.dbapi_connection
        if getattr(adapted, "_transaction", None) is None and not adapted.autocommit:  # type: ignore[union-attr]
            await adapted._start_transaction()  # type: ignore[union-attr]
        self._driver = raw.driver_connection
        return self._driver


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
