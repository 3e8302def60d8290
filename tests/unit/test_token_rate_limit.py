"""core.token_rate_limit: the per-client token endpoint limit (429 + Retry-After)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authgate.core import token_rate_limit
from authgate.core.errors import TooManyRequestsError

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_bucket_names_the_client() -> None:
    assert token_rate_limit.bucket("abc") == "token:abc"


@pytest.mark.parametrize(("count", "limit"), [(1, 0), (99, 0), (1, 5), (5, 5)])
def test_within_the_limit_passes(count: int, limit: int) -> None:
    token_rate_limit.check(count, limit, now=NOW, window_ends_at=NOW + timedelta(seconds=30))


@pytest.mark.parametrize(
    ("left", "retry_after"),
    [(timedelta(seconds=30), 30), (timedelta(seconds=0.2), 1), (timedelta(0), 1)],
)
def test_over_the_limit_says_when_to_retry(left: timedelta, retry_after: int) -> None:
    with pytest.raises(TooManyRequestsError) as caught:
        token_rate_limit.check(6, 5, now=NOW, window_ends_at=NOW + left)
    assert caught.value.status_code == 429
    assert caught.value.error == "temporarily_unavailable"
    assert caught.value.headers() == {"Retry-After": str(retry_after)}
