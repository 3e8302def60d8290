"""core/jose.py: signing keys, the key ring, JWS sign/verify, client JWK Sets, half hashes."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from authgate.core import jose
from authgate.core.jose import JoseVerificationError, KeyRing
from authgate.core.models import SigningKey
from authgate.core.types import SigningAlg

T0 = datetime(2030, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
ES256 = SigningAlg.ES256
RS256 = SigningAlg.RS256


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, object], payload: bytes, signature: bytes = b"x" * 64) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(payload)}.{b64(signature)}"


def record(
    alg: SigningAlg,
    *,
    active_from: datetime = T0,
    retired_at: datetime | None = None,
    publish_until: datetime | None = None,
) -> SigningKey:
    kid, private, public = jose.generate_key(alg)
    return SigningKey(
        kid=kid,
        alg=alg,
        private_jwk=private,
        public_jwk=public,
        created_at=active_from - HOUR,
        active_from=active_from,
        retired_at=retired_at,
        publish_until=publish_until,
    )


def kids(ring: KeyRing) -> list[object]:
    keys = ring.jwks()["keys"]
    assert isinstance(keys, list)
    return [k["kid"] for k in keys]


@pytest.fixture(scope="module")
def rsa() -> SigningKey:
    return record(RS256)


# generate_key


def test_generate_es256_key() -> None:
    kid, private, public = jose.generate_key(ES256)
    priv, pub = json.loads(private), json.loads(public)
    assert priv["kty"] == pub["kty"] == "EC"
    assert pub["crv"] == "P-256"
    assert priv["kid"] == pub["kid"] == kid
    assert pub["alg"] == "ES256" and pub["use"] == "sig"
    assert "d" in priv and "d" not in pub
    assert kid == ECKey.import_key(pub).thumbprint()  # RFC 7638 thumbprint as kid


def test_generate_rs256_key(rsa: SigningKey) -> None:
    priv, pub = json.loads(rsa.private_jwk), json.loads(rsa.public_jwk)
    assert pub["kty"] == "RSA" and pub["alg"] == "RS256"
    assert "d" in priv and "d" not in pub and "p" not in pub
    n = base64.urlsafe_b64decode(pub["n"] + "==")
    assert len(n) * 8 == jose.RSA_BITS


def test_generated_keys_are_distinct() -> None:
    assert jose.generate_key(ES256)[0] != jose.generate_key(ES256)[0]


# KeyRing


def test_sign_and_verify_round_trip(rsa: SigningKey) -> None:
    ec = record(ES256)
    ring = KeyRing([ec, rsa], now=T0)
    assert ring.built_at == T0
    for alg, rec in ((ES256, ec), (RS256, rsa)):
        token = ring.sign({"sub": "u1", "n": 1}, alg=alg)
        content = ring.verify(token)
        assert content.claims == {"sub": "u1", "n": 1}
        assert content.header == {"alg": alg.value, "kid": rec.kid, "typ": "JWT"}
        assert ring.active_kid(alg) == rec.kid


def test_sign_sets_typ() -> None:
    ring = KeyRing([record(ES256)], now=T0)
    token = ring.sign({"a": 1}, alg=ES256, typ="at+jwt")
    assert jose.unverified_header(token)["typ"] == "at+jwt"


def test_verify_refuses_an_algorithm_not_asked_for() -> None:
    ring = KeyRing([record(ES256)], now=T0)
    token = ring.sign({"a": 1}, alg=ES256)
    with pytest.raises(JoseVerificationError, match="not accepted"):
        ring.verify(token, algs=("RS256",))


def test_newest_active_key_signs() -> None:
    old = record(ES256, active_from=T0)
    new = record(ES256, active_from=T0 + HOUR)
    ring = KeyRing([new, old], now=T0 + 2 * HOUR)
    assert ring.active_kid(ES256) == new.kid
    assert kids(ring) == [new.kid, old.kid]


@pytest.mark.spec("REL-10")
def test_a_key_is_published_before_it_signs() -> None:
    old = record(ES256, active_from=T0)
    new = record(ES256, active_from=T0 + HOUR)
    ring = KeyRing([old, new], now=T0 + HOUR / 2)
    assert ring.active_kid(ES256) == old.kid
    assert set(kids(ring)) == {old.kid, new.kid}


@pytest.mark.spec("REL-10")
def test_retired_key_stops_signing_but_stays_published_until_publish_until() -> None:
    retired = record(ES256, active_from=T0, retired_at=T0 + HOUR, publish_until=T0 + 3 * HOUR)
    current = record(ES256, active_from=T0 + HOUR)
    before = dataclasses.replace(retired, retired_at=None, publish_until=None)
    old_token = KeyRing([before], now=T0).sign({"a": 1}, alg=ES256)

    ring = KeyRing([retired, current], now=T0 + 2 * HOUR)
    assert ring.active_kid(ES256) == current.kid
    assert ring.verify(old_token).claims == {"a": 1}

    later = KeyRing([retired, current], now=T0 + 3 * HOUR)
    assert kids(later) == [current.kid]
    with pytest.raises(JoseVerificationError):
        later.verify(old_token)


@pytest.mark.spec("REL-10")
def test_a_rotated_out_key_signs_until_its_retirement_time() -> None:
    # Rotation sets retired_at to the moment the successor activates (publish-then-sign),
    # so there is never an instant without an active key.
    rec = record(ES256, active_from=T0, retired_at=T0 + HOUR)
    assert KeyRing([rec], now=T0).has_active(ES256)
    assert not KeyRing([rec], now=T0 + HOUR).has_active(ES256)


def test_key_not_yet_active() -> None:
    ring = KeyRing([record(ES256, active_from=T0 + HOUR)], now=T0)
    assert not ring.has_active(ES256)
    assert len(ring.jwks()["keys"]) == 1  # type: ignore[arg-type]


def test_one_active_key_per_algorithm(rsa: SigningKey) -> None:
    ring = KeyRing([rsa], now=T0)
    assert ring.has_active(RS256)
    assert not ring.has_active(ES256)


def test_empty_ring() -> None:
    ring = KeyRing([], now=T0)
    assert ring.jwks() == {"keys": []}
    assert not ring.has_active(ES256)


def test_published_jwks_has_no_private_material(rsa: SigningKey) -> None:
    ring = KeyRing([rsa, record(ES256)], now=T0)
    for key in ring.jwks()["keys"]:  # type: ignore[attr-defined]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_verify_refuses_a_token_signed_by_an_unknown_key() -> None:
    foreign = KeyRing([record(ES256)], now=T0).sign({"a": 1}, alg=ES256)
    with pytest.raises(JoseVerificationError, match="signature or format invalid"):
        KeyRing([record(ES256)], now=T0).verify(foreign)


# normalise_public_jwks and parse_jwks


def public_set(*records: SigningKey) -> str:
    return json.dumps({"keys": [json.loads(r.public_jwk) for r in records]})


def test_public_jwks_is_normalised(rsa: SigningKey) -> None:
    text = public_set(record(ES256), rsa)
    normal = jose.normalise_public_jwks(text)
    assert json.loads(normal) == json.loads(text)
    assert normal == json.dumps(json.loads(text), sort_keys=True)
    assert jose.normalise_public_jwks(normal) == normal


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", "non-empty"),
        ("{}", "non-empty"),
        ('{"keys": {}}', "non-empty"),
        ('{"keys": []}', "non-empty"),
        ('{"keys": [1]}', "JSON object"),
        ('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "only RSA, EC and OKP"),
        ('{"keys": [{"x": "AA"}]}', "only RSA, EC and OKP"),
        ('{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}', "not a valid JWK"),
        ('{"keys": [{"kty": "EC", "crv": "P-999", "x": "AA", "y": "AA"}]}', "not a valid JWK"),
        ('{"keys": [{"kty": "RSA"}]}', "not a valid JWK"),
    ],
)
def test_unusable_jwks_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        jose.normalise_public_jwks(text)


@pytest.mark.spec("RFC 7517 §5")
def test_private_keys_are_refused(rsa: SigningKey) -> None:
    for rec in (record(ES256), rsa):
        text = json.dumps({"keys": [json.loads(rec.private_jwk)]})
        with pytest.raises(ValueError, match="private key material"):
            jose.normalise_public_jwks(text)


def test_parse_jwks() -> None:
    rec = record(ES256)
    keys = jose.parse_jwks(public_set(rec))
    assert [k.kid for k in keys.keys] == [rec.kid]


@pytest.mark.parametrize(
    "text", ["nope", "[]", '{"keys": [{"kty": "EC", "crv": "P-999", "x": "AA", "y": "AA"}]}']
)
def test_parse_jwks_refuses_unusable_sets(text: str) -> None:
    with pytest.raises(JoseVerificationError, match="cannot be used"):
        jose.parse_jwks(text)


# verify_jwt


def test_verify_jwt_with_a_client_key_set(rsa: SigningKey) -> None:
    ring = KeyRing([rsa], now=T0)
    token = ring.sign({"iss": "c1"}, alg=RS256)
    content = jose.verify_jwt(token, jose.parse_jwks(public_set(rsa)), ["RS256"])
    assert content.claims == {"iss": "c1"}


@pytest.mark.spec("RFC 8725 §3.1")
def test_symmetric_algorithms_are_never_accepted() -> None:
    key = OctKey.generate_key(256)
    token = jwt.encode({"alg": "HS256"}, {"a": 1}, key, algorithms=["HS256"])
    keys = jose.KeySet([key])
    with pytest.raises(JoseVerificationError, match="alg 'HS256' is not accepted"):
        jose.verify_jwt(token, keys, ["HS256", "ES256"])


@pytest.mark.spec("RFC 8725 §3.1")
def test_alg_none_is_never_accepted() -> None:
    rec = record(ES256)
    token = compact({"alg": "none"}, b'{"a":1}', b"")
    with pytest.raises(JoseVerificationError, match="alg 'none' is not accepted"):
        jose.verify_jwt(token, jose.parse_jwks(public_set(rec)), ["none", "ES256"])


def test_tampered_payload_is_refused() -> None:
    rec = record(ES256)
    token = KeyRing([rec], now=T0).sign({"sub": "a"}, alg=ES256)
    header, _, signature = token.split(".")
    forged = f"{header}.{b64(json.dumps({'sub': 'admin'}).encode())}.{signature}"
    with pytest.raises(JoseVerificationError, match="signature or format invalid"):
        jose.verify_jwt(forged, jose.parse_jwks(public_set(rec)), ["ES256"])


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d.e", "!!.!!.!!"])
def test_verify_jwt_refuses_what_is_not_a_jws(token: str) -> None:
    with pytest.raises(JoseVerificationError, match="not a compact JWS"):
        jose.verify_jwt(token, jose.KeySet([]), ["ES256"])


def test_verify_jwt_refuses_a_malformed_header_parameter() -> None:
    rec = record(ES256)
    token = compact({"alg": "ES256", "kid": rec.kid, "crit": 1}, b"{}")
    with pytest.raises(JoseVerificationError, match="not a well-formed JWT"):
        jose.verify_jwt(token, jose.parse_jwks(public_set(rec)), ["ES256"])


# unverified_header and unverified_claims


def test_unverified_header_and_claims() -> None:
    token = compact({"alg": "ES256", "kid": "k1"}, b'{"sub": "c1"}')
    assert jose.unverified_header(token) == {"alg": "ES256", "kid": "k1"}
    assert jose.unverified_claims(token) == {"sub": "c1"}


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", f"{b64(b'not json')}.e30.AA", f"{b64(b'[1]')}.e30.AA"]
)
def test_unverified_header_refuses_garbage(token: str) -> None:
    with pytest.raises(JoseVerificationError, match="not a compact JWS"):
        jose.unverified_header(token)


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe"])
def test_unverified_claims_needs_a_json_payload(payload: bytes) -> None:
    with pytest.raises(JoseVerificationError, match="JSON payload"):
        jose.unverified_claims(compact({"alg": "ES256"}, payload))


@pytest.mark.parametrize("payload", [b"[1]", b'"sub"', b"1", b"null"])
def test_unverified_claims_needs_an_object(payload: bytes) -> None:
    with pytest.raises(JoseVerificationError, match="not a JSON object"):
        jose.unverified_claims(compact({"alg": "ES256"}, payload))


def test_unverified_claims_refuses_garbage() -> None:
    with pytest.raises(JoseVerificationError):
        jose.unverified_claims("abc")


# half_hash


@pytest.mark.spec("OIDC Core §3.1.3.6")
def test_half_hash_matches_the_oidc_core_examples() -> None:
    # OIDC Core Appendix A.3 (at_hash) and A.4 (c_hash).
    access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
    code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
    assert jose.half_hash(access_token, RS256) == "77QmUPtjPfzWtF2AnpK9RQ"
    assert jose.half_hash(code, RS256) == "LDktKdoQak3Pk0cnXxCltA"
    assert jose.half_hash(access_token, ES256) == "77QmUPtjPfzWtF2AnpK9RQ"  # SHA-256 too


def test_jwks_json_is_the_serialized_set_and_is_cached(rsa: SigningKey) -> None:
    ring = KeyRing([rsa], now=T0)
    first = ring.jwks_json()
    assert json.loads(first) == ring.jwks()
    assert ring.jwks_json() is first


def test_a_ring_parses_only_what_it_can_use() -> None:
    """A retired key that is still published is read from its public JWK; one past its
    publication is not read at all (here: private material that cannot be parsed)."""
    signed = KeyRing([record(ES256)], now=T0)
    token_signer = signed._active[ES256].record
    old_token = signed.sign({"a": 1}, alg=ES256)
    published = dataclasses.replace(
        token_signer, retired_at=T0 + HOUR, publish_until=T0 + 3 * HOUR, private_jwk="{}"
    )
    gone = dataclasses.replace(
        record(RS256), retired_at=T0, publish_until=T0 + HOUR, private_jwk="{}", public_jwk="{}"
    )
    current = record(ES256, active_from=T0 + HOUR)
    ring = KeyRing([published, gone, current], now=T0 + 2 * HOUR)
    assert kids(ring) == [current.kid, published.kid]
    assert ring.verify(old_token).claims == {"a": 1}
    assert ring.active_kid(ES256) == current.kid


def test_a_rebuilt_ring_reuses_the_keys_its_predecessor_parsed(
    rsa: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real = jose._import

    def counting(text: str) -> object:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(jose, "_import", counting)
    ec = record(ES256)
    first = KeyRing([ec, rsa], now=T0)
    assert len(parsed) == 2
    newer = record(ES256, active_from=T0 + HOUR)
    second = KeyRing([ec, rsa, newer], now=T0 + 2 * HOUR, previous=first)
    assert parsed[2:] == [newer.private_jwk]  # only the new key was parsed
    token = second.sign({"b": 2}, alg=RS256)
    assert second.verify(token).claims == {"b": 2}
    assert second.active_kid(ES256) == newer.kid
