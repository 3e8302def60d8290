"""Client registration rules (RFC 7591 §2 metadata, OIDC Registration §2, RFC 8252).

Clients are registered by an operator (CLI or /admin). This module turns what the operator
asked for into validated metadata, or raises InvalidClientMetadataError /
InvalidRedirectUriError naming the bad value.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from authgate.core import jose, redirect_uri
from authgate.core.errors import (
    InvalidClientMetadataError,
    InvalidScopeError,
    to_error_charset,
)
from authgate.core.scopes import OIDC_SCOPES, format_scope, parse_scope
from authgate.core.types import (
    AccessTokenFormat,
    ApplicationType,
    ClientAuthMethod,
    GrantType,
    SigningAlg,
)

# What a user-facing client may ask for when the operator names no scope.
DEFAULT_USER_SCOPE = "openid profile email address phone offline_access"
_USER_GRANTS = frozenset({GrantType.AUTHORIZATION_CODE, GrantType.DEVICE_CODE})


@dataclass(frozen=True, slots=True)
class ClientRegistration:
    """What an operator asked for; every field optional but the name."""

    name: str
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ()
    scope: str | None = None
    auth_method: str | None = None
    public: bool = False
    authorization_details_types: tuple[str, ...] = ()
    can_introspect: bool = False
    require_pkce: bool = True
    jwks: str | None = None
    jwks_uri: str | None = None
    id_token_signed_response_alg: str | None = None
    access_token_format: str | None = None
    rotate_refresh_tokens: bool = True
    application_type: str | None = None
    logo_uri: str | None = None
    policy_uri: str | None = None
    tos_uri: str | None = None
    client_uri: str | None = None


@dataclass(frozen=True, slots=True)
class ClientMetadata:
    """Validated client metadata, ready to store."""

    name: str
    auth_method: ClientAuthMethod
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: frozenset[GrantType]
    scope: frozenset[str]
    require_pkce: bool
    authorization_details_types: frozenset[str]
    can_introspect: bool
    jwks: str | None
    jwks_uri: str | None
    id_token_signed_response_alg: SigningAlg
    access_token_format: AccessTokenFormat | None
    rotate_refresh_tokens: bool
    application_type: ApplicationType
    logo_uri: str | None
    policy_uri: str | None
    tos_uri: str | None
    client_uri: str | None

    @property
    def needs_secret(self) -> bool:
        return self.auth_method in {
            ClientAuthMethod.CLIENT_SECRET_BASIC,
            ClientAuthMethod.CLIENT_SECRET_POST,
        }


def validate_registration(
    reg: ClientRegistration, *, details_types: Iterable[str] = ()
) -> ClientMetadata:
    """Apply every registration rule; raises InvalidClientMetadataError naming the value."""
    name = reg.name.strip()
    if not name or len(name) > 200:
        raise InvalidClientMetadataError("client name must be 1 to 200 characters")
    method = _auth_method(reg)
    redirect_uris = tuple(redirect_uri.validate_registered(u) for u in _unique(reg.redirect_uris))
    logout_uris = tuple(
        redirect_uri.validate_registered(u) for u in _unique(reg.post_logout_redirect_uris)
    )
    grants = _grant_types(reg.grant_types, redirect_uris, method)
    scope = _scope(reg.scope, grants)
    if not reg.require_pkce and method is ClientAuthMethod.NONE:
        # SECURITY.md SEC-18; RFC 9700 §2.1.1: public clients MUST use PKCE.
        raise InvalidClientMetadataError("a public client cannot be registered without PKCE")
    known = frozenset(details_types)
    unknown = [t for t in reg.authorization_details_types if t not in known]
    if unknown:
        raise InvalidClientMetadataError(
            "authorization details type not declared in the configuration: "
            + to_error_charset(unknown[0])
        )
    jwks, jwks_uri = _keys(reg, method)
    return ClientMetadata(
        name=name,
        auth_method=method,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=logout_uris,
        grant_types=grants,
        scope=scope,
        require_pkce=reg.require_pkce,
        authorization_details_types=frozenset(reg.authorization_details_types),
        can_introspect=reg.can_introspect,
        jwks=jwks,
        jwks_uri=jwks_uri,
        id_token_signed_response_alg=_enum(
            SigningAlg, reg.id_token_signed_response_alg or "RS256", "id_token_signed_response_alg"
        ),
        access_token_format=(
            _enum(AccessTokenFormat, reg.access_token_format, "access_token_format")
            if reg.access_token_format
            else None
        ),
        rotate_refresh_tokens=reg.rotate_refresh_tokens or method is ClientAuthMethod.NONE,
        application_type=_application_type(reg, redirect_uris),
        logo_uri=_https_uri(reg.logo_uri, "logo_uri"),
        policy_uri=_https_uri(reg.policy_uri, "policy_uri"),
        tos_uri=_https_uri(reg.tos_uri, "tos_uri"),
        client_uri=_https_uri(reg.client_uri, "client_uri"),
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


_E = TypeVar("_E", SigningAlg, AccessTokenFormat, ClientAuthMethod, ApplicationType)


def _enum(kind: type[_E], value: str, field: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidClientMetadataError(f"{field} must be one of {allowed}") from None


def _auth_method(reg: ClientRegistration) -> ClientAuthMethod:
    if reg.public:
        if reg.auth_method not in (None, ClientAuthMethod.NONE):
            raise InvalidClientMetadataError("a public client authenticates with method none")
        return ClientAuthMethod.NONE
    if reg.auth_method is None:
        if reg.jwks or reg.jwks_uri:
            return ClientAuthMethod.PRIVATE_KEY_JWT
        return ClientAuthMethod.CLIENT_SECRET_BASIC
    return _enum(ClientAuthMethod, reg.auth_method, "token_endpoint_auth_method")


def _grant_types(
    names: tuple[str, ...], redirect_uris: tuple[str, ...], method: ClientAuthMethod
) -> frozenset[GrantType]:
    if names:
        grants = frozenset(_enum_grant(n) for n in names)
    elif redirect_uris:
        grants = frozenset({GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN})
    elif method is ClientAuthMethod.NONE:
        raise InvalidClientMetadataError(
            "a public client needs a redirect URI or the device_code grant type"
        )
    else:
        grants = frozenset({GrantType.CLIENT_CREDENTIALS})
    if GrantType.AUTHORIZATION_CODE in grants and not redirect_uris:
        raise InvalidClientMetadataError("the authorization_code grant needs a redirect URI")
    if GrantType.CLIENT_CREDENTIALS in grants and method is ClientAuthMethod.NONE:
        # RFC 6749 §4.4: "The client credentials grant type MUST only be used by
        # confidential clients."
        raise InvalidClientMetadataError("client_credentials needs a confidential client")
    if grants == {GrantType.REFRESH_TOKEN}:
        raise InvalidClientMetadataError("refresh_token needs a grant that issues refresh tokens")
    return grants


def _enum_grant(name: str) -> GrantType:
    try:
        return GrantType(name)
    except ValueError:
        allowed = ", ".join(g.value for g in GrantType)
        raise InvalidClientMetadataError(
            f"unknown grant type {to_error_charset(repr(name))}; use one of {allowed}"
        ) from None


def _scope(value: str | None, grants: frozenset[GrantType]) -> frozenset[str]:
    if value is None:
        return parse_scope(DEFAULT_USER_SCOPE) if grants & _USER_GRANTS else frozenset()
    try:
        scope = parse_scope(value)
    except InvalidScopeError:
        raise InvalidClientMetadataError(
            f"scope is not a list of scope tokens: {to_error_charset(repr(value))}"
        ) from None
    if not grants & _USER_GRANTS and scope & OIDC_SCOPES:
        raise InvalidClientMetadataError(
            f"OpenID scopes need a user-facing grant: {format_scope(scope & OIDC_SCOPES)}"
        )
    return scope


def _keys(reg: ClientRegistration, method: ClientAuthMethod) -> tuple[str | None, str | None]:
    if reg.jwks and reg.jwks_uri:
        raise InvalidClientMetadataError("give jwks or jwks_uri, not both (RFC 7591 section 2)")
    if method is ClientAuthMethod.PRIVATE_KEY_JWT and not (reg.jwks or reg.jwks_uri):
        raise InvalidClientMetadataError("private_key_jwt needs the client's jwks or jwks_uri")
    jwks = None
    if reg.jwks:
        try:
            jwks = jose.normalise_public_jwks(reg.jwks)
        except ValueError as exc:
            raise InvalidClientMetadataError(f"jwks: {to_error_charset(str(exc))}") from None
    return jwks, _https_uri(reg.jwks_uri, "jwks_uri", allow_loopback=True)


def _application_type(reg: ClientRegistration, uris: tuple[str, ...]) -> ApplicationType:
    if reg.application_type:
        return _enum(ApplicationType, reg.application_type, "application_type")
    native = uris and all(not u.startswith("https:") for u in uris)
    return ApplicationType.NATIVE if native else ApplicationType.WEB


def _https_uri(value: str | None, field: str, *, allow_loopback: bool = False) -> str | None:
    if not value:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if allow_loopback and parts.scheme == "http" and redirect_uri.is_loopback_ip_uri(value):
        return value
    raise InvalidClientMetadataError(
        f"{field} must be an https URL: {to_error_charset(repr(value))}"
    )
