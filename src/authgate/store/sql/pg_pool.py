"""The PostgreSQL connection pool: asyncpg connections, handed out one per transaction.

Why not SQLAlchemy's pool (issue 9): its AsyncConnection checks a connection out, sets its
isolation level, begins, commits and checks it back in through greenlet hops and event
hooks, about 250 µs of Python per transaction: more than the whole of a token request on
SQLite. Here a checkout is a `deque.pop()`. SQLAlchemy still compiles every statement
(store/sql/prepared.py) and runs the migrations.

- At most `size` connections, never more (an overflow connection closed on return, as
  SQLAlchemy's was, opened a backend every few requests under sustained load). A request
  beyond them waits; the wait, and a connect, end within `timeout` (then TimeoutError: 503).
- A connection the server closed (a restart, REL-06) is seen without a round trip,
  `is_closed()`, and replaced; one that failed mid-statement is terminated by the executor
  and released as broken, never reused.
- Connections older than `recycle` seconds are closed when they come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

# asyncpg failures that mean the connection (or the server) is gone, or that the connection
# is in a state no further statement can use (InternalClientError: "cannot switch to state
# …; another operation is in progress", seen on a connection PostgreSQL shut down mid-reply).
_CONNECTION_ERRORS = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)
# SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: PostgreSQL is
# stopping, restarting or starting (REL-06); asyncpg reports them as plain server errors.
GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})


def _broken(exc: BaseException, driver: Any) -> bool:
    """Whether the connection `exc` came from must not be used again: the connection failed,
    or the server said it is going away (its connection then closes, perhaps before asyncpg
    has noticed: returned to the pool, it would fail the next request with a 500).
    """
    return (
        isinstance(exc, _CONNECTION_ERRORS)  # e.g. command_timeout: no answer
        or isinstance(exc.__cause__, _CONNECTION_ERRORS)
        or getattr(exc, "sqlstate", None) in GOING_AWAY
        or getattr(exc.__cause__, "sqlstate", None) in GOING_AWAY
        or bool(driver.is_closed())
    )


DRIVER_ERRORS = (asyncpg.PostgresError, *_CONNECTION_ERRORS)


def driver_error(exc: BaseException, conn: asyncpg.Connection, sql: str) -> sa_exc.DBAPIError:
    """The driver's error as SQLAlchemy's (store.py maps those to what a client sees). A
    connection that failed, or whose server is going away, is closed at once
    (`connection_invalidated`): returned to the pool it would fail the next request, and a
    polite goodbye could wait long for a database that does not answer (a partition).
    """
    broken = _broken(exc, conn)
    if broken:
        conn.terminate()
    return sa_exc.DBAPIError(sql, None, exc, hide_parameters=True, connection_invalidated=broken)


# Options of SQLAlchemy's asyncpg dialect that asyncpg.connect does not take, or names
# differently.
_RENAMED = {"prepared_statement_cache_size": "statement_cache_size"}
_DIALECT_ONLY = frozenset({"prepared_statement_name_func", "async_fallback"})


def connect_arguments(sqlalchemy_args: Mapping[str, Any]) -> dict[str, Any]:
    """asyncpg.connect's keyword arguments from those SQLAlchemy's dialect derives from the
    database URL (host, port, user, password, database, ssl, …).
    """
    out: dict[str, Any] = {}
    for key, value in sqlalchemy_args.items():
        if key in _DIALECT_ONLY:
            continue
        out[_RENAMED.get(key, key)] = value
    return out


class PgPool:
    def __init__(
        self, connect_args: dict[str, Any], *, size: int, timeout: float, recycle: float = 1800
    ) -> None:
        self._args = {**connect_args, "timeout": timeout, "command_timeout": timeout}
        self.size = size
        self.timeout = timeout
        self.recycle = recycle
        self._idle: deque[asyncpg.Connection] = deque()
        self._born: dict[int, float] = {}  # id(connection) → when it was opened
        self._open = 0  # connections open or being opened
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    @property
    def opened(self) -> int:
        return self._open

    async def acquire(self) -> asyncpg.Connection:
        """A live connection, within `timeout` (TimeoutError past it)."""
        async with asyncio.timeout(self.timeout):
            while True:
                while self._idle:
                    conn = self._idle.pop()  # the most recently used: warm, and the
                    if not conn.is_closed():  # others may be closed by the server's idle
                        return conn  # timeouts without costing anything
                    self._forget(conn)
                if self._open < self.size:
                    return await self._connect()
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                try:
                    await waiter
                except BaseException:
                    if not waiter.cancelled() and waiter.done():
                        self._wake()  # it was woken: pass the turn on
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                    raise

    async def _connect(self) -> asyncpg.Connection:
        self._open += 1
        try:
            conn = await asyncpg.connect(**self._args)
        except BaseException as exc:
            self._open -= 1
            self._wake()
            if isinstance(exc, Exception) and not isinstance(exc, (OSError, TimeoutError)):
                # e.g. 57P03 "the database system is starting up": the database is away
                raise sa_exc.OperationalError("connect", None, exc) from exc
            raise
        self._born[id(conn)] = time.monotonic()
        return conn

    def release(self, conn: asyncpg.Connection, *, broken: bool = False) -> None:
        """Back to the pool; a broken, closed, old or mid-transaction connection is closed."""
        born = self._born.get(id(conn), 0.0)
        if (
            broken
            or self._closed
            or conn.is_closed()
            or conn.is_in_transaction()
            or time.monotonic() - born > self.recycle
        ):
            self._forget(conn)
            if not conn.is_closed():
                conn.terminate()
        else:
            self._idle.append(conn)
        self._wake()

    def _forget(self, conn: asyncpg.Connection) -> None:
        if self._born.pop(id(conn), None) is not None:
            self._open -= 1

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            conn = self._idle.pop()
            self._forget(conn)
            try:
                await asyncio.wait_for(conn.close(), timeout=self.timeout)
            except Exception:  # closing anyway
                conn.terminate()
