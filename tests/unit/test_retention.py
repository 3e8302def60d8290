"""core.retention: what the janitor may delete, and when (SECURITY.md REL-11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core import retention
from authgate.core.models import (
    AccessToken,
    AuthorizationCode,
    DeviceCode,
    Grant,
    Interaction,
    RefreshToken,
    Session,
)
from authgate.core.types import (
    AccessTokenFormat,
    ClientId,
    DeviceStatus,
    GrantId,
    RevokedBy,
    Subject,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CUTOFF = retention.cutoff(NOW, 3600)
BEFORE = CUTOFF - timedelta(seconds=1)  # past the retention window
WITHIN = CUTOFF + timedelta(seconds=1)  # expired, but inside the retention window
LATER = NOW + timedelta(hours=1)

GRANT = Grant(
    grant_id=GrantId("g"),
    client_id=ClientId("c"),
    sub=Subject("u"),
    scope=frozenset({"openid"}),
    created_at=NOW - timedelta(days=1),
    expires_at=LATER,
)


def test_cutoff_subtracts_the_retention_window() -> None:
    assert retention.cutoff(NOW, 0) == NOW
    assert retention.cutoff(NOW, 3600) == NOW - timedelta(hours=1)
    with pytest.raises(ValueError, match="negative"):
        retention.cutoff(NOW, -1)


def test_sweep_order_puts_children_before_their_grant() -> None:
    order = list(retention.SWEEP_ORDER)
    grants = order.index(retention.Purgeable.GRANTS)
    for child in ("authorization_codes", "refresh_tokens", "access_tokens"):
        assert order.index(retention.Purgeable(child)) < grants
    # device codes refer to their grant without a foreign key: they go after it
    assert order.index(retention.Purgeable.DEVICE_CODES) > grants
    assert set(order) == set(retention.Purgeable)


def test_rate_limit_windows_go_when_they_end() -> None:
    assert retention.rate_limit_purgeable(NOW, now=NOW)
    assert not retention.rate_limit_purgeable(LATER, now=NOW)


def test_used_jtis_go_after_expiry_and_retention() -> None:
    assert retention.used_jti_purgeable(BEFORE, cutoff=CUTOFF)
    assert not retention.used_jti_purgeable(WITHIN, cutoff=CUTOFF)


def test_sessions_go_when_expired_or_ended() -> None:
    session = Session(
        session_hash=b"h" * 32,
        sid="s",
        sub=Subject("u"),
        auth_time=NOW,
        created_at=NOW,
        expires_at=LATER,
    )
    assert not retention.session_purgeable(session, cutoff=CUTOFF)
    assert retention.session_purgeable(replace(session, expires_at=BEFORE), cutoff=CUTOFF)
    assert retention.session_purgeable(replace(session, ended_at=BEFORE), cutoff=CUTOFF)
    assert not retention.session_purgeable(replace(session, ended_at=WITHIN), cutoff=CUTOFF)


def test_interactions_go_after_expiry() -> None:
    interaction = Interaction(
        interaction_id="i",
        secret_hash=b"h" * 32,
        kind="authorize",
        client_id=ClientId("c"),
        request="{}",
        created_at=NOW,
        expires_at=BEFORE,
    )
    assert retention.interaction_purgeable(interaction, cutoff=CUTOFF)
    assert not retention.interaction_purgeable(
        replace(interaction, expires_at=WITHIN), cutoff=CUTOFF
    )


@pytest.mark.parametrize(
    ("changes", "live_access_token", "purgeable"),
    [
        ({}, False, False),  # live grant
        ({"expires_at": BEFORE}, False, True),  # expired past retention
        ({"expires_at": WITHIN}, False, False),  # expired within retention
        ({"expires_at": BEFORE}, True, False),  # an access token outlives it
        ({"revoked_at": BEFORE, "revoked_by": RevokedBy.REPLAY}, True, True),
        ({"revoked_at": BEFORE, "revoked_by": RevokedBy.USER}, False, True),
        ({"revoked_at": WITHIN, "revoked_by": RevokedBy.CLIENT}, False, False),
        # SEC-86: an operator may approve it again until it expires
        ({"revoked_at": BEFORE, "revoked_by": RevokedBy.OPERATOR}, False, False),
        ({"revoked_at": BEFORE, "revoked_by": None}, False, False),
        (
            {"revoked_at": BEFORE, "revoked_by": RevokedBy.OPERATOR, "expires_at": BEFORE},
            False,
            True,
        ),
    ],
)
def test_grants(changes: dict[str, object], live_access_token: bool, purgeable: bool) -> None:
    grant = replace(GRANT, **changes)  # type: ignore[arg-type]
    assert (
        retention.grant_purgeable(grant, live_access_token=live_access_token, cutoff=CUTOFF)
        is purgeable
    )


def test_redeemed_codes_stay_while_their_grant_does() -> None:
    code = AuthorizationCode(
        code_hash=b"c" * 32,
        grant_id=GrantId("g"),
        client_id=ClientId("c"),
        redirect_uri="https://c.test/cb",
        created_at=BEFORE,
        expires_at=BEFORE,
    )
    assert retention.authorization_code_purgeable(code, grant_purgeable=False, cutoff=CUTOFF)
    redeemed = replace(code, consumed_at=BEFORE)
    assert not retention.authorization_code_purgeable(
        redeemed, grant_purgeable=False, cutoff=CUTOFF
    )
    assert retention.authorization_code_purgeable(redeemed, grant_purgeable=True, cutoff=CUTOFF)
    recent = replace(code, expires_at=WITHIN)
    assert not retention.authorization_code_purgeable(recent, grant_purgeable=False, cutoff=CUTOFF)


def test_refresh_tokens_go_only_with_their_grant() -> None:
    token = RefreshToken(
        token_hash=b"r" * 32,
        grant_id=GrantId("g"),
        client_id=ClientId("c"),
        scope=frozenset(),
        issued_at=BEFORE,
        expires_at=BEFORE,
        consumed_at=BEFORE,
    )
    assert not retention.refresh_token_purgeable(token, grant_purgeable=False)
    assert retention.refresh_token_purgeable(token, grant_purgeable=True)


def test_access_tokens_go_after_expiry_or_with_their_grant() -> None:
    token = AccessToken(
        token_hash=b"a" * 32,
        jti="j",
        client_id=ClientId("c"),
        scope=frozenset(),
        issued_at=NOW,
        expires_at=LATER,
        token_format=AccessTokenFormat.OPAQUE,
    )
    assert not retention.access_token_purgeable(token, grant_purgeable=False, cutoff=CUTOFF)
    assert retention.access_token_purgeable(token, grant_purgeable=True, cutoff=CUTOFF)
    expired = replace(token, expires_at=BEFORE)
    assert retention.access_token_purgeable(expired, grant_purgeable=False, cutoff=CUTOFF)


def test_device_codes_that_yielded_tokens_stay_while_their_grant_exists() -> None:
    device = DeviceCode(
        device_code_hash=b"d" * 32,
        user_code="BCDFGHJK",
        client_id=ClientId("c"),
        scope=frozenset(),
        status=DeviceStatus.PENDING,
        interval=5,
        created_at=BEFORE,
        expires_at=BEFORE,
    )
    assert retention.device_code_purgeable(device, grant_exists=False, cutoff=CUTOFF)
    live = replace(device, expires_at=WITHIN)
    assert not retention.device_code_purgeable(live, grant_exists=False, cutoff=CUTOFF)
    used = replace(device, consumed_at=BEFORE, grant_id=GrantId("g"))
    assert not retention.device_code_purgeable(used, grant_exists=True, cutoff=CUTOFF)
    assert retention.device_code_purgeable(used, grant_exists=False, cutoff=CUTOFF)
    no_grant = replace(device, consumed_at=BEFORE)
    assert retention.device_code_purgeable(no_grant, grant_exists=True, cutoff=CUTOFF)
