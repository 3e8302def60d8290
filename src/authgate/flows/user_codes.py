"""RFC 8628 §3.3 and §5.1: finding the device request a person's user code names, with
brute-force limits.

Failed entries are counted per client IP, per browser and in total, in the database, so
every process and instance shares them (SECURITY.md SEC-64, REL-09). At a limit nothing is
looked up, valid code or not, until the window ends; a success does not reset a counter.
Variants of one wrong code (case, dashes, spaces) from one source count once (SEC-65), and
an entry that cannot be a user code at all is neither looked up nor counted.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from authgate.core import device as rules
from authgate.core.device import CodeProblem, Counter
from authgate.core.errors import TooManyRequestsError
from authgate.core.models import DeviceCode
from authgate.core.tokens import hash_token
from authgate.flows.context import Context
from authgate.store.base import StoreTx

TOTAL = "user_code:all"


def limits(ctx: Context) -> rules.AttemptLimits:
    s = ctx.settings
    return rules.AttemptLimits(
        per_source=s.user_code_max_failures,
        total=s.user_code_global_max_failures,
        window=timedelta(seconds=s.user_code_failure_window),
    )


def browser_key(secret: str | None) -> str | None:
    """The name of a browser in the counters: a hash of its cookie secret, never the secret."""
    return hash_token(secret).hex()[:32] if secret else None


def _buckets(ip: str | None, browser: str | None) -> tuple[str, ...]:
    pairs = (("ip", ip[:64] if ip else None), ("browser", browser))
    return tuple(f"user_code:{kind}:{value}" for kind, value in pairs if value)


async def lookup(
    tx: StoreTx, ctx: Context, raw: str, *, ip: str | None, browser: str | None, now: datetime
) -> DeviceCode | CodeProblem | TooManyRequestsError:
    """The pending request `raw` names, why it names none, or the limit reached. Failures
    are recorded in `tx`: the caller commits before raising the returned error.
    """
    code = rules.normalise_user_code(raw)
    if code is None:
        return CodeProblem.MALFORMED
    lim = limits(ctx)
    buckets = _buckets(ip, browser)
    await tx.lock_rate_limit_buckets(buckets)
    windows = await tx.peek_rate_limit_windows((*buckets, TOTAL), now=now)
    idle = (0, now)
    until = rules.blocked_until(
        [Counter(*windows.get(b, idle)) for b in buckets], Counter(*windows.get(TOTAL, idle)), lim
    )
    if until is not None:
        wait = max(1, math.ceil((until - now).total_seconds()))
        return TooManyRequestsError("too many wrong codes; wait and try again", retry_after=wait)
    found = await tx.find_device_code_by_user_code(code)
    problem = rules.check_user_code(found, now=now)
    if problem is not None or found is None:
        await _count_failure(tx, buckets, code, lim, now)
        return problem or CodeProblem.UNKNOWN
    return found


async def _count_failure(
    tx: StoreTx, buckets: tuple[str, ...], code: str, lim: rules.AttemptLimits, now: datetime
) -> None:
    ends = now + lim.window
    new = not buckets
    for bucket in buckets:
        # SEC-65: variants of one wrong code are one attempt (the code is normalised).
        first, _ = await tx.hit_rate_limit(f"{bucket}:{code}", now=now, window_ends_at=ends)
        if first == 1:
            new = True
            await tx.hit_rate_limit(bucket, now=now, window_ends_at=ends)
    if new:
        await tx.hit_rate_limit(TOTAL, now=now, window_ends_at=ends)


async def find_user_code(
    ctx: Context, raw: str, *, ip: str | None, browser: str | None, now: datetime
) -> DeviceCode | CodeProblem:
    """`lookup` in a transaction of its own; raises TooManyRequestsError at a limit."""
    async with ctx.store.transaction() as tx:
        outcome = await lookup(tx, ctx, raw, ip=ip, browser=browser, now=now)
    if isinstance(outcome, TooManyRequestsError):
        raise outcome
    return outcome
