"""core/client_auth.py: which method a request used, secrets, and private_key_jwt assertions
(RFC 6749 §2.3, OIDC Core §9, RFC 7523 §3).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from authgate.core.client_auth import (
    CLOCK_SKEW,
    JWT_BEARER_ASSERTION,
    ClientCredentials,
    parse_credentials,
    validate_assertion,
    validate_secret,
)
from authgate.core.errors import InvalidClientError, InvalidRequestError
from authgate.core.models import Client
from authgate.core.tokens import hash_token
from authgate.core.types import ClientAuthMethod, ClientId, GrantType

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
ISSUER = "https://as.test"
TOKEN_ENDPOINT = "https://as.test/token"
AUDIENCES = (ISSUER, TOKEN_ENDPOINT)
BASIC = ClientAuthMethod.CLIENT_SECRET_BASIC
POST = ClientAuthMethod.CLIENT_SECRET_POST
PKJWT = ClientAuthMethod.PRIVATE_KEY_JWT
NONE = ClientAuthMethod.NONE


def client(method: ClientAuthMethod, *, secret: str | None = "s3cret", cid: str = "c1") -> Client:
    return Client(
        client_id=ClientId(cid),
        name="C",
        auth_method=method,
        redirect_uris=(),
        grant_types=frozenset({GrantType.CLIENT_CREDENTIALS}),
        scope=frozenset(),
        created_at=NOW,
        secret_hash=hash_token(secret) if secret is not None else None,
    )


def creds(**kwargs: object) -> ClientCredentials:
    args: dict[str, object] = {
        "basic": None,
        "client_id": None,
        "client_secret": None,
        "assertion_type": None,
        "assertion": None,
    }
    args.update(kwargs)
    return parse_credentials(**args)  # type: ignore[arg-type]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HEADER = b64(b'{"alg": "ES256"}')


# parse_credentials


@pytest.mark.spec("RFC 6749 §2.3.1")
def test_basic_header() -> None:
    c = creds(basic=("c1", "pw"))
    assert c == ClientCredentials("c1", BASIC, secret="pw", used_header=True)


def test_basic_header_with_the_same_client_id_in_the_body() -> None:
    assert creds(basic=("c1", "pw"), client_id="c1").client_id == "c1"


def test_basic_header_with_another_client_id_in_the_body_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="does not match"):
        creds(basic=("c1", "pw"), client_id="c2")


@pytest.mark.spec("RFC 6749 §2.3.1")
def test_secret_in_the_body() -> None:
    c = creds(client_id="c1", client_secret="pw")
    assert c == ClientCredentials("c1", POST, secret="pw")
    assert not c.used_header


def test_secret_in_the_body_without_client_id() -> None:
    assert creds(client_secret="pw") == ClientCredentials(None, POST, secret="pw")


@pytest.mark.spec("RFC 6749 §2.3")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"basic": ("c1", "pw"), "client_secret": "pw"},
        {"basic": ("c1", "pw"), "assertion": "a.b.c"},
        {"client_secret": "pw", "assertion": "a.b.c"},
        {"basic": ("c1", "pw"), "client_secret": "pw", "assertion": "a.b.c"},
    ],
)
def test_more_than_one_method_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidRequestError, match="exactly one"):
        creds(**kwargs)


@pytest.mark.spec("RFC 7523 §2.2")
def test_assertion_with_client_id() -> None:
    c = creds(client_id="c1", assertion_type=JWT_BEARER_ASSERTION, assertion="a.b.c")
    assert c == ClientCredentials("c1", PKJWT, assertion="a.b.c")


@pytest.mark.spec("RFC 7523 §3")
def test_assertion_without_client_id_names_the_client_by_its_sub() -> None:
    token = f"{HEADER}.{b64(json.dumps({'sub': 'c9'}).encode())}.AA"
    c = creds(assertion_type=JWT_BEARER_ASSERTION, assertion=token)
    assert c.client_id == "c9"
    assert c.method is PKJWT


def test_assertion_whose_sub_is_not_a_string_names_no_client() -> None:
    token = f"{HEADER}.{b64(json.dumps({'sub': 7}).encode())}.AA"
    assert creds(assertion_type=JWT_BEARER_ASSERTION, assertion=token).client_id is None


def test_assertion_that_is_not_a_jwt_without_client_id_is_refused() -> None:
    with pytest.raises(InvalidClientError, match="not a JWT"):
        creds(assertion_type=JWT_BEARER_ASSERTION, assertion="garbage")


@pytest.mark.spec("RFC 7521 §4.2")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
        {"assertion_type": None},
        {"assertion_type": JWT_BEARER_ASSERTION, "assertion": None},
        {"assertion_type": "bogus", "assertion": None},
    ],
)
def test_assertion_type_and_assertion_go_together(kwargs: dict[str, object]) -> None:
    kwargs.setdefault("assertion", "a.b.c")
    with pytest.raises(InvalidRequestError, match="client_assertion_type must be"):
        creds(client_id="c1", **kwargs)


def test_only_client_id_is_method_none() -> None:
    assert creds(client_id="c1") == ClientCredentials("c1", NONE)


def test_nothing_is_method_none_without_client() -> None:
    assert creds() == ClientCredentials(None, NONE)


def test_secrets_are_not_in_the_repr() -> None:
    text = repr(creds(basic=("c1", "hunter2-secret")))
    assert "hunter2-secret" not in text
    text = repr(creds(client_id="c1", assertion_type=JWT_BEARER_ASSERTION, assertion="a.b.c"))
    assert "a.b.c" not in text


# validate_secret


@pytest.mark.parametrize("method", [BASIC, POST])
def test_right_secret(method: ClientAuthMethod) -> None:
    c = client(method)
    assert validate_secret(c, ClientCredentials("c1", method, secret="s3cret")) is c


@pytest.mark.parametrize("method", [BASIC, POST])
def test_wrong_secret(method: ClientAuthMethod) -> None:
    with pytest.raises(InvalidClientError, match="bad credentials"):
        validate_secret(client(method), ClientCredentials("c1", method, secret="S3CRET"))


def test_client_without_a_stored_secret_never_authenticates() -> None:
    with pytest.raises(InvalidClientError):
        validate_secret(client(BASIC, secret=None), ClientCredentials("c1", BASIC, secret=""))


@pytest.mark.spec("OIDC Core §16.12")
@pytest.mark.parametrize("secret", ["anything", None])
def test_unknown_client(secret: str | None) -> None:
    method = BASIC if secret else NONE
    with pytest.raises(InvalidClientError, match="unknown client or bad credentials"):
        validate_secret(None, ClientCredentials("nope", method, secret=secret))


def test_public_client_with_method_none() -> None:
    c = client(NONE, secret=None)
    assert validate_secret(c, ClientCredentials("c1", NONE)) is c


@pytest.mark.spec("SEC-45")
@pytest.mark.parametrize(
    ("registered", "used"),
    [(BASIC, POST), (POST, BASIC), (BASIC, NONE), (NONE, BASIC), (PKJWT, POST)],
)
def test_client_must_use_its_registered_method(
    registered: ClientAuthMethod, used: ClientAuthMethod
) -> None:
    with pytest.raises(InvalidClientError, match=f"authenticates with {registered.value}"):
        validate_secret(client(registered), ClientCredentials("c1", used, secret="s3cret"))


# validate_assertion (RFC 7523 §3)


@pytest.fixture(scope="module", params=["ES256", "RS256"])
def signer(request: pytest.FixtureRequest) -> tuple[str, ECKey | RSAKey]:
    alg: str = request.param
    if alg == "ES256":
        return alg, ECKey.generate_key("P-256", parameters={"kid": "k-es"}, private=True)
    return alg, RSAKey.generate_key(2048, parameters={"kid": "k-rs"}, private=True)


@pytest.fixture
def keys(signer: tuple[str, ECKey | RSAKey]) -> KeySet:
    _, key = signer
    return KeySet.import_key_set({"keys": [key.as_dict(private=False)]})


def claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": "c1",
        "sub": "c1",
        "aud": TOKEN_ENDPOINT,
        "exp": TS + 60,
        "iat": TS,
        "jti": "j-1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def assertion(signer: tuple[str, ECKey | RSAKey], **changes: object) -> ClientCredentials:
    alg, key = signer
    token = jwt.encode({"alg": alg, "kid": key.kid}, claims(**changes), key, algorithms=[alg])
    return ClientCredentials("c1", PKJWT, assertion=token)


def verify(c: ClientCredentials, keys: KeySet, *, now: datetime = NOW) -> object:
    return validate_assertion(client(PKJWT, secret=None), c, keys, audiences=AUDIENCES, now=now)


@pytest.mark.spec("RFC 7523 §3")
def test_valid_assertion(signer: tuple[str, ECKey | RSAKey], keys: KeySet) -> None:
    verified = validate_assertion(
        client(PKJWT, secret=None), assertion(signer), keys, audiences=AUDIENCES, now=NOW
    )
    assert verified.jti == "j-1"
    # Remembered until it can no longer be accepted: exp plus the skew allowance.
    assert verified.expires_at == NOW + timedelta(seconds=60) + CLOCK_SKEW
    assert verified.expires_at.tzinfo is UTC


@pytest.mark.spec("RFC 7523 §3")
@pytest.mark.parametrize("aud", [ISSUER, TOKEN_ENDPOINT, [TOKEN_ENDPOINT], ["x", ISSUER]])
def test_audience_may_be_the_issuer_or_token_endpoint(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, aud: object
) -> None:
    verify(assertion(signer, aud=aud), keys)


@pytest.mark.spec("RFC 7523 §3")
@pytest.mark.parametrize("aud", [None, "https://as.test/introspect", ["https://other.test"], [], 7])
def test_other_audiences_are_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, aud: object
) -> None:
    c = assertion(signer, aud=aud)
    with pytest.raises(InvalidClientError, match="aud must be"):
        verify(c, keys)


@pytest.mark.spec("RFC 7523 §3")
@pytest.mark.parametrize("changes", [{"iss": "c2"}, {"sub": "c2"}, {"iss": None}, {"sub": None}])
def test_iss_and_sub_must_be_the_client_id(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, changes: dict[str, object]
) -> None:
    with pytest.raises(InvalidClientError, match="iss and sub"):
        verify(assertion(signer, **changes), keys)


@pytest.mark.spec("RFC 7523 §3")
@pytest.mark.parametrize("exp", [None, "soon", True])
def test_exp_must_be_numeric(signer: tuple[str, ECKey | RSAKey], keys: KeySet, exp: object) -> None:
    with pytest.raises(InvalidClientError, match="numeric exp"):
        verify(assertion(signer, exp=exp), keys)


def test_exp_may_be_fractional(signer: tuple[str, ECKey | RSAKey], keys: KeySet) -> None:
    verify(assertion(signer, exp=TS + 30.5), keys)


@pytest.mark.spec("RFC 7523 §3")
@pytest.mark.parametrize("jti", [None, "", 42])
def test_jti_is_required(signer: tuple[str, ECKey | RSAKey], keys: KeySet, jti: object) -> None:
    with pytest.raises(InvalidClientError, match="needs a jti"):
        verify(assertion(signer, jti=jti), keys)


@pytest.mark.spec("REL-08")
@pytest.mark.parametrize("age", [15, 60, 300])
def test_expired_assertion_is_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, age: int
) -> None:
    with pytest.raises(InvalidClientError, match="has expired"):
        verify(assertion(signer, exp=TS - age, iat=TS - age - 60), keys)


@pytest.mark.spec("REL-08")
def test_assertion_expired_within_the_clock_skew_is_accepted(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet
) -> None:
    verify(assertion(signer, exp=TS - 14, iat=TS - 60), keys)


@pytest.mark.spec("RFC 7523 §3")
def test_lifetime_is_capped_at_ten_minutes(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet
) -> None:
    verify(assertion(signer, exp=TS + 600), keys)
    with pytest.raises(InvalidClientError, match="too far in the future"):
        verify(assertion(signer, exp=TS + 601), keys)


@pytest.mark.spec("REL-08")
@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_clock_skew_of_15_seconds_is_accepted(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, claim: str
) -> None:
    verify(assertion(signer, **{claim: TS + 15}), keys)
    verify(assertion(signer, **{claim: TS + 15.0}), keys)


@pytest.mark.spec("REL-08")
@pytest.mark.parametrize("claim", ["iat", "nbf"])
@pytest.mark.parametrize("ahead", [16, 60])
def test_issued_in_the_future_is_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, claim: str, ahead: int
) -> None:
    with pytest.raises(InvalidClientError, match=f"{claim} is in the future"):
        verify(assertion(signer, **{claim: TS + ahead, "exp": TS + ahead + 60}), keys)


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_non_numeric_iat_and_nbf_are_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, claim: str
) -> None:
    with pytest.raises(InvalidClientError, match=claim):
        verify(assertion(signer, **{claim: "yesterday"}), keys)


def test_iat_and_nbf_are_optional(signer: tuple[str, ECKey | RSAKey], keys: KeySet) -> None:
    verify(assertion(signer, iat=None), keys)


def test_signature_by_another_key_is_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet
) -> None:
    alg, key = signer
    kid = key.kid or ""
    other: ECKey | RSAKey = (
        ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)
        if alg == "ES256"
        else RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)
    )
    token = jwt.encode({"alg": alg, "kid": kid}, claims(), other, algorithms=[alg])
    with pytest.raises(InvalidClientError, match="client_assertion invalid") as caught:
        verify(ClientCredentials("c1", PKJWT, assertion=token), keys)
    assert caught.value.detail


def test_tampered_assertion_is_refused(signer: tuple[str, ECKey | RSAKey], keys: KeySet) -> None:
    header, _, signature = assertion(signer).assertion.split(".")  # type: ignore[union-attr]
    payload = b64(json.dumps(claims(jti="j-2")).encode())
    with pytest.raises(InvalidClientError, match="client_assertion invalid"):
        verify(ClientCredentials("c1", PKJWT, assertion=f"{header}.{payload}.{signature}"), keys)


@pytest.mark.spec("RFC 8725 §3.1")
def test_hs256_assertion_is_refused(keys: KeySet) -> None:
    secret = OctKey.import_key("s3cret-shared-with-the-client-32b")
    token = jwt.encode({"alg": "HS256"}, claims(), secret, algorithms=["HS256"])
    with pytest.raises(InvalidClientError, match="client_assertion invalid") as caught:
        verify(ClientCredentials("c1", PKJWT, assertion=token), KeySet([secret]))
    assert "HS256" in (caught.value.detail or "")
    with pytest.raises(InvalidClientError):
        verify(ClientCredentials("c1", PKJWT, assertion=token), keys)


@pytest.mark.spec("RFC 8725 §3.1")
def test_wrong_algorithm_for_the_key_is_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet
) -> None:
    alg, key = signer
    wrong = "ES384" if alg == "ES256" else "PS256"
    payload = b64(json.dumps(claims()).encode())
    header = b64(json.dumps({"alg": wrong, "kid": key.kid}).encode())
    with pytest.raises(InvalidClientError, match="client_assertion invalid"):
        verify(ClientCredentials("c1", PKJWT, assertion=f"{header}.{payload}.AAAA"), keys)


@pytest.mark.spec("RFC 8725 §3.1")
def test_alg_none_assertion_is_refused(keys: KeySet) -> None:
    header = b64(json.dumps({"alg": "none"}).encode())
    payload = b64(json.dumps(claims()).encode())
    with pytest.raises(InvalidClientError, match="client_assertion invalid"):
        verify(ClientCredentials("c1", PKJWT, assertion=f"{header}.{payload}."), keys)


@pytest.mark.spec("SEC-45")
def test_assertion_from_a_secret_client_is_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet
) -> None:
    with pytest.raises(InvalidClientError, match="authenticates with client_secret_basic"):
        validate_assertion(client(BASIC), assertion(signer), keys, audiences=AUDIENCES, now=NOW)


@pytest.mark.parametrize("exp", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_exp_is_refused(
    signer: tuple[str, ECKey | RSAKey], keys: KeySet, exp: float
) -> None:
    # Regression: a signed assertion with "exp": NaN passed every comparison and then
    # crashed datetime.fromtimestamp (a 500 instead of invalid_client).
    with pytest.raises(InvalidClientError):
        verify(assertion(signer, exp=exp), keys)
