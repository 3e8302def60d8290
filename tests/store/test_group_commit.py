"""SQLite connections: group commit (store/sql/group_commit.py) — concurrent write
transactions of one process share a COMMIT, each request's writes stay atomic on their own,
and no transaction ends before the COMMIT that holds its writes; WAL checkpoints in the
background; read-only connections kept for the next reader.

SQLite only: PostgreSQL commits each transaction by itself (and has its own commit_delay).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from authgate.config import Settings
from authgate.core.errors import TemporarilyUnavailableError
from authgate.server import open_store
from authgate.store.sql import group_commit
from authgate.store.sql.store import SqlStore
from tests.helpers import now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = open_store(Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}"))
    await opened.upgrade()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def commits(store: SqlStore) -> list[int]:
    """One entry per COMMIT the store's engine runs."""
    seen: list[int] = []
    event.listen(store.engine, "commit", lambda _conn: seen.append(1))
    return seen


def committed(path: str) -> set[str]:
    """The rate-limit buckets another connection sees: only what is committed."""
    other = sqlite3.connect(path)
    try:
        return {row[0] for row in other.execute("SELECT bucket FROM rate_limits")}
    finally:
        other.close()


async def hit(store: SqlStore, bucket: str, *, fail: bool = False) -> str:
    """A request that writes one row, then fails if told to, and returns once committed."""
    when = now()
    async with store.transaction() as tx:
        await tx.hit_rate_limit(bucket, now=when, window_ends_at=when + timedelta(minutes=1))
        if fail:
            raise ValueError(bucket)
    return bucket


def size(path: str) -> int:
    return os.path.getsize(path)


def db_path(store: SqlStore) -> str:
    path = store.engine.url.database
    assert path
    return path


async def test_concurrent_requests_share_one_commit(store: SqlStore, commits: list[int]) -> None:
    buckets = [f"b{i}" for i in range(20)]
    done = await asyncio.gather(*(hit(store, b) for b in buckets))
    assert done == buckets
    assert len(commits) == 1  # twenty transactions, one COMMIT
    assert committed(db_path(store)) == set(buckets)  # every one durable when answered


async def test_a_batch_is_committed_when_full(store: SqlStore, commits: list[int]) -> None:
    buckets = [f"b{i}" for i in range(group_commit.MAX_BATCH + 1)]
    await asyncio.gather(*(hit(store, b) for b in buckets))
    assert len(commits) == 2
    assert committed(db_path(store)) == set(buckets)


async def test_a_failing_request_rolls_back_only_its_own_writes(
    store: SqlStore, commits: list[int]
) -> None:
    results = await asyncio.gather(
        hit(store, "a"), hit(store, "b", fail=True), hit(store, "c"), return_exceptions=True
    )
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], ValueError)
    assert committed(db_path(store)) == {"a", "c"}
    assert len(commits) == 1


async def test_no_transaction_ends_before_its_commit(store: SqlStore) -> None:
    """A request still inside the batch keeps it open; the others' transactions end only
    when the batch commits, and then their rows are visible to everyone."""
    path = db_path(store)
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> None:
        when = now()
        async with store.transaction() as tx:
            await tx.hit_rate_limit("slow", now=when, window_ends_at=when + timedelta(minutes=1))
            inside.set()
            await release.wait()  # real waiting inside the transaction

    slow_task = asyncio.create_task(slow())
    await inside.wait()
    fast_task = asyncio.create_task(hit(store, "fast"))
    await asyncio.sleep(0.05)
    # The fast request waits for the write lock held by the slow one; nothing is committed.
    assert not fast_task.done() and committed(path) == set()
    release.set()
    await asyncio.gather(slow_task, fast_task)
    assert committed(path) == {"slow", "fast"}


async def test_a_commit_that_fails_fails_every_request_of_the_batch(
    store: SqlStore,
) -> None:
    """A real failing COMMIT: a deferred foreign key (PRAGMA defer_foreign_keys) is only
    checked at COMMIT. Every request of that batch gets a 503, none is half-written, and the
    next request works on a new connection."""
    results = await asyncio.gather(hit(store, "a"), _orphan(store), return_exceptions=True)
    assert all(isinstance(r, TemporarilyUnavailableError) for r in results), results
    assert committed(db_path(store)) == set()
    assert await hit(store, "after") == "after"
    assert committed(db_path(store)) == {"after"}


async def _orphan(store: SqlStore) -> None:
    """Writes a row whose foreign key points nowhere, its check deferred to COMMIT."""
    async with store.transaction() as tx:
        driver = tx._conn.conn.connection.driver_connection  # type: ignore[attr-defined]
        driver.execute("PRAGMA defer_foreign_keys=ON")
        driver.execute(
            "INSERT INTO access_tokens (token_hash, jti, client_id, scope, token_format,"
            " issued_at, expires_at) VALUES (x'00', 'j', 'no-such-client', '', 'opaque', 0, 1)"
        )


async def test_a_broken_connection_loses_the_whole_batch(store: SqlStore) -> None:
    """A request that breaks the connection: the batch's other requests get a 503, nothing
    of the batch is committed, and the next request opens a new connection."""

    async def breaks() -> None:
        async with store.transaction() as tx:
            tx._conn.conn.connection.driver_connection.close()  # type: ignore[attr-defined]
            raise RuntimeError("boom")

    results = await asyncio.gather(hit(store, "a"), breaks(), return_exceptions=True)
    assert isinstance(results[0], TemporarilyUnavailableError)
    assert isinstance(results[1], RuntimeError)
    assert committed(db_path(store)) == set()
    assert await hit(store, "after") == "after"
    assert committed(db_path(store)) == {"after"}


async def test_a_cancelled_request_does_not_disturb_its_batch(store: SqlStore) -> None:
    first = asyncio.create_task(hit(store, "a"))
    second = asyncio.create_task(hit(store, "b"))
    await asyncio.sleep(0)  # both ran their work and wait for the commit
    first.cancel()
    assert await second == "b"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert committed(db_path(store)) == {"a", "b"}  # committed all the same


async def test_the_wal_is_checkpointed_in_the_background(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's automatic checkpoint (an fsync inside some COMMIT) is off; a passive
    checkpoint in a worker thread moves the committed pages into the database file."""
    path = db_path(store)
    before = size(path)
    writer = store._writer
    assert writer is not None
    monkeypatch.setattr(writer, "_checkpoint_due", float("inf"))
    for i in range(300):
        await hit(store, f"row-{i}-" + "x" * 200)
    assert size(path) == before  # everything is still in the WAL
    assert writer._driver().execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    monkeypatch.setattr(writer, "_checkpoint_due", 0.0)
    await hit(store, "last")  # its commit starts the checkpoint
    for _ in range(100):
        if size(path) > before:
            break
        await asyncio.sleep(0.02)
    assert size(path) > before
    assert len(committed(path)) == 301


async def test_read_only_connections_are_kept_for_the_next_reader(store: SqlStore) -> None:
    async with store.transaction(readonly=True) as tx:
        first = tx._conn.conn  # type: ignore[attr-defined]
    async with store.transaction(readonly=True) as outer:
        assert outer._conn.conn is first  # type: ignore[attr-defined]
        async with store.transaction(readonly=True) as inner:  # two at once: a second one
            second = inner._conn.conn  # type: ignore[attr-defined]
            assert second is not first
    async with store.transaction(readonly=True) as tx:
        assert tx._conn.conn in (first, second)  # type: ignore[attr-defined]
        await hit(store, "written meanwhile")
    async with store.transaction(readonly=True) as tx:  # a kept reader sees new commits
        assert await tx.peek_rate_limit("written meanwhile", now=now()) == 1


async def test_a_request_whose_savepoint_cannot_be_released_loses_the_batch(
    store: SqlStore,
) -> None:
    """If a request's savepoint cannot be released, its writes can no longer be told apart
    from the batch's: nothing of the batch is committed, every request of it fails."""

    async def tangles() -> None:
        async with store.transaction() as tx:
            when = now()
            await tx.hit_rate_limit("tangled", now=when, window_ends_at=when + timedelta(minutes=1))
            tx._conn.conn.connection.driver_connection.execute(  # type: ignore[attr-defined]
                "RELEASE authgate_request"
            )

    results = await asyncio.gather(hit(store, "a"), tangles(), return_exceptions=True)
    assert isinstance(results[0], TemporarilyUnavailableError)
    assert isinstance(results[1], Exception)
    assert committed(db_path(store)) == set()
    assert await hit(store, "after") == "after"


async def test_a_read_only_transaction_reads_one_snapshot_and_ends_clean(
    store: SqlStore,
) -> None:
    """A read-only transaction begins (deferred) at its first statement, so its reads see
    one snapshot (one WAL read lock per request), and ends before its connection is kept,
    also after a statement that went through SQLAlchemy.
    """
    await hit(store, "before")
    async with store.transaction(readonly=True) as tx:
        assert await tx.peek_rate_limit("before", now=now()) == 1
        await hit(store, "during")  # committed by the writer meanwhile
        assert await tx.peek_rate_limit("during", now=now()) == 0  # the same snapshot
        driver = tx._conn.conn.connection.driver_connection  # type: ignore[attr-defined]
        assert driver.in_transaction
    assert not driver.in_transaction
    async with store.transaction(readonly=True) as tx:
        assert await tx.peek_rate_limit("during", now=now()) == 1
        assert await tx.count_purgeable("access_tokens", now=now(), cutoff=now()) == 0
    assert not driver.in_transaction
    async with store.transaction(readonly=True) as tx:  # SQLAlchemy's statement first
        assert await tx.count_purgeable("access_tokens", now=now(), cutoff=now()) == 0
        assert await tx.peek_rate_limit("during", now=now()) == 1
    assert not driver.in_transaction


def wal_restarts(path: str) -> int:
    """The WAL header's checkpoint sequence number: how often the log was written from its
    start again."""
    with open(path + "-wal", "rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


async def test_the_wal_is_restarted_once_it_is_long(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A passive checkpoint leaves what a reader still needs; once the log is long, a second
    checkpoint with the writes held waits for the reader and the next batch writes the log
    from its start (without it, under a steady load the WAL grew by ~48 MB a second)."""
    path = db_path(store)
    writer = store._writer
    assert writer is not None
    monkeypatch.setattr(group_commit, "RESTART_FRAMES", 10)
    monkeypatch.setattr(group_commit, "RESTART_TIMEOUT", 5.0)
    monkeypatch.setattr(writer, "_checkpoint_due", float("inf"))
    for i in range(40):
        await hit(store, f"old-{i}")
    reader = sqlite3.connect(path)  # an old snapshot: the passive checkpoint stops there
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM rate_limits").fetchall()
    for i in range(40):
        await hit(store, f"new-{i}")
    assert wal_restarts(path) == 0
    monkeypatch.setattr(writer, "_checkpoint_due", 0.0)
    await hit(store, "trigger")  # its commit starts the passive checkpoint
    for _ in range(200):
        if writer._restarting is not None:
            break
        await asyncio.sleep(0.01)
    assert writer._restarting is not None  # the log is long: a restart waits for the reader
    reader.rollback()
    reader.close()
    for _ in range(500):
        if writer._restarting is None:
            break
        await asyncio.sleep(0.01)
    assert writer._restarting is None
    await hit(store, "after")
    assert wal_restarts(path) >= 1
    assert len(committed(path)) == 82
    limit = writer._driver().execute("PRAGMA journal_size_limit").fetchone()
    assert limit == (group_commit.WAL_SIZE_LIMIT,)


async def restart_traced(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch, flush: Callable[[str], None]
) -> list[tuple[str, bool]]:
    """Write enough for a restart (RESTART_FRAMES set low), let the checkpoint and the
    restart run with `flush` as the sync before it, and return what they did in order:
    (PASSIVE, RESTART or FLUSH, whether the writes were held meanwhile)."""
    writer = store._writer
    assert writer is not None
    monkeypatch.setattr(group_commit, "RESTART_FRAMES", 10)
    calls: list[tuple[str, bool]] = []
    real = group_commit._checkpoint

    def checkpoint(path: str, mode: str) -> tuple[int, int]:
        calls.append((mode, writer._lock.locked()))
        return real(path, mode)

    def traced_flush(path: str) -> None:
        calls.append(("FLUSH", writer._lock.locked()))
        flush(path)

    monkeypatch.setattr(group_commit, "_checkpoint", checkpoint)
    monkeypatch.setattr(group_commit, "_flush", traced_flush)
    monkeypatch.setattr(writer, "_checkpoint_due", float("inf"))
    for i in range(40):
        await hit(store, f"w-{i}")
    monkeypatch.setattr(writer, "_checkpoint_due", 0.0)
    await hit(store, "trigger")  # its commit starts the checkpoint, then the restart
    assert writer._checkpointing
    for _ in range(500):
        if not writer._checkpointing:
            break
        await asyncio.sleep(0.01)
    assert not writer._checkpointing
    return calls


@pytest.mark.parametrize(("catch_up_frames", "passes"), [(512, 1), (-1, 4)])
async def test_a_restart_catches_up_and_flushes_before_it_holds_the_writes(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch, catch_up_frames: int, passes: int
) -> None:
    """Before holding the writes for the restart, passive passes copy what was appended
    meanwhile, with the writes going on, until at most CATCH_UP_FRAMES are left (at most
    CATCH_UP_PASSES passes), and the database file is synced: the held part then has
    little to copy and little to sync."""
    monkeypatch.setattr(group_commit, "CATCH_UP_FRAMES", catch_up_frames)
    monkeypatch.setattr(group_commit, "CATCH_UP_PASSES", 4)
    calls = await restart_traced(store, monkeypatch, group_commit._flush)
    # the first pass, the catch-up passes (a pass that leaves <= 512 frames ends them; with
    # -1 none does) and the sync, all with the writes going on; then the restart, held
    assert calls == [("PASSIVE", False)] * (1 + passes) + [("FLUSH", False), ("RESTART", True)]
    await hit(store, "after")
    assert wal_restarts(db_path(store)) >= 1
    assert len(committed(db_path(store))) == 42


async def test_a_failed_flush_still_restarts_the_wal(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync before the restart is an optimisation: if it fails (say the file cannot be
    opened), the restart still runs, and its own sync does the work, held."""

    def broken(path: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    calls = await restart_traced(store, monkeypatch, broken)
    assert calls[-2:] == [("FLUSH", False), ("RESTART", True)]
    assert len(committed(db_path(store))) == 41


def test_the_flush_keeps_one_descriptor_per_file_open(tmp_path: Path) -> None:
    """Closing a descriptor of the database file would drop every POSIX lock this process
    holds on it, SQLite's included: `_flush` opens one per file once and never closes it;
    a file replaced at the same path gets a new one."""
    path = str(tmp_path / "f.db")
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    group_commit._flush(path)
    first = group_commit._files[path]
    group_commit._flush(path)
    assert group_commit._files[path] == first
    assert os.fstat(first).st_ino == os.stat(path).st_ino
    os.replace(path, path + ".old")
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    group_commit._flush(path)
    second = group_commit._files[path]
    assert second != first and os.fstat(second).st_ino == os.stat(path).st_ino
    assert os.fstat(first).st_ino == os.stat(path + ".old").st_ino  # still open


async def test_writers_held_across_a_pause_still_share_one_commit(
    store: SqlStore, commits: list[int]
) -> None:
    """The writer lock held across a real suspension (a WAL restart holds it) queues the
    requests that arrive meanwhile; released, they all pass in one loop turn and share one
    COMMIT (with asyncio.Lock's hand-off each one had a COMMIT of its own, for good)."""
    writer = store._writer
    assert writer is not None
    await hit(store, "warm")
    commits.clear()
    await writer._lock.acquire()
    waiting = [asyncio.ensure_future(hit(store, f"b{i}")) for i in range(20)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting)
    writer._lock.release()
    await asyncio.gather(*waiting)
    assert len(commits) == 1
    assert committed(db_path(store)) == {"warm", *(f"b{i}" for i in range(20))}
