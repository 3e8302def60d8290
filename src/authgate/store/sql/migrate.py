"""Alembic migrations, applied programmatically at start and by `authgate db upgrade`.

Several processes may start at once (`serve --workers N`, several hosts): the upgrade runs
under a PostgreSQL advisory lock, or SQLite's exclusive write lock, so exactly one applies
each revision and the others find the schema current.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION = "authgate.store.sql:migrations"
_LOCK_ID = 4242000


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # noqa: S101 - the package ships its revisions
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_ID})"))
    if _current(connection) != head_revision():
        command.upgrade(alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine | Engine) -> None:
    """Bring the schema to the newest revision (idempotent, safe to run concurrently)."""
    if isinstance(engine, Engine):
        with engine.begin() as sync_conn:
            _upgrade(sync_conn)
        return
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def is_current(engine: AsyncEngine | Engine) -> bool:
    if isinstance(engine, Engine):
        with engine.connect() as sync_conn:
            return _current(sync_conn) == head_revision()
    async with engine.connect() as conn:
        return await conn.run_sync(_current) == head_revision()
