"""core/tokens.py: token entropy, encoding and hashing (RFC 6749 §10.10, SEC-16, SEC-98)."""

from __future__ import annotations

import base64
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core.tokens import (
    TOKEN_BYTES,
    expiry,
    hash_prefix,
    hash_token,
    new_bytes,
    new_id,
    new_subject,
    new_token,
    random_choice,
    same_hash,
)

BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@pytest.mark.spec("SEC-98")
@pytest.mark.spec("SEC-16")
@pytest.mark.spec("RFC 6749 §10.10")
def test_new_token_is_256_bits_of_base64url() -> None:
    tokens = [new_token() for _ in range(200)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert len(token) == 43
        assert BASE64URL.fullmatch(token)
        assert len(decode(token)) == TOKEN_BYTES == 32


@pytest.mark.spec("RFC 6749 §10.10")
def test_new_token_bits_are_balanced() -> None:
    # 1000 tokens = 256 000 bits; a fair source puts the share of ones within 0.5 ± 0.005
    # (five standard deviations).
    data = b"".join(decode(new_token()) for _ in range(1000))
    ones = sum(bin(byte).count("1") for byte in data)
    assert abs(ones / (len(data) * 8) - 0.5) < 0.005
    assert len(set(data)) == 256  # every byte value occurs


def test_new_id() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    for value in ids:
        assert len(value) == 22 and BASE64URL.fullmatch(value)
        assert len(decode(value)) == 16
    assert len(new_id(32)) == 43


@pytest.mark.spec("SEC-96")
def test_new_subject_is_a_random_uuid() -> None:
    subs = {new_subject() for _ in range(50)}
    assert len(subs) == 50
    for sub in subs:
        assert uuid.UUID(sub).version == 4
        assert str(uuid.UUID(sub)) == sub


def test_new_bytes() -> None:
    assert len(new_bytes(16)) == 16
    assert new_bytes(16) != new_bytes(16)


@pytest.mark.spec("RFC 8628 §6.1")
def test_random_choice_draws_from_the_alphabet() -> None:
    alphabet = "BCDFGHJKLMNPQRSTVWXZ"
    values = [random_choice(alphabet, 8) for _ in range(200)]
    assert all(len(v) == 8 and set(v) <= set(alphabet) for v in values)
    assert set("".join(values)) == set(alphabet)
    assert random_choice(alphabet, 0) == ""


@pytest.mark.spec("RFC 8628 §6.1")
def test_random_choice_is_uniform_when_256_is_no_multiple_of_the_alphabet() -> None:
    """200 characters: a byte's remainder alone would make the first 56 twice as likely."""
    alphabet = "".join(chr(0x100 + i) for i in range(200))
    counts = Counter(random_choice(alphabet, 100_000))
    assert set(counts) == set(alphabet)
    # 500 expected each; the first 56 would be drawn ~780 times, the others ~390
    assert all(380 < n < 620 for n in counts.values()), sorted(counts.values())[::20]
    assert random_choice(alphabet * 2, 3) != random_choice(alphabet * 2, 3)  # > 256: choice


def test_hash_token_is_sha256() -> None:
    # FIPS 180-2 test vector for "abc".
    assert hash_token("abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert len(hash_token(new_token())) == 32


def test_hash_token_encodes_utf8() -> None:
    assert hash_token("caf\u00e9") == bytes.fromhex(
        "850f7dc43910ff890f8879c0ed26fe697c93a067ad93a7d50f466a7028a9bf4e"
    )
    assert hash_token("caf\u00e9") != hash_token("cafe")


def test_hash_prefix_is_the_first_8_hex_digits() -> None:
    digest = hash_token("abc")
    assert hash_prefix(digest) == "ba7816bf"


@pytest.mark.spec("OIDC Core §16.12")
def test_same_hash() -> None:
    a, b = hash_token("a"), hash_token("b")
    assert same_hash(a, hash_token("a"))
    assert not same_hash(a, b)
    assert not same_hash(None, a)
    assert not same_hash(b"", a)


def test_expiry() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert expiry(now, 60) == now + timedelta(minutes=1)
    assert expiry(now, 0) == now


def test_an_id_never_starts_like_a_command_line_option(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["-looks-like-an-option", "_also-not", "fine-id"])
    monkeypatch.setattr("authgate.core.tokens.secrets.token_urlsafe", lambda n: next(drawn))
    assert new_id() == "fine-id"
