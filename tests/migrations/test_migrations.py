"""Alembic `upgrade head` on an empty database equals tables.metadata (both backends)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from authgate.store.sql.migrate import head_revision, upgrade
from authgate.store.sql.tables import metadata


def _diff(conn: sa.Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_upgrade_head_matches_metadata(db: str) -> None:
    engine = create_async_engine(db)
    try:
        await upgrade(engine)  # idempotent: the fixture database is already at head
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
            version = (
                await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            ).scalar()
    finally:
        await engine.dispose()
    assert diff == []
    assert version == head_revision()
