"""Store protocol, part: the janitor's statements (core/retention.py says what may go).

Every purge deletes at most `limit` rows in the caller's transaction, so a sweep is a
series of short transactions that never hold a lock for long (SECURITY.md REL-11).
`target` is a core.retention.Purgeable value (the store sees plain strings).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol


class JanitorStoreTx(Protocol):
    """Bounded deletes of what retention allows, and cheap row counts for /metrics."""

    async def purge(self, target: str, *, now: datetime, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` purgeable rows of `target`; the number deleted."""
        ...

    async def count_purgeable(self, target: str, *, now: datetime, cutoff: datetime) -> int:
        """How many rows of `target` a sweep would delete now (for --dry-run)."""
        ...

    async def count_rows(self) -> dict[str, int]:
        """Rows per table: exact on SQLite, the statistics' estimate on PostgreSQL."""
        ...


class JanitorStore(Protocol):
    def sweep_lock(self) -> AbstractAsyncContextManager[bool]:
        """Try to become the one process sweeping this database; yields whether it did.
        Never waits: a process that does not get the lock skips its sweep.
        """
        ...
