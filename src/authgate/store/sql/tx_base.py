"""The base of every StoreTx mixin: one connection inside an open transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.sql.base import Executable


class Executor(Protocol):
    """What a mixin executes statements on: an AsyncConnection, or SyncExecutor."""

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> CursorResult[*tuple[Any, ...]]: ...


class SyncExecutor:
    """A synchronous SQLAlchemy connection behind the async interface the mixins use."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> CursorResult[*tuple[Any, ...]]:
        return self.conn.execute(statement, parameters)


class SqlTxBase:
    def __init__(self, conn: Executor, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which has ON CONFLICT on both backends."""
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)
