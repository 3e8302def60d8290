"""Client authentication at the token, revocation, introspection and device endpoints.

RFC 6749 §2.3: confidential clients authenticate; "The client MUST NOT use more than one
authentication method in each request." §2.3.1: `client_secret_basic` (preferred) and
`client_secret_post`. OIDC Core §9 and RFC 7523 §3: `private_key_jwt`. Public clients send
their `client_id` only (method `none`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from authgate.core import jose
from authgate.core.errors import InvalidClientError, InvalidRequestError
from authgate.core.models import Client
from authgate.core.tokens import hash_token, same_hash
from authgate.core.types import ClientAuthMethod

JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ("ES256", "RS256", "PS256", "ES384", "RS384", "PS384", "ES512", "RS512", "EdDSA")
# REL-08: accept assertions issued up to this far in the future (clock skew)...
CLOCK_SKEW = timedelta(seconds=15)
# ...and refuse assertions meant to live longer than this (bounds the jti replay table).
MAX_ASSERTION_LIFETIME = timedelta(minutes=10)
# An empty secret hash, compared when the client is unknown, so timing does not tell.
_NO_SECRET = hash_token("")


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What a request presented to identify its client, before any check."""

    client_id: str | None
    method: ClientAuthMethod
    secret: str | None = field(default=None, repr=False)
    assertion: str | None = field(default=None, repr=False)
    used_header: bool = False


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    """A verified client assertion: its jti must now be recorded once (RFC 7523 §3 item 7)."""

    jti: str
    expires_at: datetime


def parse_credentials(
    *,
    basic: tuple[str, str] | None,
    client_id: str | None,
    client_secret: str | None,
    assertion_type: str | None,
    assertion: str | None,
) -> ClientCredentials:
    """Decide which method a request used; raises InvalidRequestError if it used several."""
    used = [basic is not None, client_secret is not None, assertion is not None]
    if sum(used) > 1:
        raise InvalidRequestError("use exactly one client authentication method (RFC 6749 2.3)")
    if basic is not None:
        basic_id, secret = basic
        if client_id is not None and client_id != basic_id:
            raise InvalidRequestError("client_id does not match the Authorization header")
        return ClientCredentials(
            basic_id, ClientAuthMethod.CLIENT_SECRET_BASIC, secret=secret, used_header=True
        )
    if client_secret is not None:
        return ClientCredentials(
            client_id, ClientAuthMethod.CLIENT_SECRET_POST, secret=client_secret
        )
    if assertion is not None or assertion_type is not None:
        if assertion_type != JWT_BEARER_ASSERTION or assertion is None:
            raise InvalidRequestError(
                f"client_assertion_type must be {JWT_BEARER_ASSERTION} with a client_assertion"
            )
        if client_id is None:
            try:
                sub = jose.unverified_claims(assertion).get("sub")
            except jose.JoseVerificationError:
                raise InvalidClientError("client_assertion is not a JWT") from None
            client_id = sub if isinstance(sub, str) else None
        return ClientCredentials(client_id, ClientAuthMethod.PRIVATE_KEY_JWT, assertion=assertion)
    return ClientCredentials(client_id, ClientAuthMethod.NONE)


def validate_secret(client: Client | None, creds: ClientCredentials) -> Client:
    """Check a client_secret_basic/_post or `none` authentication against the client."""
    if client is None:
        if creds.secret is not None:
            same_hash(_NO_SECRET, hash_token(creds.secret))  # OIDC Core §16.12: same work
        raise InvalidClientError("unknown client or bad credentials")
    _check_method(client, creds)
    if creds.method is ClientAuthMethod.NONE:
        return client
    assert creds.secret is not None  # noqa: S101 - set for both secret methods
    if not same_hash(client.secret_hash, hash_token(creds.secret)):
        raise InvalidClientError("unknown client or bad credentials")
    return client


def validate_assertion(
    client: Client,
    creds: ClientCredentials,
    keys: jose.KeySet,
    *,
    audiences: Sequence[str],
    now: datetime,
) -> VerifiedAssertion:
    """RFC 7523 §3: verify a private_key_jwt assertion; the caller records the jti once."""
    _check_method(client, creds)
    assert creds.assertion is not None  # noqa: S101 - set for private_key_jwt
    try:
        content = jose.verify_jwt(creds.assertion, keys, ASSERTION_ALGS)
    except jose.JoseVerificationError as exc:
        raise InvalidClientError("client_assertion invalid", detail=str(exc)) from None
    c = content.claims
    if c.get("iss") != client.client_id or c.get("sub") != client.client_id:
        raise InvalidClientError("client_assertion iss and sub must be the client_id")
    aud = c.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if not any(a in audiences for a in auds):
        raise InvalidClientError("client_assertion aud must be the issuer or token endpoint")
    exp, iat, nbf, jti = c.get("exp"), c.get("iat"), c.get("nbf"), c.get("jti")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or not math.isfinite(exp):
        raise InvalidClientError("client_assertion needs a numeric exp")
    if not isinstance(jti, str) or not jti:
        raise InvalidClientError("client_assertion needs a jti")
    ts = now.timestamp()
    if exp <= ts - CLOCK_SKEW.total_seconds():
        raise InvalidClientError("client_assertion has expired")
    if exp > ts + MAX_ASSERTION_LIFETIME.total_seconds():
        raise InvalidClientError("client_assertion exp is too far in the future")
    for name, value in (("iat", iat), ("nbf", nbf)):
        if value is not None and (
            not isinstance(value, int | float) or value > ts + CLOCK_SKEW.total_seconds()
        ):
            raise InvalidClientError(f"client_assertion {name} is in the future")
    return VerifiedAssertion(jti, datetime.fromtimestamp(exp, now.tzinfo) + CLOCK_SKEW)


def _check_method(client: Client, creds: ClientCredentials) -> None:
    if creds.method is not client.auth_method:
        # SEC-45: a client registered for client_secret_basic may not use another method.
        raise InvalidClientError(f"this client authenticates with {client.auth_method.value}")
