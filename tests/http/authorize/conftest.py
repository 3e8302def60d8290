"""Fixtures of the authorization code flow tests: SECURITY.md §0 clients and users, and
scripted browsers with their own cookie jars.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, Setup, setup


@pytest.fixture
async def fx(app: ASGIApp) -> Setup:
    return await setup(app)


@pytest.fixture
async def browsers(app: ASGIApp) -> AsyncIterator[Callable[[], Browser]]:
    made: list[Browser] = []

    def make() -> Browser:
        made.append(Browser(app))
        return made[-1]

    yield make
    for b in made:
        await b.aclose()


@pytest.fixture
def browser(browsers: Callable[[], Browser]) -> Browser:
    return browsers()
