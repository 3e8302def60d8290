"""The per-client token endpoint rate limit (SECURITY.md issue 8 "Limits").

A fixed one-minute window per client, counted in the database so that every process and
host shares it. Over the limit the client gets 429 with Retry-After (RFC 6585 §4) and the
RFC 6749 §5.2 body `{"error": "temporarily_unavailable"}`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from authgate.core.errors import TooManyRequestsError

WINDOW = timedelta(minutes=1)


def bucket(client_id: str) -> str:
    """The rate-limit bucket of a client's token requests."""
    return f"token:{client_id}"


def check(count: int, limit: int, *, now: datetime, window_ends_at: datetime) -> None:
    """Raise TooManyRequestsError when `count` requests in the window exceed `limit`
    (0 = no limit).
    """
    if limit <= 0 or count <= limit:
        return
    retry_after = max(1, math.ceil((window_ends_at - now).total_seconds()))
    raise TooManyRequestsError(
        f"more than {limit} token requests a minute from this client; retry later",
        detail=f"count={count}",
        retry_after=retry_after,
    )
