"""Sealing the refresh-token grace payload (RFC 9700 §4.14.2, `refresh_token_reuse_grace`).

With a grace window, a repeat of a refresh request gets the successor pair the first request
got, so that pair must be kept until the window closes. It is kept sealed with AES-256-GCM
(NIST SP 800-38D) under a key derived with HKDF-SHA256 (RFC 5869) from the refresh token the
client presented. The database holds only SHA-256 of that token, which does not yield the
key: a copy of the database alone opens nothing, and no server-side key needs managing,
sharing between processes or rotating. Only a holder of the spent token can open the
payload, and within the window that holder is exactly who is entitled to the answer again.
The token carries 256 random bits, so a fast KDF is enough (no password stretching needed).

Blob layout: version (1 byte) ‖ HKDF salt (16) ‖ GCM nonce (12) ‖ ciphertext with tag.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authgate.core.tokens import new_bytes

VERSION = b"\x01"
_SALT = 16
_NONCE = 12
_INFO = b"authgate refresh-token replay payload v1"


def _key(secret: str, salt: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO)
    return hkdf.derive(secret.encode())


def seal(secret: str, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt `plaintext` so that only a holder of `secret` can read it; `aad` binds it
    to its row (the token hash), so a blob moved to another row does not open.
    """
    salt, nonce = new_bytes(_SALT), new_bytes(_NONCE)
    sealed = AESGCM(_key(secret, salt)).encrypt(nonce, plaintext, aad)
    return VERSION + salt + nonce + sealed


def unseal(secret: str, blob: bytes, *, aad: bytes) -> bytes | None:
    """The plaintext of a sealed blob, or None if `secret` or `aad` is wrong or the blob
    was altered.
    """
    if blob[:1] != VERSION or len(blob) < 1 + _SALT + _NONCE + 16:
        return None
    salt = blob[1 : 1 + _SALT]
    nonce = blob[1 + _SALT : 1 + _SALT + _NONCE]
    try:
        return AESGCM(_key(secret, salt)).decrypt(nonce, blob[1 + _SALT + _NONCE :], aad)
    except InvalidTag:
        return None
