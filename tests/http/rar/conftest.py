"""RAR (RFC 9396) tests: INTERFACE.md's payment_initiation type declared in a TOML file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authgate.config import Settings
from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, Browsers
from tests.http.rar.support import Rar, make_rar, rar_settings


@pytest.fixture
def settings(db: str, tmp_path: Path) -> Settings:
    return rar_settings(db, tmp_path)


@pytest.fixture
async def rar(app: ASGIApp) -> Rar:
    return await make_rar(app)


@pytest.fixture
async def browser(app: ASGIApp) -> AsyncIterator[Browser]:
    pool = Browsers(app)
    yield pool()
    await pool.aclose()
