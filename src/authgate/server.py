"""The composition root: settings + the SQL store + the web app. `uvicorn` loads
`authgate.server:app_from_env` as a factory in every worker process.
"""

from __future__ import annotations

import gc
import logging

from starlette.applications import Starlette

from authgate import config
from authgate.config import Settings
from authgate.store.sql.engine import create_engine
from authgate.store.sql.store import SqlStore
from authgate.web.app import create_app


def open_store(settings: Settings) -> SqlStore:
    """A SqlStore on the configured database (migrations not yet applied)."""
    return SqlStore(
        create_engine(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            timeout=settings.database_timeout,
        ),
        pool_size=settings.database_pool_size,
        timeout=settings.database_timeout,
    )


def build_app(settings: Settings, *, migrate: bool = True) -> Starlette:
    return create_app(settings, open_store, migrate=migrate)


def app_from_env() -> Starlette:
    """The app for a worker process: settings from the environment, schema already
    migrated by `authgate serve` before the workers started (migrating again is harmless).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    skip_unused_log_fields()
    app = build_app(config.load())
    tune_gc()
    return app


def skip_unused_log_fields() -> None:
    """No formatter of ours shows a record's processName, thread, process or source line;
    looking them up is a fifth of the cost of a log line on a hot path (each revocation
    logs one; issue 9, and the logging HOWTO's "Optimization" section).
    """
    logging.logMultiprocessing = False
    logging.logThreads = False
    logging.logProcesses = False
    logging._srcfile = None  # the HOWTO's switch for the caller lookup


def tune_gc() -> None:
    """A full collection walks every object the process holds, about 110,000 after the
    imports (SQLAlchemy, Starlette, Jinja2): ~55 ms, during which no request is answered.
    What exists now lives as long as the process, so it is moved out of the collector's
    sight (gc.freeze), and young collections run less often: a request's garbage is freed by
    reference counting, the collector only finds cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
