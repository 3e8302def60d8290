"""Fixtures of the reliability tests: one live deployment per database for a whole module
(starting `authgate serve --workers 4` takes seconds on this machine), see cluster.py.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import _run, _truncate
from tests.reliability.cluster import Cluster, cluster


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """As tests/conftest.py `db`, shared by the tests of one module (emptied after them)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("reliability") / "authgate.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url: str = request.getfixturevalue("pg_database")
        yield url
        _run(_truncate(url))


@pytest.fixture(scope="module")
async def live(module_db: str) -> AsyncIterator[Cluster]:
    """PostgreSQL: two `authgate serve` processes; SQLite: one with `--workers 4`."""
    async with cluster(module_db) as running:
        yield running
