"""core/passwords.py: argon2id password hashing (RFC 9106)."""

from __future__ import annotations

import pytest

from authgate.core.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    validate_new_password,
    verify_password,
)


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password("correct horse")


def test_hash_is_argon2id(stored: str) -> None:
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def test_hashes_are_salted() -> None:
    assert hash_password("correct horse") != hash_password("correct horse")


def test_right_password(stored: str) -> None:
    assert verify_password(stored, "correct horse")


def test_wrong_password(stored: str) -> None:
    assert not verify_password(stored, "correct horsE")
    assert not verify_password(stored, "")


@pytest.mark.spec("SEC-43")
def test_user_without_a_hash_never_verifies() -> None:
    # The dummy hash is verified for the work, but the answer is always no.
    assert not verify_password(None, "authgate-timing-equaliser")
    assert not verify_password(None, "correct horse")


def test_overlong_password_is_refused_without_hashing(stored: str) -> None:
    assert not verify_password(stored, "x" * (MAX_LENGTH + 1))


def test_corrupt_hash_does_not_verify() -> None:
    assert not verify_password("not-a-hash", "correct horse")
    assert not verify_password("$argon2id$v=19$m=65536,t=3,p=4$broken", "correct horse")


def test_password_length_rules() -> None:
    assert validate_new_password("x" * MIN_LENGTH) == "x" * MIN_LENGTH
    assert validate_new_password("x" * MAX_LENGTH) == "x" * MAX_LENGTH
    with pytest.raises(ValueError, match=f"at least {MIN_LENGTH}"):
        validate_new_password("x" * (MIN_LENGTH - 1))
    with pytest.raises(ValueError, match=f"at most {MAX_LENGTH}"):
        validate_new_password("x" * (MAX_LENGTH + 1))
