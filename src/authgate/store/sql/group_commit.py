"""Group commit on SQLite: the write transactions of concurrent requests share one COMMIT.

SQLite has one writer at a time, and each COMMIT in WAL mode appends the transaction's pages
to the log (a write(), plus an fsync with `synchronous=FULL`): for a request that writes one
token row that is about half of its database cost. So one process's writes are batched:

- the process's one writer connection opens a batch transaction (`BEGIN IMMEDIATE`, see
  engine.py) and each request's work runs in a SAVEPOINT inside it, one request at a time
  (an asyncio lock); a request that fails rolls back its own savepoint and nothing else
  (a single-write request needs none: its one write is its last statement, and a statement
  that fails undoes itself);
- the batch commits at the end of the event-loop iteration that opened it
  (`loop.call_soon`): every request whose work ran in that iteration shares the COMMIT. Under
  load an iteration runs many requests; alone, a request waits for nothing but one turn of
  the loop. A batch is also committed at once when it holds `MAX_BATCH` requests;
- a request's transaction ends when the COMMIT that holds its writes is done: nothing is
  answered before its rows are committed (issue 9). If the COMMIT fails, every request of
  the batch fails with it (503 when the database is unavailable).

Another process's writer waits for a batch like for any writer (busy_timeout); a batch is
held for one loop iteration.

Checkpoints: SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL
pages, copying them into the database file and fsyncing it (even with
`synchronous=NORMAL`), which stalled a request every few thousand for tens of milliseconds
(the p99 of issue 9). The writer turns it off and a passive checkpoint runs at most once a
`CHECKPOINT_INTERVAL` in a worker thread instead, beside the writers (it never blocks them).

A checkpoint alone does not bound the log: SQLite writes the WAL from its start again only
when a writer begins while every frame is checkpointed, and under a steady write load the
passive checkpoint never catches up with the frames appended while it runs (seen in issue 9:
the WAL grew by ~48 MB a second, a gigabyte in 20 s of token requests, and every read
searched it). So once the log holds `RESTART_FRAMES`, the passive checkpoint that copied the
bulk is followed by a short one with this process's writes held (`_restart`): it commits the
open batch, copies the few frames appended since and waits (briefly) for readers to leave
the log (`wal_checkpoint(RESTART)`), and the next batch writes the log from its start,
truncated to `WAL_SIZE_LIMIT` (`journal_size_limit`). Before the writes are held, more
passive passes copy what was appended meanwhile and the database file is synced, so that the
held checkpoint has little to copy and little to sync.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine, RootTransaction

from authgate.core.errors import TemporarilyUnavailableError

log = logging.getLogger(__name__)

MAX_BATCH = 64
CHECKPOINT_INTERVAL = 1.0  # seconds
RESTART_FRAMES = 4096  # WAL frames (pages) past which the log is restarted
RESTART_TIMEOUT = 0.2  # seconds the restart waits for readers (of any process) at most
CATCH_UP_FRAMES = 512  # frames a held restart may be left to copy, after the passive passes
CATCH_UP_PASSES = 4  # passive passes before a restart, at most
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes the WAL file is cut back to when it restarts
_SAVEPOINT = "authgate_request"


@dataclass(slots=True)
class _Batch:
    conn: Connection
    transaction: RootTransaction
    members: list[asyncio.Future[None]] = field(default_factory=list)
    due: bool = False  # its commit came due while a request was still inside it

    def settle(self, cause: BaseException | None) -> None:
        for member in self.members:
            if member.done():  # the request was cancelled
                continue
            if cause is None:
                member.set_result(None)
            else:
                error = _lost()  # each request raises its own error
                error.__cause__ = cause
                member.set_exception(error)


class _WriterLock:
    """A lock like asyncio.Lock, but without its hand-off: a released lock is free for
    whichever task runs first, and every waiter is woken to try again.

    With asyncio.Lock, once the lock is held across a real suspension (a WAL restart) the
    requests that arrive meanwhile queue, each is woken one loop turn after the previous
    one released, and newcomers queue behind them: from then on every request had a batch,
    and a COMMIT, of its own (a lock convoy; seen in issue 9: batches of one, half the
    token rate, for good). Here the woken waiters and the newcomers of one turn all pass in
    that turn, and share its batch.
    """

    __slots__ = ("_held", "_waiters")

    def __init__(self) -> None:
        self._held = False
        self._waiters: list[asyncio.Future[None]] = []

    def locked(self) -> bool:
        return self._held

    async def acquire(self) -> None:
        while self._held:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        self._held = True

    def release(self) -> None:
        self._held = False
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class GroupCommit:
    """The write transactions of one process on one SQLite connection, batched."""

    def __init__(
        self, engine: Engine, database_errors: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._engine = engine
        self._errors = database_errors
        self._lock = _WriterLock()
        self._conn: Connection | None = None
        self._batch: _Batch | None = None
        self._checkpoint_due = time.monotonic() + CHECKPOINT_INTERVAL
        self._checkpointing = False
        self._restarting: asyncio.Task[None] | None = None
        self._inside: tuple[_Batch, bool]  # the batch and savepoint of the request inside

    async def enter(self, *, savepoint: bool = True) -> Connection:
        """The writer connection, for one request's work; `exit` ends it. Its writes are
        undone alone if it fails (a SAVEPOINT), unless it is a single-write transaction:
        there only its last statement writes, and a statement that fails undoes itself.
        """
        await self._lock.acquire()
        try:
            batch = self._open()
            if savepoint:
                try:
                    with self._errors():
                        self._driver().execute(f"SAVEPOINT {_SAVEPOINT}")
                except BaseException:
                    if batch.conn.invalidated:
                        self._abandon(batch)
                    raise
        except BaseException:
            self._leave(None)
            raise
        self._inside = (batch, savepoint)
        return batch.conn

    async def exit(self, failure: BaseException | None) -> None:
        """End the request's work; returns once its writes are committed (raises if that
        fails). After `failure` its writes are rolled back (the batch's others are kept).
        """
        batch, savepoint = self._inside
        member: asyncio.Future[None] | None = None
        try:
            with self._errors():
                if failure is not None:
                    if savepoint:
                        self._undo(batch)
                elif savepoint:
                    try:
                        self._driver().execute(f"RELEASE {_SAVEPOINT}")
                    except BaseException:
                        self._abandon(batch)  # its writes cannot be told apart any more
                        raise
                if failure is None:
                    member = asyncio.get_running_loop().create_future()
                    batch.members.append(member)
        except BaseException:
            if batch.conn.invalidated:
                self._abandon(batch)
            raise
        finally:
            self._leave(batch)
        if member is not None:
            await member

    def _leave(self, batch: _Batch | None) -> None:
        if (
            batch is not None
            and self._batch is batch
            and (batch.due or len(batch.members) >= MAX_BATCH)
        ):
            self._commit(batch)
        self._lock.release()

    def _open(self) -> _Batch:
        if self._batch is not None:
            return self._batch
        try:
            with self._errors():
                if self._conn is None:
                    self._conn = self._engine.connect()
                    self._driver().execute("PRAGMA wal_autocheckpoint=0")  # see the docstring
                    self._driver().execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
                batch = _Batch(self._conn, self._conn.begin())
        except BaseException:
            self._drop()  # the next request starts on a new connection
            raise
        self._batch = batch
        asyncio.get_running_loop().call_soon(self._due, batch)
        return batch

    def _undo(self, batch: _Batch) -> None:
        """Roll this request's writes back; the batch's other requests keep theirs. If that
        fails the connection is unusable and the whole batch is lost.
        """
        try:
            self._driver().execute(f"ROLLBACK TO {_SAVEPOINT}")
            self._driver().execute(f"RELEASE {_SAVEPOINT}")
        except Exception:
            self._abandon(batch)

    def _driver(self) -> sqlite3.Connection:
        assert self._conn is not None  # noqa: S101
        driver = self._conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)  # noqa: S101
        return driver

    def _due(self, batch: _Batch) -> None:
        if self._batch is not batch:  # already committed (full) or abandoned
            return
        if self._lock.locked():  # a request is inside the batch: it commits on leaving
            batch.due = True
            return
        self._commit(batch)

    def _commit(self, batch: _Batch) -> None:
        self._batch = None
        try:
            with self._errors():
                batch.transaction.commit()
        except Exception as exc:
            self._drop()
            batch.settle(exc)
            return
        batch.settle(None)
        if time.monotonic() >= self._checkpoint_due and not self._checkpointing:
            self._start_checkpoint()

    def _start_checkpoint(self) -> None:
        path = self._engine.url.database
        if not path or path == ":memory:":
            return
        self._checkpointing = True
        done = asyncio.get_running_loop().run_in_executor(None, _checkpoint, path, "PASSIVE")
        done.add_done_callback(functools.partial(self._checkpoint_done, path))

    def _checkpoint_done(self, path: str, done: asyncio.Future[tuple[int, int]]) -> None:
        if done.cancelled() or done.exception() is not None:
            if not done.cancelled():
                log.warning("WAL checkpoint failed: %s", done.exception())
            self._checkpoint_over()
        elif done.result()[0] >= RESTART_FRAMES:
            self._restarting = asyncio.get_running_loop().create_task(self._restart(path))
        else:
            self._checkpoint_over()

    async def _restart(self, path: str) -> None:
        """Checkpoint what the passive checkpoint left with this process's writes held, so
        that the next batch writes the log from its start (see the docstring).

        The held part is kept short. Passive passes first copy what was appended meanwhile,
        the writers going on, until at most `CATCH_UP_FRAMES` are left. And the pages they
        copied into the database file are written to disk (`_flush`) before the writes are
        held: SQLite syncs the database file only in a checkpoint that reaches the end of
        the log, which under load only the held one does. With 10^6 live tokens, whose
        inserts touch distinct index pages, that sync of ~10,000 pages held the writes for
        30-55 ms about once a second: the soak's p99.
        """
        loop = asyncio.get_running_loop()
        try:
            for _ in range(CATCH_UP_PASSES):
                frames, copied = await loop.run_in_executor(None, _checkpoint, path, "PASSIVE")
                if frames - copied <= CATCH_UP_FRAMES:
                    break
            try:
                await loop.run_in_executor(None, _flush, path)
            except OSError as exc:  # the restart's own sync still does it, only held
                log.warning("database file sync before the WAL restart failed: %s", exc)
            async with self._lock:
                if self._batch is not None:
                    self._commit(self._batch)
                await loop.run_in_executor(None, _checkpoint, path, "RESTART")
        except Exception as exc:
            log.warning("WAL restart failed: %s", exc)
        finally:
            self._restarting = None
            self._checkpoint_over()

    def _checkpoint_over(self) -> None:
        self._checkpointing = False
        self._checkpoint_due = time.monotonic() + CHECKPOINT_INTERVAL

    def _abandon(self, batch: _Batch) -> None:
        """The connection broke inside the batch: nothing of it is committed."""
        if self._batch is batch:
            self._batch = None
        self._drop()
        batch.settle(ConnectionError("the batch's connection broke"))

    def _drop(self) -> None:
        """Discard the writer connection (not back to the pool: its transaction may still be
        open after a failed COMMIT); the next request opens a new one.
        """
        if self._conn is not None:
            conn, self._conn = self._conn, None
            if not conn.invalidated:
                conn.invalidate()
            conn.close()

    def close(self) -> None:
        if self._batch is not None and not self._lock.locked():
            self._commit(self._batch)
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# path → a descriptor of that database file, for _flush: opened once per process and never
# closed, because closing any descriptor of a file drops all of the process's POSIX locks on
# it, the ones SQLite's connections hold included (SQLite's "How To Corrupt", §2.2).
_files: dict[str, int] = {}
_files_lock = threading.Lock()


def _flush(path: str) -> None:
    """Write the database file's pages to disk (fdatasync), in a worker thread."""
    with _files_lock:
        fd = _files.get(path)
        if fd is None or _identity(os.fstat(fd)) != _identity(os.stat(path)):
            # a file replaced at the same path gets a descriptor of its own; the old one
            # stays open, as above
            fd = _files[path] = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    getattr(os, "fdatasync", os.fsync)(fd)


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _checkpoint(path: str, mode: str) -> tuple[int, int]:
    """A checkpoint on a connection of its own (in a worker thread); the frames in the log
    and how many of them are now copied into the database. PASSIVE copies what no reader
    still needs and waits for nobody; RESTART copies every frame and waits (at most
    RESTART_TIMEOUT) until no reader uses the log.
    """
    conn = sqlite3.connect(path, timeout=1.0 if mode == "PASSIVE" else RESTART_TIMEOUT)
    try:
        _busy, frames, copied = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return int(frames), int(copied)
    finally:
        conn.close()


def _lost() -> TemporarilyUnavailableError:
    return TemporarilyUnavailableError(
        "the authorization server could not commit to its database; retry shortly"
    )
