"""The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), validated in two phases.

Phase 1 checks `client_id` and `redirect_uri`. Until both are verified nothing may be sent
to the redirect URI (RFC 6749 §4.1.2.1: "the authorization server SHOULD inform the
resource owner of the error and MUST NOT automatically redirect"), so its errors become an
error page. Phase 2 checks everything else; the flow attaches `error_redirect(...)` to its
errors so that they go back to the client with `state` and `iss` (RFC 9207).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from authgate.core import authorization_details, pkce
from authgate.core.authorization_details import DetailsType
from authgate.core.claims import parse_claims
from authgate.core.errors import (
    ErrorRedirect,
    InvalidRequestError,
    InvalidScopeError,
    RegistrationNotSupportedError,
    RequestNotSupportedError,
    RequestUriNotSupportedError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from authgate.core.models import Client
from authgate.core.params import Params
from authgate.core.redirect_uri import find_match
from authgate.core.scopes import OPENID, parse_scope, validate_scope
from authgate.core.types import ClientId, Display, GrantType, Prompt, ResponseMode, ResponseType

MAX_AGE_LIMIT = 10 * 365 * 86_400  # larger values are treated as this (ten years)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A validated authorization request; stored server-side while the user signs in."""

    client_id: ClientId
    redirect_uri: str
    response_mode: ResponseMode
    scope: frozenset[str]
    state: str | None = None
    nonce: str | None = None
    prompt: frozenset[Prompt] = frozenset()
    max_age: int | None = None
    display: Display = Display.PAGE
    ui_locales: tuple[str, ...] = ()
    id_token_hint: str | None = None
    login_hint: str | None = None
    acr_values: tuple[str, ...] = ()
    claims: str | None = None  # canonical JSON (OIDC Core §5.5)
    code_challenge: str | None = None
    authorization_details: str | None = None  # canonical JSON array (RFC 9396 §2)

    @property
    def is_openid(self) -> bool:
        """OIDC Core §3.1.2.1: an OpenID request has `openid` in its scope."""
        return OPENID in self.scope

    @property
    def error_redirect(self) -> ErrorRedirect:
        return ErrorRedirect(self.redirect_uri, self.response_mode.value, self.state)

    def to_json(self) -> str:
        data = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_mode": self.response_mode.value,
            "scope": sorted(self.scope),
            "state": self.state,
            "nonce": self.nonce,
            "prompt": sorted(p.value for p in self.prompt),
            "max_age": self.max_age,
            "display": self.display.value,
            "ui_locales": list(self.ui_locales),
            "id_token_hint": self.id_token_hint,
            "login_hint": self.login_hint,
            "acr_values": list(self.acr_values),
            "claims": self.claims,
            "code_challenge": self.code_challenge,
            "authorization_details": self.authorization_details,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AuthorizationRequest:
        d = json.loads(text)
        return cls(
            client_id=ClientId(d["client_id"]),
            redirect_uri=d["redirect_uri"],
            response_mode=ResponseMode(d["response_mode"]),
            scope=frozenset(d["scope"]),
            state=d["state"],
            nonce=d["nonce"],
            prompt=frozenset(Prompt(p) for p in d["prompt"]),
            max_age=d["max_age"],
            display=Display(d["display"]),
            ui_locales=tuple(d["ui_locales"]),
            id_token_hint=d["id_token_hint"],
            login_hint=d["login_hint"],
            acr_values=tuple(d["acr_values"]),
            claims=d["claims"],
            code_challenge=d["code_challenge"],
            authorization_details=d.get("authorization_details"),
        )


# ---------------------------------------------------------------- phase 1


def validate_client(client_id: str | None, client: Client | None) -> Client:
    """RFC 6749 §4.1.2.1: a missing, unknown or retired client gets an error page."""
    if client_id is None:
        raise InvalidRequestError("client_id is missing")
    if client is None:
        raise InvalidRequestError("unknown client_id")
    if client.is_retired:
        raise InvalidRequestError("this client has been disabled by the operator")
    return client


def validate_redirect_uri(params: Params, client: Client) -> str:
    """RFC 9700 §2.1 exact match (RFC 8252 §7.3 loopback port aside). OIDC Core §3.1.2.1:
    `redirect_uri` is REQUIRED in an OpenID request; RFC 6749 §3.1.2.3: a plain OAuth
    request may omit it only when exactly one URI is registered.
    """
    requested = params.get("redirect_uri")
    if requested is None:
        if _looks_openid(params.get("scope")):
            raise InvalidRequestError("redirect_uri is required in an OpenID request")
        if len(client.redirect_uris) != 1:
            raise InvalidRequestError("redirect_uri is required: the client registered several")
        return client.redirect_uris[0]
    if find_match(requested, client.redirect_uris) is None:
        raise InvalidRequestError("redirect_uri is not registered for this client")
    return requested


def _looks_openid(scope: str | None) -> bool:
    return OPENID in (scope or "").split(" ")


def error_redirect(params: Params, redirect_uri: str) -> ErrorRedirect:
    """Where phase 2 errors go: the verified URI, in the requested mode if it is valid."""
    mode = params.get("response_mode")
    if mode not in {m.value for m in ResponseMode}:
        mode = ResponseMode.QUERY.value
    return ErrorRedirect(redirect_uri, str(mode), params.get("state"))


# ---------------------------------------------------------------- phase 2


def validate_request(
    params: Params,
    client: Client,
    redirect_uri: str,
    details_types: Mapping[str, DetailsType] | None = None,
) -> AuthorizationRequest:
    """Every check after phase 1, in the order a client developer would fix them."""
    _refuse_unsupported(params)
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequestError("response_type is missing")
    if response_type != ResponseType.CODE:
        # RFC 9700 §2.1.2: no implicit or hybrid flows.
        raise UnsupportedResponseTypeError("only response_type=code is supported")
    if GrantType.AUTHORIZATION_CODE not in client.grant_types:
        raise UnauthorizedClientError("this client may not use the authorization_code grant")
    scope = parse_scope(params.get("scope"))
    if not scope:
        raise InvalidScopeError("scope is required")
    validate_scope(scope, client.scope)
    challenge = pkce.validate_challenge(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
        required=client.require_pkce or client.is_public,  # SECURITY.md SEC-18
    )
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        response_mode=parse_response_mode(params.get("response_mode")),
        scope=scope,
        state=params.get("state"),
        nonce=params.get("nonce"),
        prompt=parse_prompt(params.get("prompt")),
        max_age=parse_max_age(params.get("max_age")),
        display=parse_display(params.get("display")),
        ui_locales=tuple((params.get("ui_locales") or "").split()[:10]),
        id_token_hint=params.get("id_token_hint"),
        login_hint=params.get("login_hint"),
        acr_values=tuple((params.get("acr_values") or "").split()),
        claims=parse_claims(params.get("claims")) if OPENID in scope else None,
        code_challenge=challenge,
        # RFC 9396 §2, §5, §10: typed objects of the client's registered types.
        authorization_details=authorization_details.from_parameter(
            params.get("authorization_details"),
            details_types or {},
            allowed=client.authorization_details_types,
        ),
    )


def _refuse_unsupported(params: Params) -> None:
    # OIDC Core §3.1.2.6; authgate advertises request(_uri)_parameter_supported: false.
    if "request" in params:
        raise RequestNotSupportedError("the request parameter is not supported")
    if "request_uri" in params:
        raise RequestUriNotSupportedError("the request_uri parameter is not supported")
    if "registration" in params:
        raise RegistrationNotSupportedError("the registration parameter is not supported")


def parse_response_mode(value: str | None) -> ResponseMode:
    """OAuth 2.0 Multiple Response Types §2.1; the default for `code` is `query`."""
    if value is None:
        return ResponseMode.QUERY
    try:
        return ResponseMode(value)
    except ValueError:
        raise InvalidRequestError("response_mode must be query, fragment or form_post") from None


def parse_prompt(value: str | None) -> frozenset[Prompt]:
    """OIDC Core §3.1.2.1: space-delimited; "If this parameter contains none with any other
    value, an error is returned."
    """
    if value is None:
        return frozenset()
    try:
        prompt = frozenset(Prompt(p) for p in value.split())
    except ValueError:
        raise InvalidRequestError(
            "prompt values are none, login, consent, select_account"
        ) from None
    if Prompt.NONE in prompt and len(prompt) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values")
    return prompt


def parse_max_age(value: str | None) -> int | None:
    """OIDC Core §3.1.2.1: allowable elapsed seconds since the last active authentication."""
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise InvalidRequestError("max_age must be a non-negative whole number of seconds")
    return min(int(value), MAX_AGE_LIMIT)


def parse_display(value: str | None) -> Display:
    if value is None:
        return Display.PAGE
    try:
        return Display(value)
    except ValueError:
        raise InvalidRequestError("display must be page, popup, touch or wap") from None
