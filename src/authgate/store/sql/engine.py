"""The async engine for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite: WAL journal, a busy timeout, foreign keys on, and `BEGIN IMMEDIATE` for every
transaction that may write (a deferred BEGIN that later writes can fail with SQLITE_BUSY in
spite of the timeout: SECURITY.md REL-07). Read-only transactions use a deferred BEGIN, which
WAL lets run beside a writer. PostgreSQL: a connection pool with pre-ping, so connections
broken by a database restart are replaced without restarting authgate (REL-06).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

READONLY = "authgate_readonly"


def create_engine(
    url: str,
    *,
    sqlite_synchronous: str = "NORMAL",
    pool_size: int = 10,
    timeout: float = 10.0,
) -> AsyncEngine:
    """An engine for `url` (already normalised by config) with authgate's connection setup."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, sqlite_synchronous, timeout)
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=timeout,
        pool_recycle=1800,
        connect_args={"timeout": timeout, "command_timeout": timeout},
    )
    return engine


def _sqlite_engine(url: str, synchronous: str, timeout: float) -> AsyncEngine:
    memory = url.endswith(":memory:") or url.endswith("/")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": timeout}}
    if memory:
        kwargs["poolclass"] = NullPool
    engine = create_async_engine(url, **kwargs)
    busy_ms = int(timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take control of BEGIN ourselves (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
