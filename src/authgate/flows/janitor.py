"""The janitor: deletes what core/retention.py allows, in bounded batches (SECURITY.md REL-11).

A sweep walks the targets in `retention.SWEEP_ORDER`; each batch deletes at most
`janitor_batch_size` rows in its own short transaction, so requests queue behind a batch for
milliseconds, never behind a sweep. Only one process per database sweeps at a time (the
store's try-lock); the others skip their turn. `authgate db purge` runs one sweep by hand;
`run_periodically` runs one every `janitor_interval` seconds in each server process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio
import anyio.lowlevel

from authgate.config import Settings
from authgate.core import retention
from authgate.core.errors import TemporarilyUnavailableError
from authgate.store.base import Store

log = logging.getLogger(__name__)

# The first sweep of a process comes this soon after start, at the latest.
FIRST_SWEEP_DELAY = 60.0


@dataclass(frozen=True, slots=True)
class SweepReport:
    """Rows deleted (or, in a dry run, purgeable) per target; `skipped` when another process
    held the sweep lock.
    """

    counts: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


Purged = Callable[[str, int], None]


def _ignore(target: str, count: int) -> None:
    return None


async def sweep(
    store: Store,
    settings: Settings,
    *,
    now: datetime,
    batch: int | None = None,
    dry_run: bool = False,
    on_purged: Purged = _ignore,
) -> SweepReport:
    """One sweep over every target; `on_purged(target, n)` after each committed batch."""
    limit = batch or settings.janitor_batch_size
    if limit <= 0:
        raise ValueError("batch must be greater than 0")
    cutoff = retention.cutoff(now, settings.janitor_retention)
    counts: dict[str, int] = {}
    if dry_run:  # read-only: needs no lock
        async with store.transaction(readonly=True) as tx:
            for target in retention.SWEEP_ORDER:
                counts[target] = await tx.count_purgeable(target, now=now, cutoff=cutoff)
        return SweepReport(counts=counts, dry_run=True)
    async with store.sweep_lock() as acquired:
        if not acquired:
            return SweepReport(skipped=True)
        for target in retention.SWEEP_ORDER:
            counts[target] = await _purge(store, target, now, cutoff, limit, on_purged)
    return SweepReport(counts=counts)


async def _purge(
    store: Store, target: str, now: datetime, cutoff: datetime, limit: int, on_purged: Purged
) -> int:
    total = 0
    while True:
        async with store.transaction() as tx:
            deleted = await tx.purge(target, now=now, cutoff=cutoff, limit=limit)
        total += deleted
        if deleted:
            on_purged(target, deleted)
        if deleted < limit:
            return total
        await anyio.lowlevel.checkpoint()  # queued requests take the database between batches


async def run_periodically(
    store: Store, settings: Settings, *, on_purged: Purged = _ignore
) -> None:
    """Sweep every `janitor_interval` seconds until cancelled; a failed sweep is logged
    and the next one tried on schedule (a database outage must not end the loop).
    """
    interval = float(settings.janitor_interval)
    await anyio.sleep(min(interval, FIRST_SWEEP_DELAY))
    while True:
        try:
            report = await sweep(store, settings, now=datetime.now(UTC), on_purged=on_purged)
        except TemporarilyUnavailableError as exc:
            log.warning("janitor sweep skipped: database unavailable (%s)", exc.detail)
        except Exception:
            log.exception("janitor sweep failed")
        else:
            if report.skipped:
                log.debug("janitor sweep skipped: another process is sweeping")
            elif report.total:
                log.info("janitor purged %d rows %s", report.total, report.counts)
        await anyio.sleep(interval)


async def count_rows(store: Store) -> dict[str, int]:
    """Rows per table, for the metrics scrape."""
    async with store.transaction(readonly=True) as tx:
        return await tx.count_rows()
