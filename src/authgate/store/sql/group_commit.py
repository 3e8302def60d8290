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
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine, RootTransaction

from authgate.core.errors import TemporarilyUnavailableError

log = logging.getLogger(__name__)

MAX_BATCH = 64
CHECKPOINT_INTERVAL = 1.0  # seconds
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


class GroupCommit:
    """The write transactions of one process on one SQLite connection, batched."""

    def __init__(
        self, engine: Engine, database_errors: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._engine = engine
        self._errors = database_errors
        self._lock = asyncio.Lock()
        self._conn: Connection | None = None
        self._batch: _Batch | None = None
        self._checkpoint_due = time.monotonic() + CHECKPOINT_INTERVAL
        self._checkpointing = False
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
        done = asyncio.get_running_loop().run_in_executor(None, _checkpoint, path)
        done.add_done_callback(self._checkpoint_done)

    def _checkpoint_done(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = False
        self._checkpoint_due = time.monotonic() + CHECKPOINT_INTERVAL
        if not done.cancelled() and done.exception() is not None:
            log.warning("WAL checkpoint failed: %s", done.exception())

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


def _checkpoint(path: str) -> None:
    """A passive checkpoint on a connection of its own (in a worker thread): it copies what
    no reader still needs and waits for nobody.
    """
    conn = sqlite3.connect(path, timeout=1.0)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        conn.close()


def _lost() -> TemporarilyUnavailableError:
    return TemporarilyUnavailableError(
        "the authorization server could not commit to its database; retry shortly"
    )
