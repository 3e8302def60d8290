"""core/token_request.py: grant_type, client grant and scope rules, the §5.1 response body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authgate.core.errors import (
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    is_error_charset,
)
from authgate.core.models import Client
from authgate.core.token_request import (
    build_token_response,
    parse_grant_type,
    validate_client_credentials_scope,
    validate_client_grant,
)
from authgate.core.types import ClientAuthMethod, ClientId, GrantType

ALL = frozenset(GrantType)
CC = GrantType.CLIENT_CREDENTIALS


def client(grants: set[GrantType], scope: set[str]) -> Client:
    return Client(
        client_id=ClientId("c1"),
        name="C",
        auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
        redirect_uris=(),
        grant_types=frozenset(grants),
        scope=frozenset(scope),
        created_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("grant", list(GrantType))
def test_supported_grant_types_parse(grant: GrantType) -> None:
    assert parse_grant_type(grant.value, ALL) is grant


@pytest.mark.spec("SEC-10")
@pytest.mark.spec("RFC 6749 §5.2")
@pytest.mark.parametrize("value", ["password", "implicit", "token", "AUTHORIZATION_CODE", ""])
def test_unknown_grant_type_is_unsupported(value: str) -> None:
    with pytest.raises(UnsupportedGrantTypeError, match="is not supported"):
        parse_grant_type(value, ALL)


@pytest.mark.spec("RFC 6749 §5.2")
def test_known_grant_type_not_served_is_unsupported() -> None:
    with pytest.raises(UnsupportedGrantTypeError, match="grant_type refresh_token"):
        parse_grant_type("refresh_token", frozenset({CC}))


@pytest.mark.spec("RFC 6749 §5.2")
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('pass"word\\', "pass?word?"),
        ("caf\u00e9\n", "caf??"),
        ("x" * 100, "x" * 60),
        ("", "?"),
    ],
)
def test_unsupported_grant_type_is_echoed_in_the_error_charset(value: str, shown: str) -> None:
    with pytest.raises(UnsupportedGrantTypeError) as caught:
        parse_grant_type(value, ALL)
    assert caught.value.description == f"grant_type {shown} is not supported"
    assert is_error_charset(caught.value.description or "")


@pytest.mark.spec("RFC 6749 §5.2")
def test_client_must_be_registered_for_the_grant() -> None:
    c = client({CC}, set())
    validate_client_grant(c, CC)
    with pytest.raises(UnauthorizedClientError, match="may not use the refresh_token grant"):
        validate_client_grant(c, GrantType.REFRESH_TOKEN)


@pytest.mark.spec("RFC 6749 §4.4.2")
def test_client_credentials_without_scope_gets_every_registered_api_scope() -> None:
    c = client({CC}, {"api:read", "api:write", "openid", "profile"})
    assert validate_client_credentials_scope(c, None) == {"api:read", "api:write"}


@pytest.mark.spec("RFC 6749 §3.3")
def test_client_credentials_may_narrow() -> None:
    c = client({CC}, {"api:read", "api:write"})
    assert validate_client_credentials_scope(c, "api:read") == {"api:read"}


@pytest.mark.spec("RFC 6749 §3.3")
def test_client_credentials_may_not_exceed_the_registration() -> None:
    c = client({CC}, {"api:read"})
    with pytest.raises(InvalidScopeError, match="not allowed for this client: api:write"):
        validate_client_credentials_scope(c, "api:read api:write")


@pytest.mark.spec("SEC-96")
@pytest.mark.parametrize("scope", ["openid", "api:read offline_access", "email"])
def test_client_credentials_never_get_openid_scopes(scope: str) -> None:
    c = client({CC}, {"api:read", "openid", "offline_access", "email"})
    with pytest.raises(InvalidScopeError, match="needs a user"):
        validate_client_credentials_scope(c, scope)


def test_client_credentials_malformed_scope() -> None:
    with pytest.raises(InvalidScopeError, match="scope tokens"):
        validate_client_credentials_scope(client({CC}, {"a"}), "a\tb")


@pytest.mark.spec("RFC 6749 §5.1")
def test_minimal_token_response() -> None:
    assert build_token_response(access_token="at", expires_in=3600, scope=frozenset()) == {
        "access_token": "at",
        "token_type": "Bearer",
        "expires_in": 3600,
    }


@pytest.mark.spec("RFC 6749 §5.1")
@pytest.mark.spec("OIDC Core §3.1.3.3")
@pytest.mark.spec("RFC 9396 §7")
def test_full_token_response() -> None:
    details = [{"type": "payment_initiation"}]
    body = build_token_response(
        access_token="at",
        expires_in=60,
        scope=frozenset({"openid", "email"}),
        refresh_token="rt",
        id_token="a.b.c",
        authorization_details=details,
    )
    assert body == {
        "access_token": "at",
        "token_type": "Bearer",
        "expires_in": 60,
        "scope": "email openid",
        "refresh_token": "rt",
        "id_token": "a.b.c",
        "authorization_details": details,
    }


def test_empty_authorization_details_are_returned() -> None:
    body = build_token_response(
        access_token="at", expires_in=1, scope=frozenset(), authorization_details=[]
    )
    assert body["authorization_details"] == []
