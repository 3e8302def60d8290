"""Database failures as the errors a client should see: 503 when the database cannot be
reached (REL-06), 400 for a value a column cannot hold; anything else propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy import exc as sa_exc

from authgate.core.errors import InvalidRequestError, TemporarilyUnavailableError
from authgate.store.sql.pg_pool import GOING_AWAY

log = logging.getLogger("authgate.store.sql.store")

# A value the caller supplied that its column cannot hold (PostgreSQL: too long for a
# VARCHAR(n), an integer out of range, a NUL character; sqlite3: an int beyond 64 bits)
# is a bad request.
_OUT_OF_RANGE = (sa_exc.DataError, OverflowError)
UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.exceptions.InternalClientError,  # a connection left unusable (pg_pool.py)
    OSError,
    TimeoutError,
)


def client_error(exc: BaseException) -> Exception | None:
    """The error a client should see for `exc`, or None when `exc` is to propagate as it is."""
    if isinstance(exc, UNAVAILABLE):
        return unavailable(exc)
    if isinstance(exc, _OUT_OF_RANGE):
        return _out_of_range(exc)
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or _server_going_away(exc):
            return unavailable(exc)
        if _bad_value(exc):
            return _out_of_range(exc)
    return None


@contextmanager
def database_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        error = client_error(exc)
        if error is None:
            raise
        raise error from exc


def unavailable(exc: BaseException) -> TemporarilyUnavailableError:
    log.warning("database unavailable: %s", type(exc).__name__)
    return TemporarilyUnavailableError(
        "the authorization server cannot reach its database; retry shortly",
        detail=f"{type(exc).__name__}: {exc}",
    )


def _sqlstates(exc: sa_exc.DBAPIError) -> set[str]:
    codes = set()
    for error in (exc.orig, exc.orig.__cause__ if exc.orig else None):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if isinstance(code, str):
            codes.add(code)
    return codes


def _server_going_away(exc: sa_exc.DBAPIError) -> bool:
    return bool(_sqlstates(exc) & GOING_AWAY)


def _bad_value(exc: sa_exc.DBAPIError) -> bool:
    """asyncpg's data errors reach SQLAlchemy as a plain DBAPIError: SQLSTATE class 22
    ("data exception") from the server, or a ValueError when encoding an argument.
    """
    for error in (exc.orig, exc.orig.__cause__ if exc.orig else None):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if (isinstance(code, str) and code.startswith("22")) or isinstance(error, ValueError):
            return True
    return False


def _out_of_range(exc: BaseException) -> InvalidRequestError:
    return InvalidRequestError(
        "a value cannot be stored: too long, out of range or not valid text",
        detail=f"{type(exc).__name__}: {exc}"[:500],
    )
