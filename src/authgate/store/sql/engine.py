"""The engines: PostgreSQL through asyncpg (async), SQLite through the standard sqlite3
module used synchronously on the event loop's thread.

Why synchronous for SQLite: a statement on a local WAL database takes microseconds, while
handing it to aiosqlite's worker thread and back costs about a millisecond of scheduling; one
process's writers are queued by SqlStore's lock, so the loop never waits on itself.

SQLite: WAL journal, a busy timeout, foreign keys on, and `BEGIN IMMEDIATE` for every
transaction that may write (a deferred BEGIN that later writes can fail with SQLITE_BUSY in
spite of the timeout: SECURITY.md REL-07). Read-only transactions use a deferred BEGIN, which
WAL lets run beside a writer. PostgreSQL: a connection pool whose connections broken by a
database restart are replaced without restarting authgate (REL-06; store/sql/pg_pool.py sees
them without the round trips of a pre-ping).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import create_engine as create_sync_engine, event, exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

READONLY = "authgate_readonly"


def create_engine(
    url: str,
    *,
    sqlite_synchronous: str = "NORMAL",
    timeout: float = 10.0,
) -> AsyncEngine | Engine:
    """An engine for `url` (already normalised by config) with authgate's connection setup."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, sqlite_synchronous, timeout)
    # PostgreSQL transactions run on SqlStore's own pool of asyncpg connections
    # (pg_pool.py); this engine compiles statements and runs the migrations, on connections
    # of its own that it closes after each use.
    return create_async_engine(
        url,
        poolclass=NullPool,
        connect_args={"timeout": timeout, "command_timeout": timeout},
    )


def _sqlite_engine(url: str, synchronous: str, timeout: float) -> Engine:
    sync_url = url.replace("sqlite+aiosqlite://", "sqlite+pysqlite://", 1)
    engine = create_sync_engine(sync_url, connect_args={"timeout": timeout}, pool_size=20)
    busy_ms = int(timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take control of BEGIN ourselves (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: this runs once per transaction on the hot paths.
        statement = "BEGIN" if conn.get_execution_options().get(READONLY) else "BEGIN IMMEDIATE"
        driver = conn.connection.driver_connection
        if driver.in_transaction:  # type: ignore[union-attr]
            return  # a read-only transaction begun at its first prepared statement
        try:
            driver.execute(statement)  # type: ignore[union-attr]
        except sqlite3.OperationalError as exc:
            # SQLAlchemy wraps driver errors of its own calls, not of a "begin" hook: wrap it
            # here, so a database locked beyond busy_timeout is a 503 like any outage.
            raise sa_exc.OperationalError(statement, None, exc) from exc

    return engine
