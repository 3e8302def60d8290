"""OIDC Core §2, §3.1.3.6: the ID token claim set; id_token_hint verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authgate.core import jose
from authgate.core.errors import InvalidRequestError
from authgate.core.id_token import build_claims, parse_hint
from authgate.core.models import SigningKey
from authgate.core.types import SigningAlg

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ISS = "https://op.test"


@pytest.fixture(scope="module")
def ring() -> jose.KeyRing:
    kid, private, public = jose.generate_key(SigningAlg.ES256)
    key = SigningKey(kid, SigningAlg.ES256, private, public, NOW, NOW)
    return jose.KeyRing([key], now=NOW)


def test_minimal_claims() -> None:
    claims = build_claims(
        issuer=ISS, client_id="c1", sub="u1", issued_at=NOW, ttl=60, alg=SigningAlg.RS256
    )
    assert claims == {
        "iss": ISS,
        "sub": "u1",
        "aud": "c1",
        "azp": "c1",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 60,
    }


def test_full_claims_and_protected_names() -> None:
    claims = build_claims(
        issuer=ISS,
        client_id="c1",
        sub="u1",
        issued_at=NOW,
        ttl=60,
        alg=SigningAlg.RS256,
        auth_time=NOW - timedelta(seconds=5),
        nonce="n",
        acr="1",
        amr=("pwd",),
        sid="s1",
        access_token="token",
        user_claims={"email": "a@example.test", "sub": "evil", "iss": "evil"},
    )
    assert claims["auth_time"] == int(NOW.timestamp()) - 5
    assert claims["nonce"] == "n" and claims["acr"] == "1" and claims["amr"] == ["pwd"]
    assert claims["sid"] == "s1"
    assert claims["at_hash"] == jose.half_hash("token", SigningAlg.RS256)
    assert claims["email"] == "a@example.test"
    assert claims["sub"] == "u1" and claims["iss"] == ISS


def test_hint_round_trip(ring: jose.KeyRing) -> None:
    token = ring.sign({"iss": ISS, "sub": "u1", "aud": "c1", "sid": "s"}, alg=SigningAlg.ES256)
    hint = parse_hint(ring, token, issuer=ISS)
    assert (hint.sub, hint.audience, hint.sid) == ("u1", ("c1",), "s")
    token = ring.sign({"iss": ISS, "sub": "u1", "aud": ["c1", "c2"]}, alg=SigningAlg.ES256)
    assert parse_hint(ring, token, issuer=ISS).audience == ("c1", "c2")


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://other.test", "sub": "u1", "aud": "c1"},
        {"iss": ISS, "aud": "c1"},
        {"iss": ISS, "sub": "u1"},
    ],
)
def test_bad_hints(ring: jose.KeyRing, claims: dict[str, object]) -> None:
    token = ring.sign(claims, alg=SigningAlg.ES256)
    with pytest.raises(InvalidRequestError):
        parse_hint(ring, token, issuer=ISS)


def test_garbage_hint(ring: jose.KeyRing) -> None:
    with pytest.raises(InvalidRequestError):
        parse_hint(ring, "not.a.jwt", issuer=ISS)
