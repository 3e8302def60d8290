from __future__ import annotations

import pytest

from tests.helpers import ASGIApp
from tests.parties import Parties, make_parties


@pytest.fixture
async def parties(app: ASGIApp) -> Parties:
    return await make_parties(app)
