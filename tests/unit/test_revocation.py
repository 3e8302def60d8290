"""core/revocation.py: the cascade and approval plans (RFC 7009, SECURITY.md SEC-77/85/86)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core.errors import ConflictError, InvalidRequestError
from authgate.core.models import Target
from authgate.core.revocation import (
    ApprovalPlan,
    BulkSelection,
    RevocationPlan,
    lookup_order,
    parse_operator_type,
    plan_approval,
    plan_revocation,
    validate_bulk,
)
from authgate.core.types import ClientId, GrantId, RevokedBy, TokenTypeHint

NOW = datetime(2026, 1, 1, tzinfo=UTC)
AT = TokenTypeHint.ACCESS_TOKEN
RT = TokenTypeHint.REFRESH_TOKEN
G = GrantId("g1")


def target(kind: TokenTypeHint = AT, **kw: object) -> Target:
    base = Target(
        kind=kind,
        client_id=ClientId("c1"),
        grant_id=G,
        expires_at=NOW + timedelta(hours=1),
        revoked_by=None,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.spec("SEC-78")
def test_hint_orders_the_search_and_never_limits_it() -> None:
    assert lookup_order(None) == (AT, RT)
    assert lookup_order("access_token") == (AT, RT)
    assert lookup_order("refresh_token") == (RT, AT)
    assert lookup_order("foo") == (AT, RT)  # RFC 7009 §2.1: an unknown hint is ignored


def test_operator_type_option() -> None:
    assert parse_operator_type(None) is None
    assert parse_operator_type("access") == "access_token"
    assert parse_operator_type("refresh") == "refresh_token"
    with pytest.raises(InvalidRequestError):
        parse_operator_type("id")


@pytest.mark.spec("SEC-85")
@pytest.mark.parametrize("kind", [AT, RT])
def test_cascade_takes_the_grant_tree(kind: TokenTypeHint) -> None:
    plan = plan_revocation(target(kind), cascade=True, now=NOW)
    assert plan == RevocationPlan(token=True, grant_id=G)
    assert plan.changes


@pytest.mark.spec("SEC-85")
@pytest.mark.parametrize("kind", [AT, RT])
def test_no_cascade_touches_only_the_named_token(kind: TokenTypeHint) -> None:
    assert plan_revocation(target(kind), cascade=False, now=NOW) == RevocationPlan(token=True)


@pytest.mark.spec("SEC-82")
def test_a_rotated_out_refresh_token_cascades_to_its_family() -> None:
    plan = plan_revocation(target(RT, consumed=True), cascade=True, now=NOW)
    assert plan.grant_id == G


def test_a_token_without_grant_is_only_itself() -> None:
    plan = plan_revocation(target(grant_id=None), cascade=True, now=NOW)
    assert plan == RevocationPlan(token=True)


@pytest.mark.spec("SEC-79")
def test_expired_or_already_revoked_tokens_change_nothing() -> None:
    assert not plan_revocation(target(expires_at=NOW), cascade=True, now=NOW).changes
    assert not plan_revocation(
        target(revoked_by=RevokedBy.OPERATOR), cascade=False, now=NOW
    ).changes
    assert not plan_revocation(
        target(grant_revoked_by=RevokedBy.REPLAY), cascade=True, now=NOW
    ).changes
    # revoked alone earlier, now with cascade: the rest of the grant goes too
    later = plan_revocation(target(revoked_by=RevokedBy.OPERATOR), cascade=True, now=NOW)
    assert later == RevocationPlan(token=False, grant_id=G)


def test_approve_with_cascade_restores_the_grant_tree() -> None:
    t = target(revoked_by=RevokedBy.OPERATOR, grant_revoked_by=RevokedBy.OPERATOR)
    plan = plan_approval(t, cascade=True, now=NOW)
    assert plan == ApprovalPlan(token=True, grant_flag=G, grant_tree=G)
    assert plan.changes


def test_approve_without_cascade_restores_the_token_and_the_grant_flag_only() -> None:
    t = target(revoked_by=RevokedBy.OPERATOR, grant_revoked_by=RevokedBy.OPERATOR)
    assert plan_approval(t, cascade=False, now=NOW) == ApprovalPlan(token=True, grant_flag=G)
    alone = target(revoked_by=RevokedBy.OPERATOR)
    assert plan_approval(alone, cascade=False, now=NOW) == ApprovalPlan(token=True)


def test_approving_a_live_token_changes_nothing() -> None:
    assert not plan_approval(target(), cascade=False, now=NOW).changes


@pytest.mark.spec("SEC-86")
@pytest.mark.parametrize(
    "by", [RevokedBy.REPLAY, RevokedBy.CODE_REUSE, RevokedBy.CLIENT, RevokedBy.USER]
)
def test_only_operator_revocations_can_be_undone(by: RevokedBy) -> None:
    for t in (target(revoked_by=by), target(grant_revoked_by=by)):
        with pytest.raises(ConflictError, match="only operator revocations"):
            plan_approval(t, cascade=True, now=NOW)


@pytest.mark.spec("SEC-86")
def test_expired_and_spent_tokens_cannot_be_approved() -> None:
    expired = target(expires_at=NOW, revoked_by=RevokedBy.OPERATOR)
    with pytest.raises(ConflictError, match="expired"):
        plan_approval(expired, cascade=True, now=NOW)
    with pytest.raises(ConflictError, match="already used"):
        plan_approval(target(RT, consumed=True), cascade=True, now=NOW)


@pytest.mark.spec("SEC-77")
def test_a_refresh_token_blocked_by_its_access_token_needs_cascade() -> None:
    blocked = target(RT, revoked_by=RevokedBy.OPERATOR, blocked=True)
    with pytest.raises(ConflictError, match="SEC-77"):
        plan_approval(blocked, cascade=False, now=NOW)
    assert plan_approval(blocked, cascade=True, now=NOW).grant_tree == G


def test_labels() -> None:
    assert target(AT).label == "access token"
    assert target(RT).label == "refresh token"


def test_bulk_selection() -> None:
    assert validate_bulk(client_id="c", sub=None, before=None) == BulkSelection(client_id="c")
    sel = validate_bulk(client_id=None, sub="u", before="2026-01-01T00:00:00Z")
    assert sel.before == NOW
    assert not sel.revokes_grants
    assert BulkSelection(sub="u").revokes_grants
    for bad in (
        {"client_id": None, "sub": None, "before": None},
        {"client_id": "c", "sub": "u", "before": None},
        {"client_id": "c", "sub": None, "before": "yesterday"},
        {"client_id": "c", "sub": None, "before": "2026-01-01T00:00:00"},
    ):
        with pytest.raises(InvalidRequestError):
            validate_bulk(**bad)  # type: ignore[arg-type]
