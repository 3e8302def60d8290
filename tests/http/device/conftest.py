"""Fixtures of the device flow tests: D1 (SECURITY.md §0), U1 and U2, and browsers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers import ASGIApp, RegisteredClient, make_user
from tests.http.authorize.browser import Browser, Browsers
from tests.http.device.pages import make_device_client


@pytest.fixture
async def d1(app: ASGIApp) -> RegisteredClient:
    return await make_device_client(app)


@pytest.fixture
async def u1(app: ASGIApp) -> str:
    return await make_user(app, "alice")


@pytest.fixture
async def u2(app: ASGIApp) -> str:
    return await make_user(app, "bob")


@pytest.fixture
async def browsers(app: ASGIApp) -> AsyncIterator[Browsers]:
    pool = Browsers(app)
    yield pool
    await pool.aclose()


@pytest.fixture
def browser(browsers: Browsers) -> Browser:
    return browsers()
