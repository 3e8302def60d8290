"""Shared fixtures: every store-backed test runs on SQLite and on PostgreSQL.

PostgreSQL: AUTHGATE_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432/test). This session
creates its own database beside it, migrates it once, and truncates it after each test, so
several test runs on one server do not meet. Unreachable: skipped locally, a failure under
CI=true. SQLite: each test gets a copy of a migrated template file (with signing keys made
once, since RSA key generation is slow).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from authgate.config import Settings
from authgate.flows.keys import ensure_keys
from authgate.server import build_app, open_store
from authgate.store.sql import tables
from tests.helpers import ASGIApp, lifespan_app

PG_BASE = os.environ.get(
    "AUTHGATE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ISSUER = "http://127.0.0.1:8000"
KEEP = {"signing_keys", "alembic_version"}


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def _prepare(url: str) -> None:
    settings = Settings(database_url=url)
    store = open_store(settings)
    try:
        await store.upgrade()
        await ensure_keys(store, now=datetime.now(UTC))
    finally:
        await store.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "authgate.db"
    _run(_prepare(f"sqlite+aiosqlite:///{path}"))
    return path


def _pg_admin_url() -> str:
    return PG_BASE


async def _pg_create(name: str) -> None:
    engine = create_async_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _pg_drop(name: str) -> None:
    engine = create_async_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = f"authgate_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        _run(_pg_create(name))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = PG_BASE.rsplit("/", 1)[0] + "/" + name
    _run(_prepare(url))
    yield url
    _run(_pg_drop(name))


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    names = ", ".join(t.name for t in tables.metadata.sorted_tables if t.name not in KEEP)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database URL with signing keys, empty of everything else."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "authgate.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
        yield url
        _run(_truncate(url))


@pytest.fixture
def settings(db: str) -> Settings:
    """Override in a feature folder's conftest.py to test under another configuration."""
    return Settings(issuer=ISSUER, database_url=db)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[ASGIApp]:
    async with lifespan_app(build_app(settings)) as running:
        yield running


@pytest.fixture
async def client(app: ASGIApp, settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url=settings.issuer) as http:
        yield http


@pytest.fixture
async def store(app: ASGIApp) -> object:
    """The store the running app uses (same engine, same database)."""
    return app.state["ctx"].store
