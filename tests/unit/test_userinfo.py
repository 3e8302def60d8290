"""OIDC Core §5.1, §5.3, §5.4: claims by scope and by the claims parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from authgate.core.claims import load_claims
from authgate.core.models import User
from authgate.core.types import Subject
from authgate.core.userinfo import (
    build_id_token_claims,
    build_userinfo,
    scope_claim_names,
    standard_claims,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
USER = User(
    sub=Subject("u1"),
    username="alice",
    created_at=NOW,
    email="alice@example.test",
    email_verified=True,
    name="Alice",
    phone_number="+39 06 1234",
    address="Via Roma 1, Roma",
    updated_at=NOW,
)


def test_standard_claims_leave_out_absent_values() -> None:
    bare = User(sub=Subject("u2"), username="bob", created_at=NOW)
    assert standard_claims(bare) == {"sub": "u2", "preferred_username": "bob"}
    full = standard_claims(USER)
    assert full["address"] == {"formatted": "Via Roma 1, Roma"}
    assert full["updated_at"] == int(NOW.timestamp())
    assert full["email_verified"] is True


def test_scope_names() -> None:
    assert scope_claim_names({"email", "unknown"}) == {"email", "email_verified"}


def test_userinfo_by_scope() -> None:
    assert build_userinfo(USER, frozenset({"openid"}), load_claims(None)) == {"sub": "u1"}
    info = build_userinfo(USER, frozenset({"openid", "email", "phone"}), load_claims(None))
    assert info == {
        "sub": "u1",
        "email": "alice@example.test",
        "email_verified": True,
        "phone_number": "+39 06 1234",
    }


def test_userinfo_by_claims_parameter() -> None:
    claims = load_claims('{"userinfo": {"name": null, "nickname": null}}')
    assert build_userinfo(USER, frozenset({"openid"}), claims) == {"sub": "u1", "name": "Alice"}


def test_id_token_claims_only_by_claims_parameter() -> None:
    assert build_id_token_claims(USER, load_claims(None)) == {"sub": "u1"}
    claims = load_claims('{"id_token": {"email": {"essential": true}}}')
    assert build_id_token_claims(USER, claims) == {"sub": "u1", "email": "alice@example.test"}
