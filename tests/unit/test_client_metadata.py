"""core/client_metadata.py: client registration rules (RFC 7591 §2, OIDC Registration §2)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, strategies as st

from authgate.core import jose
from authgate.core.client_metadata import (
    DEFAULT_USER_SCOPE,
    ClientRegistration,
    validate_registration,
)
from authgate.core.errors import InvalidClientMetadataError, InvalidRedirectUriError
from authgate.core.types import (
    AccessTokenFormat,
    ApplicationType,
    ClientAuthMethod,
    GrantType,
    SigningAlg,
)

CB = "https://c1.test/cb"
CODE = GrantType.AUTHORIZATION_CODE
REFRESH = GrantType.REFRESH_TOKEN
CC = GrantType.CLIENT_CREDENTIALS
DEVICE = GrantType.DEVICE_CODE


@pytest.fixture(scope="module")
def public_jwks() -> str:
    _, _, public = jose.generate_key(SigningAlg.ES256)
    return json.dumps({"keys": [json.loads(public)]})


def reg(**kwargs: object) -> ClientRegistration:
    kwargs.setdefault("name", "App")
    return ClientRegistration(**kwargs)  # type: ignore[arg-type]


def refused(match: str, **kwargs: object) -> None:
    with pytest.raises(InvalidClientMetadataError, match=match):
        validate_registration(reg(**kwargs))


def test_web_client_defaults() -> None:
    md = validate_registration(reg(name="  Shop  ", redirect_uris=(CB,)))
    assert md.name == "Shop"
    assert md.auth_method is ClientAuthMethod.CLIENT_SECRET_BASIC
    assert md.needs_secret
    assert md.redirect_uris == (CB,)
    assert md.post_logout_redirect_uris == ()
    assert md.grant_types == {CODE, REFRESH}
    assert md.scope == set(DEFAULT_USER_SCOPE.split())
    assert md.require_pkce
    assert md.authorization_details_types == frozenset()
    assert not md.can_introspect
    assert md.jwks is None and md.jwks_uri is None
    assert md.id_token_signed_response_alg is SigningAlg.RS256
    assert md.access_token_format is None
    assert md.rotate_refresh_tokens
    assert md.application_type is ApplicationType.WEB
    assert md.logo_uri is md.policy_uri is md.tos_uri is md.client_uri is None


def test_service_client_defaults_to_client_credentials_without_scope() -> None:
    md = validate_registration(reg())
    assert md.grant_types == {CC}
    assert md.scope == frozenset()
    assert md.application_type is ApplicationType.WEB


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_name_must_be_1_to_200_characters(name: str) -> None:
    refused("client name", name=name)


def test_name_of_200_characters_is_accepted() -> None:
    assert validate_registration(reg(name="x" * 200)).name == "x" * 200


def test_redirect_uris_are_deduplicated_in_order() -> None:
    other = "https://c1.test/cb2"
    md = validate_registration(reg(redirect_uris=(other, CB, other)))
    assert md.redirect_uris == (other, CB)


@pytest.mark.spec("SEC-03")
def test_bad_redirect_uri_is_refused() -> None:
    with pytest.raises(InvalidRedirectUriError):
        validate_registration(reg(redirect_uris=("http://c9.test/cb",)))


def test_post_logout_redirect_uris_are_checked() -> None:
    md = validate_registration(reg(redirect_uris=(CB,), post_logout_redirect_uris=(CB, CB)))
    assert md.post_logout_redirect_uris == (CB,)
    with pytest.raises(InvalidRedirectUriError):
        validate_registration(reg(redirect_uris=(CB,), post_logout_redirect_uris=("x",)))


# Authentication method


@pytest.mark.parametrize("method", [None, "none"])
def test_public_client_authenticates_with_none(method: str | None) -> None:
    md = validate_registration(reg(public=True, redirect_uris=(CB,), auth_method=method))
    assert md.auth_method is ClientAuthMethod.NONE
    assert not md.needs_secret


def test_public_client_cannot_use_a_secret_method() -> None:
    refused("method none", public=True, redirect_uris=(CB,), auth_method="client_secret_post")


def test_explicit_method() -> None:
    md = validate_registration(reg(auth_method="client_secret_post"))
    assert md.auth_method is ClientAuthMethod.CLIENT_SECRET_POST
    assert md.needs_secret


def test_unknown_method_names_the_field() -> None:
    refused("token_endpoint_auth_method must be one of", auth_method="tls_client_auth")


def test_jwks_implies_private_key_jwt(public_jwks: str) -> None:
    md = validate_registration(reg(jwks=public_jwks))
    assert md.auth_method is ClientAuthMethod.PRIVATE_KEY_JWT
    assert not md.needs_secret
    assert md.jwks == json.dumps(json.loads(public_jwks), sort_keys=True)
    assert md.jwks_uri is None


def test_jwks_uri_implies_private_key_jwt() -> None:
    md = validate_registration(reg(jwks_uri="https://c1.test/jwks"))
    assert md.auth_method is ClientAuthMethod.PRIVATE_KEY_JWT
    assert md.jwks_uri == "https://c1.test/jwks"


def test_jwks_uri_may_be_loopback_http() -> None:
    md = validate_registration(reg(jwks_uri="http://127.0.0.1:9000/jwks"))
    assert md.jwks_uri == "http://127.0.0.1:9000/jwks"


@pytest.mark.parametrize("uri", ["http://c1.test/jwks", "http://localhost/jwks", "https:///x"])
def test_jwks_uri_must_be_https(uri: str) -> None:
    refused("jwks_uri must be an https URL", jwks_uri=uri)


@pytest.mark.spec("RFC 7591 §2")
def test_jwks_and_jwks_uri_are_exclusive(public_jwks: str) -> None:
    refused("not both", jwks=public_jwks, jwks_uri="https://c1.test/jwks")


def test_private_key_jwt_needs_keys() -> None:
    refused("needs the client's jwks", auth_method="private_key_jwt")


def test_private_jwks_is_refused() -> None:
    _, private, _ = jose.generate_key(SigningAlg.ES256)
    refused("private key material", jwks=json.dumps({"keys": [json.loads(private)]}))


@pytest.mark.parametrize(
    "jwks",
    [
        "not json",
        '{"keys": []}',
        '{"keys": [{"kty": "EC", "crv": "P-\\"\\u00e9", "x": "AA", "y": "AA"}]}',
    ],
)
def test_unusable_jwks_is_refused(jwks: str) -> None:
    # Regression: an unknown curve raised KeyError, and its repr put `"` and non-ASCII in
    # the description.
    refused("jwks: ", jwks=jwks)


# Grant types


def test_explicit_grant_types() -> None:
    md = validate_registration(reg(redirect_uris=(CB,), grant_types=("authorization_code",)))
    assert md.grant_types == {CODE}


def test_unknown_grant_type_lists_the_known_ones() -> None:
    refused(
        "unknown grant type 'password'; use one of authorization_code", grant_types=("password",)
    )


def test_unknown_grant_type_with_odd_characters_is_still_a_valid_description() -> None:
    refused("unknown grant type", grant_types=('caf\u00e9"',))


def test_public_client_without_redirect_uri_or_grant_is_refused() -> None:
    refused("needs a redirect URI or the device_code grant", public=True)


def test_public_device_client() -> None:
    md = validate_registration(reg(public=True, grant_types=(DEVICE.value, REFRESH.value)))
    assert md.grant_types == {DEVICE, REFRESH}
    assert md.scope == set(DEFAULT_USER_SCOPE.split())
    assert md.application_type is ApplicationType.WEB


def test_authorization_code_needs_a_redirect_uri() -> None:
    refused("needs a redirect URI", grant_types=("authorization_code",))


@pytest.mark.spec("RFC 6749 §4.4")
def test_client_credentials_needs_a_confidential_client() -> None:
    refused(
        "needs a confidential client",
        public=True,
        redirect_uris=(CB,),
        grant_types=("authorization_code", "client_credentials"),
    )


def test_refresh_token_alone_is_refused() -> None:
    refused("refresh_token needs a grant", grant_types=("refresh_token",))


# Scope


def test_explicit_scope() -> None:
    md = validate_registration(reg(redirect_uris=(CB,), scope="openid payments:read"))
    assert md.scope == {"openid", "payments:read"}


def test_empty_scope_is_no_scope() -> None:
    assert validate_registration(reg(redirect_uris=(CB,), scope="")).scope == frozenset()


@pytest.mark.parametrize("scope", ["a\tb", 'caf\u00e9 "x"', " "])
def test_malformed_scope_is_refused(scope: str) -> None:
    refused("scope is not a list of scope tokens", scope=scope)


@pytest.mark.spec("OIDC Core §3")
def test_openid_scopes_need_a_user_facing_grant() -> None:
    refused(
        "OpenID scopes need a user-facing grant: offline_access openid",
        scope="openid api offline_access",
    )


def test_client_credentials_may_have_api_scopes() -> None:
    assert validate_registration(reg(scope="api:read api:write")).scope == {
        "api:read",
        "api:write",
    }


# PKCE, authorization details, flags


@pytest.mark.spec("SEC-18")
def test_public_client_cannot_skip_pkce() -> None:
    refused("without PKCE", public=True, redirect_uris=(CB,), require_pkce=False)


@pytest.mark.spec("SEC-18")
def test_confidential_client_may_skip_pkce() -> None:
    assert not validate_registration(reg(redirect_uris=(CB,), require_pkce=False)).require_pkce


@pytest.mark.spec("RFC 9396 §2")
def test_authorization_details_types_must_be_declared() -> None:
    md = validate_registration(
        reg(redirect_uris=(CB,), authorization_details_types=("payment_initiation",)),
        details_types=["payment_initiation", "account_information"],
    )
    assert md.authorization_details_types == {"payment_initiation"}
    with pytest.raises(InvalidClientMetadataError, match="not declared in the configuration: x"):
        validate_registration(
            reg(redirect_uris=(CB,), authorization_details_types=("x",)),
            details_types=["payment_initiation"],
        )


def test_flags_are_kept() -> None:
    md = validate_registration(reg(can_introspect=True, rotate_refresh_tokens=False))
    assert md.can_introspect
    assert not md.rotate_refresh_tokens


@pytest.mark.spec("RFC 9700 §4.14.2")
def test_public_clients_always_rotate_refresh_tokens() -> None:
    md = validate_registration(reg(public=True, redirect_uris=(CB,), rotate_refresh_tokens=False))
    assert md.rotate_refresh_tokens


def test_id_token_alg_and_access_token_format() -> None:
    md = validate_registration(reg(id_token_signed_response_alg="ES256", access_token_format="jwt"))
    assert md.id_token_signed_response_alg is SigningAlg.ES256
    assert md.access_token_format is AccessTokenFormat.JWT
    refused(
        "id_token_signed_response_alg must be one of ES256, RS256",
        id_token_signed_response_alg="HS256",
    )
    refused("access_token_format must be one of opaque, jwt", access_token_format="paseto")


# Application type


@pytest.mark.spec("OIDC Registration §2")
def test_native_when_every_redirect_uri_is_not_https() -> None:
    uris = ("http://127.0.0.1/cb", "com.example.app:/cb")
    md = validate_registration(reg(public=True, redirect_uris=uris))
    assert md.application_type is ApplicationType.NATIVE
    mixed = validate_registration(reg(public=True, redirect_uris=(*uris, CB)))
    assert mixed.application_type is ApplicationType.WEB


def test_explicit_application_type() -> None:
    md = validate_registration(reg(redirect_uris=(CB,), application_type="native"))
    assert md.application_type is ApplicationType.NATIVE
    refused("application_type must be one of web, native", application_type="desktop")


# Display URIs


@pytest.mark.parametrize("field", ["logo_uri", "policy_uri", "tos_uri", "client_uri"])
def test_display_uris_must_be_https(field: str) -> None:
    md = validate_registration(reg(**{field: "https://c1.test/x"}))
    assert getattr(md, field) == "https://c1.test/x"
    assert getattr(validate_registration(reg(**{field: ""})), field) is None
    refused(f"{field} must be an https URL", **{field: "http://127.0.0.1/x"})
    refused(f"{field} must be an https URL", **{field: "javascript:alert(1)"})
    refused(f"{field} must be an https URL", **{field: 'https:///"caf\u00e9'})


@given(
    st.lists(st.text(max_size=30), max_size=3),
    st.one_of(st.none(), st.text(max_size=30)),
    st.lists(st.text(max_size=30), max_size=2),
)
def test_registration_never_fails_with_anything_but_an_oauth_error(
    uris: list[str], scope: str | None, grants: list[str]
) -> None:
    with contextlib.suppress(InvalidClientMetadataError, InvalidRedirectUriError):
        validate_registration(
            reg(redirect_uris=tuple(uris), scope=scope, grant_types=tuple(grants))
        )
