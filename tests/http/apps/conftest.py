from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from authgate.config import Settings
from tests.conftest import ISSUER
from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browsers
from tests.parties import Parties, make_parties


@pytest.fixture
def settings(db: str) -> Settings:
    # A small login limit, so that SEC-43 throttling is reached in a few attempts.
    return Settings(issuer=ISSUER, database_url=db, login_max_failures=3)


@pytest.fixture
async def parties(app: ASGIApp) -> Parties:
    return await make_parties(app)


@pytest.fixture
async def browsers(app: ASGIApp) -> AsyncIterator[Browsers]:
    pool = Browsers(app)
    yield pool
    await pool.aclose()
