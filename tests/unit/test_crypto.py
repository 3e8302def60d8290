"""core/crypto.py: the sealed grace-window payload opens only with the presented token."""

from __future__ import annotations

from authgate.core import crypto


def test_round_trip_and_every_wrong_input_fails() -> None:
    blob = crypto.seal("token-value", b"successor pair", aad=b"row")
    assert crypto.unseal("token-value", blob, aad=b"row") == b"successor pair"
    assert b"successor" not in blob
    assert crypto.unseal("other-token", blob, aad=b"row") is None
    assert crypto.unseal("token-value", blob, aad=b"other-row") is None
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert crypto.unseal("token-value", tampered, aad=b"row") is None
    assert crypto.unseal("token-value", b"\x02" + blob[1:], aad=b"row") is None
    assert crypto.unseal("token-value", blob[:20], aad=b"row") is None


def test_each_seal_is_fresh() -> None:
    assert crypto.seal("t", b"p", aad=b"a") != crypto.seal("t", b"p", aad=b"a")
