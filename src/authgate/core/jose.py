"""JOSE: the only module that imports joserfc. Signing keys (RFC 7517/7518), JWS/JWT
signing and verification (RFC 7515/7519), the published JWK Set, and the hash halves used
by `at_hash`/`c_hash` (OIDC Core §3.1.3.6).

Only asymmetric algorithms are accepted anywhere (never `none`, never HMAC with a public key).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet as KeySet, RSAKey

from authgate.core.models import SigningKey
from authgate.core.types import SigningAlg

ASYMMETRIC_ALGS = ("ES256", "RS256", "PS256", "ES384", "RS384", "PS384", "ES512", "RS512", "EdDSA")
RSA_BITS = 2048

JsonObject = dict[str, object]


class JoseVerificationError(ValueError):
    """A JWS failed to parse or verify; the message says why (never contains the token)."""


def generate_key(alg: SigningAlg) -> tuple[str, str, str]:
    """A new signing key for `alg`: (kid, private JWK JSON, public JWK JSON)."""
    key: ECKey | RSAKey
    if alg is SigningAlg.ES256:
        key = ECKey.generate_key("P-256", parameters={"alg": alg.value, "use": "sig"}, private=True)
    else:
        key = RSAKey.generate_key(
            RSA_BITS, parameters={"alg": alg.value, "use": "sig"}, private=True
        )
    kid = key.thumbprint()
    private = {**key.as_dict(private=True), "kid": kid}
    public = {**key.as_dict(private=False), "kid": kid}
    return kid, json.dumps(private, sort_keys=True), json.dumps(public, sort_keys=True)


def normalise_public_jwks(text: str) -> str:
    """Check a client's JWK Set (RFC 7517 §5): public keys only. Returns canonical JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError('a JWK Set is an object with a non-empty "keys" array')
    for item in keys:
        if not isinstance(item, dict):
            raise ValueError("every key must be a JSON object")
        if item.get("kty") not in {"RSA", "EC", "OKP"}:
            raise ValueError("only RSA, EC and OKP public keys are accepted")
        if "d" in item:
            raise ValueError("the JWK Set contains private key material")
    try:
        KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a valid JWK Set ({exc})") from None
    return json.dumps(data, sort_keys=True)


@dataclass(frozen=True, slots=True)
class _LoadedKey:
    record: SigningKey
    key: ECKey | RSAKey
    # the `cryptography` key that signs, taken once (joserfc's property checks its type
    # against the ABCs on each call); None for a key that is only published
    signer: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None


class KeyRing:
    """The signing keys in force at one moment: the active key per algorithm and the
    published set. Built from stored records.

    Only what the ring can use is parsed: the private key of a key that signs now or will
    (not retired, or retired later), the public key of one that is only published, nothing
    of a key past its publication. A ring is rebuilt every `key_cache_ttl` in every process,
    and parsing an RSA private key, with its consistency checks, costs milliseconds: keys the
    `previous` ring parsed are taken from it rather than parsed again.
    """

    def __init__(
        self, records: Iterable[SigningKey], *, now: datetime, previous: KeyRing | None = None
    ) -> None:
        known = previous._parsed if previous is not None else {}
        self._parsed: dict[str, ECKey | RSAKey] = {}  # by the JWK text it was parsed from
        loaded: list[_LoadedKey] = []
        for rec in records:
            signs = rec.retired_at is None or rec.retired_at > now
            if not signs and rec.publish_until is not None and rec.publish_until <= now:
                continue  # neither signs nor is published any more
            text = rec.private_jwk if signs else rec.public_jwk
            key = known.get(text) or _import(text)
            self._parsed[text] = key
            loaded.append(_LoadedKey(rec, key, key.private_key if signs else None))
        self._published = [
            k for k in loaded if k.record.publish_until is None or k.record.publish_until > now
        ]
        self._active: dict[SigningAlg, _LoadedKey] = {}
        for k in sorted(loaded, key=lambda k: k.record.active_from):
            rec = k.record
            # A rotated-out key keeps signing until its successor activates (retired_at is
            # set to that moment), so there is never an instant without an active key.
            if rec.active_from <= now and (rec.retired_at is None or rec.retired_at > now):
                self._active[rec.alg] = k  # the newest active key of each alg wins
        self.built_at = now
        self._jwks_json: bytes | None = None
        self._headers: dict[tuple[SigningAlg, str], str] = {}  # encoded, per (alg, typ)

    def has_active(self, alg: SigningAlg) -> bool:
        return alg in self._active

    def active_kid(self, alg: SigningAlg) -> str:
        return self._active[alg].record.kid

    def jwks(self) -> JsonObject:
        """RFC 7517 §5: the public JWK Set, newest keys first."""
        keys = sorted(self._published, key=lambda k: k.record.active_from, reverse=True)
        return {"keys": [json.loads(k.record.public_jwk) for k in keys]}

    def jwks_json(self) -> bytes:
        """The JWK Set serialized, once per ring (the ring is rebuilt when keys change)."""
        if self._jwks_json is None:
            self._jwks_json = json.dumps(self.jwks(), separators=(",", ":")).encode()
        return self._jwks_json

    def sign(self, claims: Mapping[str, object], *, alg: SigningAlg, typ: str = "JWT") -> str:
        """A compact JWS of `claims` with the active key of `alg` (RFC 7519 §7.1, RFC 7515
        §7.1). Written out here rather than through joserfc: every JWT access token and ID
        token is signed on a hot path, and the library's generic path costs about as much
        as the ES256 signature itself. Tokens are verified with joserfc in the tests.
        """
        loaded = self._active[alg]
        head = self._headers.get((alg, typ))
        if head is None:
            header = {"alg": alg.value, "kid": loaded.record.kid, "typ": typ}
            head = self._headers[(alg, typ)] = _b64_json(header)
        signing_input = f"{head}.{_b64_json(claims)}"
        signature = _signature(loaded.signer, alg, signing_input.encode("ascii"))
        return f"{signing_input}.{_b64(signature)}"

    def verify(self, token: str, *, algs: Sequence[str] = ("ES256", "RS256")) -> JwtContent:
        """Verify a JWT this server signed (e.g. an id_token_hint); raises on failure."""
        keyset = KeySet([k.key for k in self._published])
        return verify_jwt(token, keyset, algs)


@dataclass(frozen=True, slots=True)
class JwtContent:
    header: JsonObject
    claims: JsonObject


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps builds one per call


def _b64_json(value: Mapping[str, object]) -> str:
    return _b64(_COMPACT.encode(value).encode())


# Immutable parameter objects, built once rather than per signature.
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _signature(
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None, alg: SigningAlg, data: bytes
) -> bytes:
    """RFC 7518 §3.3 (RS256: RSASSA-PKCS1-v1_5 with SHA-256) and §3.4 (ES256: ECDSA P-256
    with SHA-256, the signature as R || S, 32 octets each). The active key of `alg` is of
    its type (the ring is built so), so the types are cast, not checked on every call.
    """
    if alg is SigningAlg.ES256:
        der = cast(ec.EllipticCurvePrivateKey, private).sign(data, _ECDSA_SHA256)
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return cast(rsa.RSAPrivateKey, private).sign(data, _PKCS1V15, _SHA256)


def _import(private_jwk: str) -> ECKey | RSAKey:
    data = json.loads(private_jwk)
    if data.get("kty") == "EC":
        return ECKey.import_key(data)
    return RSAKey.import_key(data)


def parse_jwks(text: str) -> KeySet:
    """A client's stored JWK Set, parsed for verification."""
    try:
        return KeySet.import_key_set(json.loads(text))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise JoseVerificationError(f"the client's JWK Set cannot be used ({exc})") from None


def verify_jwt(token: str, keys: KeySet, algs: Sequence[str]) -> JwtContent:
    """Verify a compact JWS signed by one of `keys` with one of the asymmetric `algs`."""
    allowed = [a for a in algs if a in ASYMMETRIC_ALGS]
    try:
        header = unverified_header(token)
        if header.get("alg") not in allowed:
            raise JoseVerificationError(f"alg {header.get('alg')!r} is not accepted")
        decoded = jwt.decode(token, keys, algorithms=allowed)
    except JoseError as exc:
        raise JoseVerificationError(f"signature or format invalid ({exc.error})") from None
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, JoseVerificationError):
            raise
        raise JoseVerificationError("not a well-formed JWT") from None
    return JwtContent(dict(decoded.header), dict(decoded.claims))


def unverified_header(token: str) -> JsonObject:
    """The protected header of a compact JWS, before any verification."""
    try:
        obj = jws.extract_compact(token.encode())
    except (JoseError, ValueError, TypeError) as exc:
        raise JoseVerificationError("not a compact JWS") from exc
    return dict(obj.protected)


def unverified_claims(token: str) -> JsonObject:
    """The payload of a compact JWS without verification (to find the issuer of an
    assertion before choosing its keys); never trust the result on its own.
    """
    try:
        obj = jws.extract_compact(token.encode())
        data = json.loads(obj.payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise JoseVerificationError("not a compact JWS with a JSON payload") from exc
    if not isinstance(data, dict):
        raise JoseVerificationError("the JWT payload is not a JSON object")
    return data


def half_hash(value: str, alg: SigningAlg) -> str:
    """OIDC Core §3.1.3.6: base64url of the left half of the hash of `value` (at_hash, c_hash)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()  # SHA-256 for ES256 and RS256
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
