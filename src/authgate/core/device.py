"""RFC 8628: OAuth 2.0 Device Authorization Grant: user codes, polling, slow_down, limits.

State of a device code: pending → approved | denied → consumed (tokens issued once).
Polling (§3.5) is enforced by the server, per device code, in the database: a poll before
`next_poll_at` gets `slow_down`, and the first `slow_down` after an accepted poll adds 5 s to
the interval for good (SECURITY.md SEC-60), so a client that ignores the interval is answered
once per interval and never more often.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from authgate.core.errors import (
    AccessDeniedError,
    AuthorizationPendingError,
    ExpiredTokenError,
    InvalidGrantError,
    OAuthError,
    SlowDownError,
)
from authgate.core.models import DeviceCode
from authgate.core.tokens import random_choice
from authgate.core.types import DeviceStatus

# RFC 8628 §6.1: "BCDFGHJKLMNPQRSTVWXZ", base 20, no vowels (no words), no look-alikes.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8  # 20^8 ≈ 2^34.6
SLOW_DOWN_STEP = timedelta(seconds=5)  # RFC 8628 §3.5: "increased by 5 seconds"


def new_user_code() -> str:
    """A fresh user code, stored and compared in its normalised form (8 letters)."""
    return random_choice(USER_CODE_ALPHABET, USER_CODE_LENGTH)


def normalise_user_code(raw: str) -> str | None:
    """RFC 8628 §6.1: case-insensitive, punctuation and spaces ignored; None if it cannot be
    a user code at all (so it is never looked up).
    """
    code = "".join(c for c in raw.upper() if c.isascii() and c.isalnum())
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


def format_user_code(code: str) -> str:
    """The form shown to people: XXXX-XXXX."""
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


class PollOutcome(StrEnum):
    ISSUE = "issue"
    PENDING = "pending"
    SLOW_DOWN = "slow_down"


@dataclass(frozen=True, slots=True)
class PollDecision:
    """What a poll gets, and the polling state to store (the same in every outcome)."""

    outcome: PollOutcome
    device: DeviceCode

    def error(self) -> OAuthError:
        """The error answering a poll that issues nothing (PENDING or SLOW_DOWN)."""
        if self.outcome is PollOutcome.PENDING:
            return AuthorizationPendingError("the user has not yet approved this device")
        seconds = self.device.interval
        return SlowDownError(f"polling too fast; wait at least {seconds} s between polls")


def validate_poll(device: DeviceCode, *, client_id: str, now: datetime) -> PollDecision:
    """RFC 8628 §3.5: the answer to one poll of `device` by `client_id`.

    Raises the terminal errors (no state change): another client's code, an already used
    code, an expired one, a denied one. Otherwise returns the decision with the new state.
    """
    if device.client_id != client_id:
        # SEC-63: a device code is bound to the client it was issued to.
        raise InvalidGrantError("device_code was not issued to this client")
    if device.status is DeviceStatus.CONSUMED:
        raise InvalidGrantError("device_code has already been used")
    if now >= device.expires_at:
        raise ExpiredTokenError("device_code has expired; start again")
    if device.status is DeviceStatus.DENIED:
        raise AccessDeniedError("the user denied the request")
    if device.status is DeviceStatus.APPROVED:
        return PollDecision(PollOutcome.ISSUE, dataclasses.replace(device, last_polled_at=now))
    return _pending_poll(device, now)


def _pending_poll(device: DeviceCode, now: datetime) -> PollDecision:
    if device.next_poll_at is None or now >= device.next_poll_at:
        accepted = dataclasses.replace(
            device,
            last_polled_at=now,
            next_poll_at=now + timedelta(seconds=device.interval),
            penalized=False,
        )
        return PollDecision(PollOutcome.PENDING, accepted)
    if device.penalized:
        return PollDecision(PollOutcome.SLOW_DOWN, device)
    interval = device.interval + int(SLOW_DOWN_STEP.total_seconds())
    slowed = dataclasses.replace(
        device,
        interval=interval,
        next_poll_at=now + timedelta(seconds=interval),
        penalized=True,
    )
    return PollDecision(PollOutcome.SLOW_DOWN, slowed)


class CodeProblem(StrEnum):
    """Why a code a person entered leads nowhere (the verification page says which)."""

    MALFORMED = "malformed"  # cannot be a user code: nothing is looked up or counted
    UNKNOWN = "unknown"
    USED = "used"  # approved or denied already (SEC-66)
    EXPIRED = "expired"


def check_user_code(device: DeviceCode | None, *, now: datetime) -> CodeProblem | None:
    """RFC 8628 §3.3: a user may approve or deny only a pending, unexpired request."""
    if device is None:
        return CodeProblem.UNKNOWN
    if device.status is not DeviceStatus.PENDING:
        return CodeProblem.USED
    if now >= device.expires_at:
        return CodeProblem.EXPIRED
    return None


@dataclass(frozen=True, slots=True)
class AttemptLimits:
    """RFC 8628 §5.1: failed user-code entries allowed per window, per browser and per
    client IP (`per_source`) and in total. With the defaults (5 per 10 minutes, codes
    living 10 minutes) a guesser has 5 tries per live code: 5 / 20^8 ≈ 2^-32.
    """

    per_source: int
    total: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Counter:
    """Failures counted in one bucket's current window."""

    count: int
    window_ends_at: datetime


def blocked_until(
    sources: Sequence[Counter], total: Counter, limits: AttemptLimits
) -> datetime | None:
    """When entering codes opens again if a limit is reached (then nothing is looked up,
    valid code or not); None while entries are allowed.
    """
    ends = [c.window_ends_at for c in sources if c.count >= limits.per_source]
    if total.count >= limits.total:
        ends.append(total.window_ends_at)
    return max(ends) if ends else None
