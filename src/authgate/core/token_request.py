"""RFC 6749 §4 and §5: the rules every token request shares, and the §5.1 response body."""

from __future__ import annotations

from authgate.core.errors import (
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from authgate.core.models import Client
from authgate.core.scopes import OIDC_SCOPES, format_scope, parse_scope, validate_scope
from authgate.core.types import GrantType

TokenResponse = dict[str, object]


def parse_grant_type(value: str, supported: frozenset[GrantType]) -> GrantType:
    """RFC 6749 §5.2 `unsupported_grant_type` for anything authgate does not implement."""
    try:
        grant = GrantType(value)
    except ValueError:
        raise UnsupportedGrantTypeError(
            f"grant_type {_printable(value)} is not supported"
        ) from None
    if grant not in supported:
        raise UnsupportedGrantTypeError(f"grant_type {grant.value} is not supported")
    return grant


def validate_client_grant(client: Client, grant: GrantType) -> None:
    """RFC 6749 §5.2 `unauthorized_client`: the client is not registered for this grant."""
    if grant not in client.grant_types:
        raise UnauthorizedClientError(f"this client may not use the {grant.value} grant")


def validate_client_credentials_scope(client: Client, requested: str | None) -> frozenset[str]:
    """RFC 6749 §4.4.2 and §3.3: the scope of a client_credentials token. Without a `scope`
    the client gets everything it is registered for; OpenID scopes describe a user and never
    apply to a client acting on its own behalf.
    """
    allowed = client.scope - OIDC_SCOPES
    if requested is None:
        return allowed
    scope = parse_scope(requested)
    if scope & OIDC_SCOPES:
        raise InvalidScopeError(
            f"scope {format_scope(scope & OIDC_SCOPES)} needs a user; not for client_credentials"
        )
    return validate_scope(scope, allowed)


def build_token_response(
    *,
    access_token: str,
    expires_in: int,
    scope: frozenset[str],
    refresh_token: str | None = None,
    id_token: str | None = None,
    authorization_details: object = None,
) -> TokenResponse:
    """RFC 6749 §5.1 successful response (and OIDC Core §3.1.3.3, RFC 9396 §7)."""
    body: TokenResponse = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }
    if scope:
        body["scope"] = format_scope(scope)
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    if id_token is not None:
        body["id_token"] = id_token
    if authorization_details is not None:
        body["authorization_details"] = authorization_details
    return body


def _printable(value: str) -> str:
    cleaned = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "?" for c in value[:60])
    return cleaned or "?"
