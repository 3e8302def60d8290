"""SqlStore: the Store protocol on SQLAlchemy Core, for SQLite and PostgreSQL alike.

SqlTx is composed of one mixin per group of records (tx_*.py). Consume-once operations are
single conditional `UPDATE … RETURNING`/rowcount statements, so the database decides races.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.core.errors import TemporarilyUnavailableError
from authgate.store.sql import migrate, tables as t
from authgate.store.sql.engine import READONLY
from authgate.store.sql.tx_authorization import AuthorizationTx
from authgate.store.sql.tx_base import SyncExecutor
from authgate.store.sql.tx_core import CoreTx
from authgate.store.sql.tx_device import DeviceTx
from authgate.store.sql.tx_grants import GrantTx
from authgate.store.sql.tx_revocation import RevocationTx

log = logging.getLogger(__name__)


class SqlTx(CoreTx, GrantTx, AuthorizationTx, RevocationTx, DeviceTx):
    """StoreTx on one SQLAlchemy connection inside an open transaction."""


_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, OSError, TimeoutError)


class SqlStore:
    """The Store on an AsyncEngine (PostgreSQL) or a synchronous Engine (SQLite)."""

    def __init__(self, engine: AsyncEngine | Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        # SQLite has one writer at a time. Without this lock, concurrent write transactions
        # of one process wait for each other in SQLite's busy handler, which sleeps in
        # growing steps; queueing them here hands the lock over at once. Other processes
        # are still waited for by busy_timeout.
        self._write_lock = anyio.Lock() if self._dialect == "sqlite" else None
        # With writes queued, one long-lived connection serves them all (no pool checkout).
        self._writer: Connection | None = None

    @property
    def table_names(self) -> Sequence[str]:
        return [table.name for table in t.metadata.sorted_tables]

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[SqlTx]:
        if self._write_lock is None or readonly:
            async with self._transaction(readonly) as tx:
                yield tx
        else:
            async with self._write_lock, self._transaction(readonly) as tx:
                yield tx

    @asynccontextmanager
    async def _transaction(self, readonly: bool) -> AsyncIterator[SqlTx]:
        if isinstance(self.engine, Engine):
            async with self._sync_transaction(self.engine, readonly) as tx:
                yield tx
            return
        try:
            async with self.engine.connect() as conn:
                if readonly:
                    conn = await conn.execution_options(**{READONLY: True})
                async with conn.begin():
                    yield SqlTx(conn, self._dialect)
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise _unavailable(exc) from exc
            raise

    @asynccontextmanager
    async def _sync_transaction(self, engine: Engine, readonly: bool) -> AsyncIterator[SqlTx]:
        if not readonly:
            async with self._writer_transaction(engine) as tx:
                yield tx
            return
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(**{READONLY: True})
                with conn.begin():
                    yield SqlTx(SyncExecutor(conn), self._dialect)
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc

    @asynccontextmanager
    async def _writer_transaction(self, engine: Engine) -> AsyncIterator[SqlTx]:
        """A write transaction on the process's writer connection (caller holds the lock)."""
        try:
            if self._writer is None:
                self._writer = engine.connect()
            with self._writer.begin():
                yield SqlTx(SyncExecutor(self._writer), self._dialect)
        except _UNAVAILABLE as exc:
            self._drop_writer()
            raise _unavailable(exc) from exc
        except BaseException:
            if self._writer is not None and self._writer.invalidated:
                self._drop_writer()
            raise

    def _drop_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def ping(self) -> None:
        async with self.transaction(readonly=True) as tx:
            await tx._conn.execute(sa.text("SELECT 1"))

    async def schema_is_current(self) -> bool:
        return await migrate.is_current(self.engine)

    async def upgrade(self) -> None:
        await migrate.upgrade(self.engine)

    async def close(self) -> None:
        if isinstance(self.engine, Engine):
            self._drop_writer()
            self.engine.dispose()
        else:
            await self.engine.dispose()


def _unavailable(exc: BaseException) -> TemporarilyUnavailableError:
    log.warning("database unavailable: %s", type(exc).__name__)
    return TemporarilyUnavailableError(
        "the authorization server cannot reach its database; retry shortly",
        detail=f"{type(exc).__name__}: {exc}",
    )
