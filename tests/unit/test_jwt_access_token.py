"""core/jwt_access_token.py: the RFC 9068 claim set."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core.jwt_access_token import TYP, build_claims

IAT = datetime(2030, 1, 1, 12, 0, 0, 900_000, tzinfo=UTC)
EXP = IAT + timedelta(hours=1)


def claims(**kwargs: object) -> dict[str, object]:
    args: dict[str, object] = {
        "issuer": "https://as.test",
        "sub": "u1",
        "audience": "https://api.test",
        "client_id": "c1",
        "scope": frozenset(),
        "issued_at": IAT,
        "expires_at": EXP,
        "jti": "j1",
    }
    args.update(kwargs)
    return build_claims(**args)  # type: ignore[arg-type]


@pytest.mark.spec("RFC 9068 §2.1")
def test_typ_is_at_jwt() -> None:
    assert TYP == "at+jwt"


@pytest.mark.spec("RFC 9068 §2.2")
@pytest.mark.spec("SEC-94")
def test_required_claims() -> None:
    assert claims() == {
        "iss": "https://as.test",
        "sub": "u1",
        "aud": "https://api.test",
        "client_id": "c1",
        "iat": int(IAT.timestamp()),
        "exp": int(EXP.timestamp()),
        "jti": "j1",
    }


@pytest.mark.spec("RFC 9068 §2.2")
def test_times_are_whole_seconds() -> None:
    c = claims()
    iat, exp = c["iat"], c["exp"]
    assert isinstance(iat, int) and isinstance(exp, int)
    assert exp - iat == 3600


@pytest.mark.spec("RFC 9068 §2.2.3")
def test_scope_is_space_delimited() -> None:
    assert claims(scope=frozenset({"b", "a"}))["scope"] == "a b"


@pytest.mark.spec("RFC 9068 §2.2.1")
def test_auth_time() -> None:
    when = IAT - timedelta(minutes=5)
    assert claims(auth_time=when)["auth_time"] == int(when.timestamp())


@pytest.mark.spec("RFC 9396 §9.1")
def test_authorization_details_travel_as_json() -> None:
    details = [{"type": "payment_initiation", "instructedAmount": {"amount": "1"}}]
    assert claims(authorization_details=json.dumps(details))["authorization_details"] == details


@pytest.mark.spec("SEC-97")
def test_no_personal_claims() -> None:
    assert not {"email", "name", "preferred_username"} & set(claims(scope=frozenset({"email"})))
