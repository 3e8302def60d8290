"""Alembic environment: authgate passes an open connection in `config.attributes`."""

from __future__ import annotations

from alembic import context

from authgate.store.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - authgate always passes its own connection
    raise RuntimeError("run migrations through `authgate db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
