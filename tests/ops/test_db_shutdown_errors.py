"""REL-06: PostgreSQL's "shutting down" / "starting up" errors (SQLSTATE 57P01…57P03) mean
the database is away, so the client gets 503, not 500. Found by the real restart in
tests/reliability/test_pg_restart.py (soak only); pinned here with the driver's exceptions.
"""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from authgate.core.errors import TemporarilyUnavailableError
from authgate.store.sql.errors import database_errors as _database_errors


@pytest.mark.spec("REL-06")
@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
        asyncpg.exceptions.CrashShutdownError("terminating connection: crash of another process"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    ],
)
def test_a_stopping_server_is_unavailable(error: Exception) -> None:
    with pytest.raises(TemporarilyUnavailableError), _database_errors():
        raise sa_exc.DBAPIError("SELECT 1", None, error)


def test_other_server_errors_still_propagate() -> None:
    error = asyncpg.exceptions.UniqueViolationError("duplicate key")
    with pytest.raises(sa_exc.DBAPIError), _database_errors():
        raise sa_exc.DBAPIError("INSERT", None, error)
