"""Fixtures of the authorization code flow tests: SECURITY.md §0 clients and users, and
scripted browsers with their own cookie jars.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, Browsers, Setup, setup


@pytest.fixture
async def fx(app: ASGIApp) -> Setup:
    return await setup(app)


@pytest.fixture
async def browsers(app: ASGIApp) -> AsyncIterator[Browsers]:
    pool = Browsers(app)
    yield pool
    await pool.aclose()


@pytest.fixture
def browser(browsers: Browsers) -> Browser:
    return browsers()
