"""RFC 7636 with S256 only (RFC 9700 §2.1.1)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from authgate.core import pkce
from authgate.core.errors import InvalidGrantError, InvalidRequestError

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert pkce.s256(VERIFIER) == CHALLENGE


@pytest.mark.spec("SEC-18")
def test_challenge_required_when_the_client_requires_pkce() -> None:
    with pytest.raises(InvalidRequestError, match="required"):
        pkce.validate_challenge(None, None, required=True)
    assert pkce.validate_challenge(None, None, required=False) is None


@pytest.mark.spec("SEC-22")
@pytest.mark.parametrize("method", [None, "plain", "s256"])
def test_only_s256_is_accepted(method: str | None) -> None:
    with pytest.raises(InvalidRequestError, match="S256"):
        pkce.validate_challenge(CHALLENGE, method, required=True)


def test_method_without_challenge_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="without code_challenge"):
        pkce.validate_challenge(None, "S256", required=False)


@pytest.mark.spec("SEC-24")
@pytest.mark.parametrize("challenge", [CHALLENGE[:42], CHALLENGE + "=", CHALLENGE[:42] + "+"])
def test_challenge_syntax(challenge: str) -> None:
    with pytest.raises(InvalidRequestError, match="43 base64url"):
        pkce.validate_challenge(challenge, "S256", required=True)


def test_valid_challenge_is_returned() -> None:
    assert pkce.validate_challenge(CHALLENGE, "S256", required=False) == CHALLENGE


def test_verify_accepts_the_right_verifier() -> None:
    pkce.verify(CHALLENGE, VERIFIER)
    pkce.verify(None, None)


@pytest.mark.spec("SEC-19")
def test_verifier_without_challenge_is_a_downgrade() -> None:
    with pytest.raises(InvalidGrantError, match="without code_challenge"):
        pkce.verify(None, VERIFIER)


@pytest.mark.spec("SEC-20")
def test_missing_verifier() -> None:
    with pytest.raises(InvalidGrantError, match="required"):
        pkce.verify(CHALLENGE, None)


@pytest.mark.spec("SEC-21")
@pytest.mark.spec("SEC-23")
@pytest.mark.parametrize("verifier", ["a" * 43, CHALLENGE])
def test_wrong_verifier(verifier: str) -> None:
    with pytest.raises(InvalidGrantError, match="does not match"):
        pkce.verify(CHALLENGE, verifier)


@pytest.mark.spec("SEC-24")
@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "a" * 42 + "+"])
def test_verifier_syntax(verifier: str) -> None:
    with pytest.raises(InvalidGrantError, match="43 to 128"):
        pkce.verify(CHALLENGE, verifier)


@given(st.text(alphabet="ABCxyz019-._~", min_size=43, max_size=128))
def test_every_valid_verifier_verifies_against_its_own_challenge(verifier: str) -> None:
    pkce.verify(pkce.s256(verifier), verifier)
