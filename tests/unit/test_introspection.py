"""core/introspection.py: RFC 7662 callers, active decision and response members."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core import introspection
from authgate.core.errors import InvalidClientError
from authgate.core.models import AccessToken, Client, Grant, RefreshToken, TokenStatus
from authgate.core.refresh import RefreshState
from authgate.core.types import AccessTokenFormat, ClientAuthMethod, ClientId, GrantId, Subject

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
ISS = "https://as.test"
DETAILS = json.dumps([{"type": "payment_initiation", "instructedAmount": {"amount": "1"}}])


def client(cid: str, **kw: object) -> Client:
    base = Client(
        client_id=ClientId(cid),
        name=cid,
        auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
        redirect_uris=(),
        grant_types=frozenset(),
        scope=frozenset(),
        created_at=NOW,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


C1, C2 = client("c1"), client("c2")
R1 = client("r1", can_introspect=True)
AT = AccessToken(
    token_hash=b"a" * 32,
    jti="jti-1",
    client_id=ClientId("c1"),
    scope=frozenset({"openid", "profile"}),
    issued_at=NOW,
    expires_at=NOW + timedelta(hours=1),
    token_format=AccessTokenFormat.OPAQUE,
    sub=Subject("u1"),
    grant_id=GrantId("g1"),
)
OK = TokenStatus(
    client_retired=False,
    user_disabled=False,
    grant_revoked=False,
    grant_expires_at=None,
    username="alice",
)


@pytest.mark.spec("SEC-92")
def test_public_clients_may_not_introspect() -> None:
    with pytest.raises(InvalidClientError):
        introspection.validate_caller(client("p1", auth_method=ClientAuthMethod.NONE))
    assert introspection.validate_caller(C1) is C1


@pytest.mark.spec("SEC-90")
def test_active_access_token_members() -> None:
    body = introspection.build_access_token_response(AT, OK, caller=R1, issuer=ISS, now=NOW)
    assert body == {
        "active": True,
        "scope": "openid profile",
        "client_id": "c1",
        "username": "alice",
        "token_type": "Bearer",
        "exp": int((NOW + timedelta(hours=1)).timestamp()),
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "sub": "u1",
        "aud": ISS,
        "iss": ISS,
        "jti": "jti-1",
    }


def test_client_token_members_and_audience_and_details() -> None:
    token = dataclasses.replace(
        AT, sub=None, scope=frozenset(), audience="https://api.test", authorization_details=DETAILS
    )
    body = introspection.build_access_token_response(token, OK, caller=C1, issuer=ISS, now=NOW)
    assert body["sub"] == "c1"
    assert "username" not in body and "scope" not in body
    assert body["aud"] == "https://api.test"
    assert body["authorization_details"] == json.loads(DETAILS)


@pytest.mark.spec("SEC-89")
@pytest.mark.parametrize(
    ("token_change", "status_change"),
    [
        ({"expires_at": NOW}, {}),
        ({"revoked_at": NOW}, {}),
        ({}, {"grant_revoked": True}),
        ({}, {"client_retired": True}),
        ({}, {"user_disabled": True}),
        ({}, {"username": None}),
    ],
)
def test_inactive_access_tokens_say_nothing_else(
    token_change: dict[str, object], status_change: dict[str, object]
) -> None:
    token = dataclasses.replace(AT, **token_change)  # type: ignore[arg-type]
    status = dataclasses.replace(OK, **status_change)  # type: ignore[arg-type]
    body = introspection.build_access_token_response(token, status, caller=R1, issuer=ISS, now=NOW)
    assert body == {"active": False}


def test_a_client_sees_only_its_own_tokens_unless_it_may_introspect() -> None:
    assert introspection.may_see(C1, "c1")
    assert not introspection.may_see(C2, "c1")
    assert introspection.may_see(R1, "c1")
    body = introspection.build_access_token_response(AT, OK, caller=C2, issuer=ISS, now=NOW)
    assert body == {"active": False}


def refresh_state(**token: object) -> RefreshState:
    grant = Grant(
        grant_id=GrantId("g1"),
        client_id=ClientId("c1"),
        sub=Subject("u1"),
        scope=frozenset({"openid"}),
        created_at=NOW,
        expires_at=NOW + timedelta(days=1),
        authorization_details=DETAILS,
    )
    rt = RefreshToken(
        token_hash=b"r" * 32,
        grant_id=GrantId("g1"),
        client_id=ClientId("c1"),
        scope=frozenset({"openid"}),
        issued_at=NOW,
        expires_at=NOW + timedelta(days=1),
        idle_expires_at=NOW + timedelta(hours=2),
    )
    return RefreshState(dataclasses.replace(rt, **token), grant, OK)  # type: ignore[arg-type]


@pytest.mark.spec("SEC-91")
def test_refresh_token_members() -> None:
    body = introspection.build_refresh_token_response(
        refresh_state(), caller=C1, issuer=ISS, now=NOW
    )
    assert body["active"] is True
    assert body["exp"] == int((NOW + timedelta(hours=2)).timestamp())  # the idle deadline
    assert body["username"] == "alice" and body["sub"] == "u1"
    assert body["authorization_details"] == json.loads(DETAILS)
    assert "token_type" not in body and "jti" not in body


@pytest.mark.spec("SEC-89")
def test_rotated_out_or_foreign_refresh_tokens_are_inactive() -> None:
    spent = refresh_state(consumed_at=NOW)
    assert introspection.build_refresh_token_response(spent, caller=C1, issuer=ISS, now=NOW) == {
        "active": False
    }
    assert introspection.build_refresh_token_response(
        refresh_state(), caller=C2, issuer=ISS, now=NOW
    ) == {"active": False}


def test_client_grant_refresh_token_has_client_subject() -> None:
    state = refresh_state()
    state = dataclasses.replace(state, grant=dataclasses.replace(state.grant, sub=None))
    body = introspection.build_refresh_token_response(state, caller=R1, issuer=ISS, now=NOW)
    assert body["sub"] == "c1" and "username" not in body
