"""User passwords: argon2id (RFC 9106) through argon2-cffi, the only importer of argon2.

Hashing and verification are deliberately slow; flows run them in a worker thread.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, RFC 9106 "second recommended" parameters
# Verified when the username is unknown, so an attacker cannot tell by timing (SEC-43).
_DUMMY_HASH = _hasher.hash("authgate-timing-equaliser")
MIN_LENGTH = 8
MAX_LENGTH = 1024


def validate_new_password(password: str) -> str:
    """The rules a new password must meet; raises ValueError with the reason."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"password must be at most {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check of `password`; a missing hash still costs one verification."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
