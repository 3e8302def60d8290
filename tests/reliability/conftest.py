"""Fixtures of the reliability tests: a live deployment per database (see cluster.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.reliability.cluster import Cluster, cluster

pytestmark = pytest.mark.slow


@pytest.fixture
async def live(db: str) -> AsyncIterator[Cluster]:
    """PostgreSQL: two `authgate serve` processes; SQLite: one with `--workers 4`."""
    async with cluster(db) as running:
        yield running
