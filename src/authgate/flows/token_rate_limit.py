"""Counting a client's token requests in the transaction that issues its tokens."""

from __future__ import annotations

from datetime import datetime

from authgate.core import token_rate_limit
from authgate.core.models import Client
from authgate.flows.context import Context
from authgate.store.base import StoreTx


async def count_token_request(tx: StoreTx, ctx: Context, client: Client, *, now: datetime) -> None:
    """One upsert in the issuing transaction; raises TooManyRequestsError over the limit.
    The refusal rolls the count back, which leaves the window full: refusals are not
    counted, issued tokens are.
    """
    limit = ctx.settings.token_rate_limit_per_minute
    if limit <= 0:
        return
    count, window_ends_at = await tx.hit_rate_limit(
        token_rate_limit.bucket(client.client_id),
        now=now,
        window_ends_at=now + token_rate_limit.WINDOW,
    )
    token_rate_limit.check(count, limit, now=now, window_ends_at=window_ends_at)
