"""The error model: RFC 6749 §5.2 error responses, one class per wire error code.

```
AuthgateError                 base; never raised directly
├── ConfigError               a bad setting (one line, exit 1)
├── NotFoundError             CLI/admin: unknown client, user, token or resource
├── ConflictError             CLI/admin: the record exists already or the change is refused
└── OAuthError                a protocol error a client may see (`error`, `status_code`)
    └── one subclass per code: InvalidRequestError … InvalidAuthorizationDetailsError
```

Descriptions are written for a client developer and sent as `error_description`; anything
internal goes to `detail`, which is logged and never sent. Whether an authorization error is
redirected to the client is decided by state (`redirect`), not by class (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

# RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
_ERROR_CHARSET = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]+")


def is_error_charset(text: str) -> bool:
    """RFC 6749 §5.2: whether `text` may be sent as `error` or `error_description`."""
    return _ERROR_CHARSET.fullmatch(text) is not None


def to_error_charset(text: str) -> str:
    """Replace every character RFC 6749 §5.2 forbids in a description with `?`."""
    cleaned = "".join(c if is_error_charset(c) else "?" for c in text)
    return cleaned or "?"


class AuthgateError(Exception):
    """Base of every error authgate raises on purpose."""


class ConfigError(AuthgateError):
    """A setting is missing or invalid; the message names the setting."""


class NotFoundError(AuthgateError):
    """An operator named a client, user, token or resource that does not exist."""


class ConflictError(AuthgateError):
    """An operator asked for a change that conflicts with what is stored."""


@dataclass(frozen=True, slots=True)
class ErrorRedirect:
    """Where an authorization error goes once client and redirect_uri are verified."""

    redirect_uri: str
    response_mode: str
    state: str | None


class OAuthError(AuthgateError):
    """An error a client may see, as RFC 6749 §5.2 defines the response."""

    error: ClassVar[str] = "invalid_request"
    status_code: ClassVar[int] = 400

    def __init__(self, description: str | None = None, *, detail: str | None = None) -> None:
        # RFC 6749 §5.2 allows printable ASCII without `"` and `\`. Descriptions often quote
        # what the client sent, so anything else is replaced rather than refused: refusing
        # would turn the client's bad input into our 500.
        if description is not None and not is_error_charset(description):
            description = to_error_charset(description)
        super().__init__(description or self.error)
        self.description = description
        self.detail = detail
        self.redirect: ErrorRedirect | None = None

    def headers(self) -> dict[str, str]:
        """Extra response headers this error requires."""
        return {}


class InvalidRequestError(OAuthError):
    """RFC 6749 §5.2: "The request is missing a required parameter, includes an unsupported
    parameter value (other than grant type), repeats a parameter, …or is otherwise malformed."
    """

    error = "invalid_request"


class InvalidClientError(OAuthError):
    """RFC 6749 §5.2: "Client authentication failed (e.g., unknown client, no client
    authentication included, or unsupported authentication method)."
    """

    error = "invalid_client"
    status_code = 401

    def headers(self) -> dict[str, str]:
        # RFC 6749 §5.2: "MUST include the WWW-Authenticate response header field matching
        # the authentication scheme used by the client"; RFC 9110 §15.5.2 requires it on
        # every 401, so it is sent whichever method the client tried.
        return {"WWW-Authenticate": 'Basic realm="authgate", charset="UTF-8"'}


class InvalidGrantError(OAuthError):
    """RFC 6749 §5.2: "The provided authorization grant … or refresh token is invalid,
    expired, revoked, does not match the redirection URI …, or was issued to another client."
    """

    error = "invalid_grant"


class UnauthorizedClientError(OAuthError):
    """RFC 6749 §5.2: "The authenticated client is not authorized to use this authorization
    grant type."
    """

    error = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthError):
    """RFC 6749 §5.2: "The authorization grant type is not supported by the authorization
    server."
    """

    error = "unsupported_grant_type"


class UnsupportedResponseTypeError(OAuthError):
    """RFC 6749 §4.1.2.1: "The authorization server does not support obtaining an
    authorization code using this method."
    """

    error = "unsupported_response_type"


class InvalidScopeError(OAuthError):
    """RFC 6749 §5.2: "The requested scope is invalid, unknown, malformed, or exceeds the
    scope granted by the resource owner."
    """

    error = "invalid_scope"


class InvalidTargetError(OAuthError):
    """RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed." """

    error = "invalid_target"


class AccessDeniedError(OAuthError):
    """RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the request."
    RFC 8628 §3.5: "The authorization request was denied."
    """

    error = "access_denied"
    status_code = 400


class ServerError(OAuthError):
    """RFC 6749 §4.1.2.1: "The authorization server encountered an unexpected condition that
    prevented it from fulfilling the request."
    """

    error = "server_error"
    status_code = 500


class TemporarilyUnavailableError(OAuthError):
    """RFC 6749 §4.1.2.1: "The authorization server is currently unable to handle the request
    due to a temporary overloading or maintenance of the server."
    """

    error = "temporarily_unavailable"
    status_code = 503

    def __init__(
        self,
        description: str | None = None,
        *,
        detail: str | None = None,
        retry_after: int = 5,
    ) -> None:
        super().__init__(description, detail=detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TooManyRequestsError(TemporarilyUnavailableError):
    """A rate limit was reached (RFC 6585 §4: 429 with Retry-After). On the wire the code is
    `temporarily_unavailable`, the only RFC 6749 code that says "try again later"; at the
    device and login pages it is a "too many attempts" page.
    """

    status_code = 429


class InvalidTokenError(OAuthError):
    """RFC 6750 §3.1: "The access token provided is expired, revoked, malformed, or invalid
    for other reasons."
    """

    error = "invalid_token"
    status_code = 401

    def headers(self) -> dict[str, str]:
        value = f'Bearer realm="authgate", error="{self.error}"'
        if self.description:
            value += f', error_description="{self.description}"'
        return {"WWW-Authenticate": value}


class InsufficientScopeError(OAuthError):
    """RFC 6750 §3.1: "The request requires higher privileges than provided by the access
    token."
    """

    error = "insufficient_scope"
    status_code = 403

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="authgate", error="{self.error}"'}


class UnsupportedTokenTypeError(OAuthError):
    """RFC 7009 §2.2.1: "The authorization server does not support the revocation of the
    presented token type."
    """

    error = "unsupported_token_type"


class AuthorizationPendingError(OAuthError):
    """RFC 8628 §3.5: "The authorization request is still pending as the end user hasn't yet
    completed the user-interaction steps."
    """

    error = "authorization_pending"


class SlowDownError(OAuthError):
    """RFC 8628 §3.5: "the authorization request is still pending and polling should
    continue, but the interval MUST be increased by 5 seconds for this and all subsequent
    requests."
    """

    error = "slow_down"


class ExpiredTokenError(OAuthError):
    """RFC 8628 §3.5: "The "device_code" has expired, and the device authorization session
    has concluded."
    """

    error = "expired_token"


class InvalidAuthorizationDetailsError(OAuthError):
    """RFC 9396 §5: the authorization_details are malformed, of an unknown type, or not
    allowed for this client or grant.
    """

    error = "invalid_authorization_details"


class LoginRequiredError(OAuthError):
    """OIDC Core §3.1.2.6: "The Authorization Server requires End-User authentication." """

    error = "login_required"


class ConsentRequiredError(OAuthError):
    """OIDC Core §3.1.2.6: "The Authorization Server requires End-User consent." """

    error = "consent_required"


class InteractionRequiredError(OAuthError):
    """OIDC Core §3.1.2.6: "The Authorization Server requires End-User interaction of some
    form to proceed."
    """

    error = "interaction_required"


class AccountSelectionRequiredError(OAuthError):
    """OIDC Core §3.1.2.6: "The End-User is REQUIRED to select a session at the
    Authorization Server."
    """

    error = "account_selection_required"


class RequestNotSupportedError(OAuthError):
    """OIDC Core §3.1.2.6: "The OP does not support use of the request parameter." """

    error = "request_not_supported"


class RequestUriNotSupportedError(OAuthError):
    """OIDC Core §3.1.2.6: "The OP does not support use of the request_uri parameter." """

    error = "request_uri_not_supported"


class RegistrationNotSupportedError(OAuthError):
    """OIDC Core §3.1.2.6: "The OP does not support use of the registration parameter." """

    error = "registration_not_supported"


class InvalidRequestObjectError(OAuthError):
    """OIDC Core §3.1.2.6: "The request parameter contains an invalid Request Object." """

    error = "invalid_request_object"


class InvalidRequestUriError(OAuthError):
    """OIDC Core §3.1.2.6: "The request_uri in the Authorization Request returns an error or
    contains invalid data."
    """

    error = "invalid_request_uri"


class InvalidRedirectUriError(OAuthError):
    """RFC 7591 §3.2.2: "The value of one or more redirection URIs is invalid." """

    error = "invalid_redirect_uri"


class InvalidClientMetadataError(OAuthError):
    """RFC 7591 §3.2.2: "The value of one of the client metadata fields is invalid and the
    server has rejected this request."
    """

    error = "invalid_client_metadata"
