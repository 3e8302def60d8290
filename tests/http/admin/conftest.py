from __future__ import annotations

import pytest
from tests.conftest import ISSUER

from authgate.config import Settings

ADMIN = "admin-token-0123456789abcdef"


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, admin_token=ADMIN)
