"""Token values: generation (the one source of randomness), hashing, and lifetimes.

RFC 6749 §10.10: the probability of guessing a token "MUST be less than or equal to 2^(-128)
and SHOULD be less than or equal to 2^(-160)". Every secret value here carries 256 bits.
Values are stored only as SHA-256 digests (ARCHITECTURE.md "Tokens").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

TOKEN_BYTES = 32  # 256 bits → 43 base64url characters


def new_token() -> str:
    """A fresh opaque token, code or client secret: 256 random bits, base64url."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_id(nbytes: int = 16) -> str:
    """A random public identifier (jti, grant id, client_id, sid): 128 bits by default.
    Never starting with "-" or "_": an id is typed as a command-line argument (`authgate
    client show <client_id>`), where a leading "-" reads as an option.
    """
    while True:
        value = secrets.token_urlsafe(nbytes)
        if value[0] not in "-_":
            return value


def new_subject() -> str:
    """A user's `sub`: a UUID, whose shape never collides with a client_id (SEC-96)."""
    return str(uuid.uuid4())


def new_bytes(n: int) -> bytes:
    return secrets.token_bytes(n)


def random_choice(alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly from `alphabet` (RFC 8628 §6.1 user codes).

    From one read of the system's randomness, not one per character (`secrets.choice` reads
    it for each: a tenth of a device authorization request): a random byte below the
    largest multiple of the alphabet's size under 256 picks a character by its remainder,
    and a byte above it is thrown away, so that every character is equally likely.
    """
    size = len(alphabet)
    if size > 256:
        return "".join(secrets.choice(alphabet) for _ in range(length))
    limit = 256 - 256 % size
    chosen: list[str] = []
    while len(chosen) < length:
        for byte in secrets.token_bytes(length + 8):
            if byte < limit:
                chosen.append(alphabet[byte % size])
                if len(chosen) == length:
                    break
    return "".join(chosen)


def hash_token(value: str) -> bytes:
    """The SHA-256 digest under which a token, code or secret is stored."""
    return hashlib.sha256(value.encode()).digest()


def hash_prefix(digest: bytes) -> str:
    """A short, safe-to-log identification of a stored token: its hash's first 8 hex digits."""
    return digest[:4].hex()


def same_hash(a: bytes | None, b: bytes) -> bool:
    """Constant-time comparison of two digests (OIDC Core §16.12)."""
    if a is None:
        hmac.compare_digest(b, b)
        return False
    return hmac.compare_digest(a, b)


def expiry(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)
