"""Password login inside an interaction, throttled per account and per client IP.

SECURITY.md SEC-43: the answer is the same for an unknown user and a wrong password, and
guessing is throttled in the database, so every process shares the counters (REL-09).
Every attempt is counted before the password is checked (parallel guesses cannot slip
through), and successful logins are counted apart: the failures in the window are
attempts minus successes. Past the limit even the right password is refused until the
window ends.

The password is verified (argon2id, deliberately slow) between two short transactions, so
no database write lock is held while it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import anyio

from authgate.core import passwords
from authgate.core.errors import InvalidRequestError, TooManyRequestsError
from authgate.core.models import User
from authgate.core.prompt import Decision, Step
from authgate.core.tokens import expiry
from authgate.flows import interaction, sessions
from authgate.flows.authorize import proceed
from authgate.flows.context import Context
from authgate.flows.interaction import Outcome
from authgate.flows.users import normalise_username
from authgate.store.base import StoreTx

BAD_CREDENTIALS = "bad_credentials"


def _buckets(username: str, ip: str | None) -> list[tuple[str, str]]:
    account = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    found = [("login:account:" + account, "account")]
    if ip:
        found.append(("login:ip:" + ip[:64], "ip"))
    return found


async def _count_attempt(
    tx: StoreTx, ctx: Context, username: str, ip: str | None, *, now: datetime
) -> bool:
    """Count one attempt in every bucket; True if any bucket is past its limit."""
    s = ctx.settings
    limits = {"account": s.login_max_failures, "ip": s.login_ip_max_failures}
    over = False
    for bucket, kind in _buckets(username, ip):
        window = expiry(now, s.login_failure_window)
        tries, _ = await tx.hit_rate_limit(bucket + ":try", now=now, window_ends_at=window)
        successes = await tx.peek_rate_limit(bucket + ":ok", now=now)
        over = over or tries - successes > limits[kind]
    return over


async def _count_success(
    tx: StoreTx, ctx: Context, username: str, ip: str | None, *, now: datetime
) -> None:
    for bucket, _ in _buckets(username, ip):
        window = expiry(now, ctx.settings.login_failure_window)
        await tx.hit_rate_limit(bucket + ":ok", now=now, window_ends_at=window)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A checked password: `user` is None for every kind of failure (SEC-43)."""

    name: str
    user: User | None = field(default=None, repr=False)


async def check_password(
    ctx: Context,
    *,
    username: str,
    password: str,
    ip: str | None,
    guard: Callable[[StoreTx], Awaitable[object]],
    now: datetime,
) -> Attempt:
    """Count one attempt (once `guard` has checked the page it came from), then verify the
    password outside any transaction. Raises TooManyRequestsError past a limit. Used by
    every page with a login form (authorization and device verification).
    """
    try:
        name = normalise_username(username)
    except InvalidRequestError:
        name = username[:255]
    async with ctx.store.transaction() as tx:
        await guard(tx)
        over = await _count_attempt(tx, ctx, name, ip, now=now)
        user = await tx.find_user_by_username(name)
    if over:
        raise TooManyRequestsError(
            "too many sign-in attempts; try again later",
            retry_after=ctx.settings.login_failure_window,
        )
    ok = await anyio.to_thread.run_sync(
        passwords.verify_password, user.password_hash if user else None, password
    )
    good = ok and user is not None and not user.is_disabled
    return Attempt(name, user if good else None)


async def count_success(
    tx: StoreTx, ctx: Context, attempt: Attempt, ip: str | None, *, now: datetime
) -> None:
    await _count_success(tx, ctx, attempt.name, ip, now=now)


async def login(
    ctx: Context,
    interaction_id: str,
    secret: str | None,
    *,
    username: str,
    password: str,
    ip: str | None,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> Outcome:
    """Check the credentials; on success start a session and continue the interaction."""

    async def guard(tx: StoreTx) -> object:
        return await interaction.load(tx, interaction_id, secret, now=now)

    attempt = await check_password(
        ctx, username=username, password=password, ip=ip, guard=guard, now=now
    )
    async with ctx.store.transaction() as tx:
        pending = await interaction.load(tx, interaction_id, secret, now=now)
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        if attempt.user is None:
            return await _failed(tx, pending, signed, now=now)
        await count_success(tx, ctx, attempt, ip, now=now)
        return await _signed_in(tx, ctx, pending, signed, attempt.user, now=now)


async def _failed(
    tx: StoreTx,
    pending: interaction.Pending,
    signed: Sequence[sessions.SignedIn],
    *,
    now: datetime,
) -> Outcome:
    """The login page again with one message for every kind of failure (SEC-43)."""
    client = await interaction.find_client(tx, pending.request.client_id)
    decision = Decision(Step.LOGIN)
    view = interaction.page(pending, client, signed, decision, error=BAD_CREDENTIALS)
    return Outcome(page=view, status_code=400)


async def _signed_in(
    tx: StoreTx,
    ctx: Context,
    pending: interaction.Pending,
    signed: Sequence[sessions.SignedIn],
    user: User,
    *,
    now: datetime,
) -> Outcome:
    new, secrets = await sessions.start_session(
        tx, user, current=signed, ttl=ctx.settings.session_ttl, now=now
    )
    progress = dataclasses.replace(
        pending.progress,
        sid=new.session.sid,
        authenticated=True,
        selected=True,
        another=False,
        consented=False,  # consent given for another account does not carry over
    )
    pending = await interaction.save(tx, pending, progress, sub=user.sub, now=now)
    now_signed = [new, *(s for s in signed if s.user.sub != user.sub)]
    return await proceed(tx, ctx, pending, now_signed, now=now, session_secrets=secrets)
