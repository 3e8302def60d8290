"""core/refresh.py: rotation, reuse detection and lifetimes (RFC 6749 §6, RFC 9700 §4.14.2)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core import refresh
from authgate.core.errors import InvalidGrantError, InvalidScopeError
from authgate.core.models import Client, Grant, RefreshToken, TokenStatus
from authgate.core.refresh import Outcome, RefreshState
from authgate.core.types import ClientAuthMethod, ClientId, GrantId, Subject

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
C1 = Client(
    client_id=ClientId("c1"),
    name="C1",
    auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
    redirect_uris=(),
    grant_types=frozenset(),
    scope=frozenset(),
    created_at=NOW,
)
GRANT = Grant(
    grant_id=GrantId("g1"),
    client_id=ClientId("c1"),
    sub=Subject("u1"),
    scope=frozenset({"openid", "profile"}),
    created_at=NOW,
    expires_at=NOW + timedelta(days=14),
)
RT = RefreshToken(
    token_hash=b"h" * 32,
    grant_id=GrantId("g1"),
    client_id=ClientId("c1"),
    scope=frozenset({"openid", "profile"}),
    issued_at=NOW,
    expires_at=NOW + timedelta(days=14),
)
OK = TokenStatus(
    client_retired=False,
    user_disabled=False,
    grant_revoked=False,
    grant_expires_at=GRANT.expires_at,
    username="u1",
)


def state(
    *, token: dict[str, object] | None = None, grant: dict[str, object] | None = None, **kw: object
) -> RefreshState:
    status = dataclasses.replace(OK, **{k: v for k, v in kw.items() if k != "blocked"})
    return RefreshState(
        dataclasses.replace(RT, **(token or {})),
        dataclasses.replace(GRANT, **(grant or {})),
        status,
        blocked=bool(kw.get("blocked", False)),
    )


def test_live_token_is_used() -> None:
    assert refresh.decide(state(), client=C1, now=NOW) is Outcome.USE
    assert refresh.problem(state(), now=NOW) is None


@pytest.mark.spec("SEC-51")
def test_token_of_another_client_is_invalid_grant() -> None:
    other = dataclasses.replace(C1, client_id=ClientId("c2"))
    with pytest.raises(InvalidGrantError, match="another client"):
        refresh.decide(state(), client=other, now=NOW)


@pytest.mark.spec("SEC-55")
@pytest.mark.parametrize(
    "change",
    [{"token": {"expires_at": NOW}}, {"grant": {"expires_at": NOW}}],
)
def test_absolute_lifetime_ends_the_token(change: dict[str, dict[str, object]]) -> None:
    s = state(**change)  # type: ignore[arg-type]
    with pytest.raises(InvalidGrantError, match="absolute lifetime"):
        refresh.decide(s, client=C1, now=NOW)
    # also a spent token past the absolute lifetime: nothing left to protect, no replay
    spent = dataclasses.replace(s, token=dataclasses.replace(s.token, consumed_at=NOW))
    with pytest.raises(InvalidGrantError):
        refresh.decide(spent, client=C1, now=NOW)


def test_idle_timeout_ends_the_token() -> None:
    s = state(token={"idle_expires_at": NOW})
    with pytest.raises(InvalidGrantError, match="unused for too long"):
        refresh.decide(s, client=C1, now=NOW)
    assert s.expires_at == NOW
    assert refresh.decide(s, client=C1, now=NOW - timedelta(seconds=1)) is Outcome.USE


@pytest.mark.spec("SEC-52")
def test_spent_token_outside_any_window_is_reuse() -> None:
    s = state(token={"consumed_at": NOW})
    assert refresh.decide(s, client=C1, now=NOW) is Outcome.REUSE
    assert refresh.problem(s, now=NOW) == "refresh token was already used"


@pytest.mark.spec("REL-01")
def test_spent_token_inside_the_grace_window_is_a_retry() -> None:
    kept = {"consumed_at": NOW, "replay_payload": b"x", "replay_until": NOW + timedelta(seconds=5)}
    s = state(token=kept)
    assert refresh.decide(s, client=C1, now=NOW + timedelta(seconds=4)) is Outcome.RETRY
    assert refresh.decide(s, client=C1, now=NOW + timedelta(seconds=5)) is Outcome.REUSE
    forgotten = state(token={**kept, "replay_payload": None})
    assert refresh.decide(forgotten, client=C1, now=NOW) is Outcome.REUSE
    no_until = state(token={**kept, "replay_until": None})
    assert refresh.decide(no_until, client=C1, now=NOW) is Outcome.REUSE


def test_a_retry_after_revocation_is_not_escalated() -> None:
    dropped = {"consumed_at": NOW, "replay_until": NOW + timedelta(seconds=5)}
    s = state(token=dropped, grant={"revoked_at": NOW})
    with pytest.raises(InvalidGrantError, match="revoked"):
        refresh.decide(s, client=C1, now=NOW)
    assert refresh.decide(s, client=C1, now=NOW + timedelta(seconds=5)) is Outcome.REUSE


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"token": {"revoked_at": NOW}}, "revoked"),
        ({"grant": {"revoked_at": NOW}}, "revoked"),
        ({"client_retired": True}, "retired"),
        ({"user_disabled": True}, "disabled or deleted"),
        ({"username": None}, "disabled or deleted"),
        ({"blocked": True}, "access token issued with this refresh token was revoked"),
    ],
)
def test_unusable_tokens_are_invalid_grant(kw: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidGrantError, match=message):
        refresh.decide(state(**kw), client=C1, now=NOW)  # type: ignore[arg-type]


def test_client_grant_without_user_needs_no_username() -> None:
    s = state(grant={"sub": None}, username=None)
    assert refresh.decide(s, client=C1, now=NOW) is Outcome.USE


def test_repeat_allowed_only_while_the_successor_is_unused_and_live() -> None:
    assert refresh.repeat_allowed(state(), now=NOW)
    assert not refresh.repeat_allowed(state(token={"consumed_at": NOW}), now=NOW)
    with pytest.raises(InvalidGrantError, match="revoked"):
        refresh.repeat_allowed(state(grant={"revoked_at": NOW}), now=NOW)


def test_rotation_is_mandatory_for_public_clients() -> None:
    public = dataclasses.replace(C1, auth_method=ClientAuthMethod.NONE, rotate_refresh_tokens=False)
    assert refresh.must_rotate(public)
    assert refresh.must_rotate(C1)
    assert not refresh.must_rotate(dataclasses.replace(C1, rotate_refresh_tokens=False))


def test_replay_window() -> None:
    assert refresh.replay_until(now=NOW, grace=0) is None
    assert refresh.replay_until(now=NOW, grace=7) == NOW + timedelta(seconds=7)


@pytest.mark.spec("SEC-54")
def test_scope_may_narrow_never_widen() -> None:
    granted = frozenset({"openid", "profile"})
    assert refresh.validate_scope(None, granted) == granted
    assert refresh.validate_scope("openid", granted) == {"openid"}
    with pytest.raises(InvalidScopeError):
        refresh.validate_scope("openid email", granted)


def test_idle_deadline_slides_but_never_past_absolute_expiry() -> None:
    assert refresh.slid_idle_expiry(RT, now=NOW, idle=0) is None
    assert refresh.slid_idle_expiry(RT, now=NOW, idle=60) == NOW + timedelta(seconds=60)
    late = NOW + timedelta(days=14) - timedelta(seconds=10)
    assert refresh.slid_idle_expiry(RT, now=late, idle=60) == RT.expires_at
