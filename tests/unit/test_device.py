"""RFC 8628 rules: user codes (§6.1), polling and slow_down (§3.5), decisions, limits (§5.1)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from authgate.core import device as rules
from authgate.core.errors import (
    AccessDeniedError,
    AuthorizationPendingError,
    ExpiredTokenError,
    InvalidGrantError,
    SlowDownError,
)
from authgate.core.models import DeviceCode
from authgate.core.types import ClientId, DeviceStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def device(**changes: object) -> DeviceCode:
    base = DeviceCode(
        device_code_hash=b"h" * 32,
        user_code="BCDFGHJK",
        client_id=ClientId("c"),
        scope=frozenset({"openid"}),
        status=DeviceStatus.PENDING,
        interval=5,
        created_at=T0,
        expires_at=T0 + timedelta(seconds=600),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.spec("RFC 8628 §6.1")
def test_user_codes_use_the_base20_alphabet() -> None:
    codes = {rules.new_user_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 8 and set(c) <= set("BCDFGHJKLMNPQRSTVWXZ") for c in codes)
    assert rules.format_user_code("BCDFGHJK") == "BCDF-GHJK"


@pytest.mark.spec("SEC-65")
@pytest.mark.parametrize("raw", ["BCDF-GHJK", "bcdf-ghjk", "bcdfghjk", "bcdf ghjk", " BCDF–GHJK "])
def test_normalisation_ignores_case_spaces_and_punctuation(raw: str) -> None:
    assert rules.normalise_user_code(raw) == "BCDFGHJK"


@pytest.mark.parametrize(
    "raw", ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", "ＢＣＤＦＧＨＪＫ"]
)
def test_impossible_codes_normalise_to_none(raw: str) -> None:
    assert rules.normalise_user_code(raw) is None


@given(
    st.text(alphabet="BCDFGHJKLMNPQRSTVWXZ", min_size=8, max_size=8),
    st.sampled_from(["", "-", " "]),
)
def test_formatted_codes_normalise_back(code: str, sep: str) -> None:
    shown = rules.format_user_code(code).replace("-", sep)
    assert rules.normalise_user_code(shown.lower()) == code


@pytest.mark.spec("SEC-59")
def test_first_poll_is_pending_and_sets_the_next_poll_time() -> None:
    decision = rules.validate_poll(device(), client_id="c", now=T0)
    assert decision.outcome is rules.PollOutcome.PENDING
    assert isinstance(decision.error(), AuthorizationPendingError)
    assert decision.device.next_poll_at == at(5)
    assert decision.device.last_polled_at == T0


@pytest.mark.spec("SEC-60")
def test_slow_down_adds_five_seconds_once_and_the_interval_stays_grown() -> None:
    state = rules.validate_poll(device(), client_id="c", now=T0).device
    fast = rules.validate_poll(state, client_id="c", now=at(1))
    assert fast.outcome is rules.PollOutcome.SLOW_DOWN
    error = fast.error()
    assert isinstance(error, SlowDownError)
    assert "10 s" in str(error)
    assert (fast.device.interval, fast.device.next_poll_at, fast.device.penalized) == (
        10,
        at(11),
        True,
    )
    again = rules.validate_poll(fast.device, client_id="c", now=at(6))
    assert again.outcome is rules.PollOutcome.SLOW_DOWN
    assert again.device == fast.device  # no second penalty until a poll is accepted
    ok = rules.validate_poll(again.device, client_id="c", now=at(11))
    assert ok.outcome is rules.PollOutcome.PENDING
    assert (ok.device.interval, ok.device.next_poll_at, ok.device.penalized) == (10, at(21), False)


def test_approved_code_is_issued_even_when_polled_early() -> None:
    state = device(status=DeviceStatus.APPROVED, next_poll_at=at(5))
    decision = rules.validate_poll(state, client_id="c", now=at(1))
    assert decision.outcome is rules.PollOutcome.ISSUE
    assert decision.device.last_polled_at == at(1)


@pytest.mark.spec("SEC-61")
@pytest.mark.parametrize(
    ("state", "now", "client", "error"),
    [
        (device(), T0, "other", InvalidGrantError),
        (device(status=DeviceStatus.CONSUMED), T0, "c", InvalidGrantError),
        (device(), at(600), "c", ExpiredTokenError),
        (device(status=DeviceStatus.DENIED), T0, "c", AccessDeniedError),
        (device(status=DeviceStatus.APPROVED), at(601), "c", ExpiredTokenError),
    ],
)
def test_terminal_poll_errors(
    state: DeviceCode, now: datetime, client: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        rules.validate_poll(state, client_id=client, now=now)


@pytest.mark.spec("SEC-66")
def test_only_pending_unexpired_codes_can_be_decided() -> None:
    assert rules.check_user_code(device(), now=T0) is None
    assert rules.check_user_code(None, now=T0) is rules.CodeProblem.UNKNOWN
    for status in (DeviceStatus.APPROVED, DeviceStatus.DENIED, DeviceStatus.CONSUMED):
        assert rules.check_user_code(device(status=status), now=T0) is rules.CodeProblem.USED
    assert rules.check_user_code(device(), now=at(600)) is rules.CodeProblem.EXPIRED


@pytest.mark.spec("RFC 8628 §5.1")
def test_attempt_limits_block_until_the_latest_full_window_ends() -> None:
    limits = rules.AttemptLimits(per_source=5, total=100, window=timedelta(minutes=10))
    c = rules.Counter
    assert rules.blocked_until([c(4, at(60)), c(0, T0)], c(99, at(600)), limits) is None
    assert rules.blocked_until([c(5, at(60)), c(0, T0)], c(5, at(600)), limits) == at(60)
    assert rules.blocked_until([c(5, at(60)), c(7, at(90))], c(0, T0), limits) == at(90)
    assert rules.blocked_until([], c(100, at(600)), limits) == at(600)
    assert rules.blocked_until([c(6, at(60))], c(100, at(30)), limits) == at(60)
