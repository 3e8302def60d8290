"""The authorization request rules (RFC 6749 §4.1.1, §4.1.2.1; OIDC Core §3.1.2.1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authgate.core import authorize
from authgate.core.authorize import AuthorizationRequest
from authgate.core.errors import (
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    RegistrationNotSupportedError,
    RequestNotSupportedError,
    RequestUriNotSupportedError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from authgate.core.params import from_mapping
from authgate.core.types import ClientAuthMethod, Display, GrantType, Prompt, ResponseMode
from tests.unit.authz_fixtures import C1, client

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
VALID = {
    "response_type": "code",
    "client_id": "c1",
    "redirect_uri": "https://c1.test/cb",
    "scope": "openid",
    "code_challenge": CHALLENGE,
    "code_challenge_method": "S256",
}


def validate(**changes: str) -> AuthorizationRequest:
    values = {k: v for k, v in {**VALID, **changes}.items() if v}
    return authorize.validate_request(from_mapping(values), C1, "https://c1.test/cb")


# ---------------------------------------------------------------- phase 1


@pytest.mark.spec("SEC-05")
def test_missing_unknown_or_retired_client() -> None:
    with pytest.raises(InvalidRequestError, match="missing"):
        authorize.validate_client(None, None)
    with pytest.raises(InvalidRequestError, match="unknown"):
        authorize.validate_client("nope", None)
    with pytest.raises(InvalidRequestError, match="disabled"):
        authorize.validate_client("c1", client(retired_at=datetime(2026, 1, 1, tzinfo=UTC)))
    assert authorize.validate_client("c1", C1) is C1


@pytest.mark.spec("SEC-01")
def test_redirect_uri_exact_match() -> None:
    params = from_mapping({"redirect_uri": "https://c1.test/cb"})
    assert authorize.validate_redirect_uri(params, C1) == "https://c1.test/cb"
    with pytest.raises(InvalidRequestError, match="not registered"):
        authorize.validate_redirect_uri(from_mapping({"redirect_uri": "https://c1.test/cb/"}), C1)


@pytest.mark.spec("SEC-04")
def test_redirect_uri_may_be_omitted_only_by_plain_oauth_with_one_uri() -> None:
    assert authorize.validate_redirect_uri(from_mapping({"scope": "api"}), C1) == (
        "https://c1.test/cb"
    )
    with pytest.raises(InvalidRequestError, match="OpenID"):
        authorize.validate_redirect_uri(from_mapping({"scope": "openid api"}), C1)
    two = client(redirect_uris=("https://c1.test/cb", "https://c1.test/cb2"))
    with pytest.raises(InvalidRequestError, match="several"):
        authorize.validate_redirect_uri(from_mapping({}), two)


def test_error_redirect_uses_a_valid_response_mode_only() -> None:
    target = authorize.error_redirect(from_mapping({"state": "s"}), "https://c1.test/cb")
    assert (target.response_mode, target.state) == ("query", "s")
    target = authorize.error_redirect(from_mapping({"response_mode": "fragment"}), "u")
    assert target.response_mode == "fragment" and target.state is None
    target = authorize.error_redirect(from_mapping({"response_mode": "bogus"}), "u")
    assert target.response_mode == "query"


# ---------------------------------------------------------------- phase 2


def test_a_valid_request_round_trips_through_json() -> None:
    req = validate(
        state="s",
        nonce="n",
        prompt="login consent",
        max_age="30",
        display="popup",
        ui_locales="it zh-CN",
        id_token_hint="h",
        login_hint="alice",
        acr_values="1 2",
        claims='{"userinfo": {"email": null}}',
        response_mode="form_post",
    )
    assert req.is_openid
    assert req.prompt == {Prompt.LOGIN, Prompt.CONSENT}
    assert req.display is Display.POPUP and req.max_age == 30
    assert req.response_mode is ResponseMode.FORM_POST
    assert req.error_redirect.response_mode == "form_post"
    assert AuthorizationRequest.from_json(req.to_json()) == req


def test_claims_ignored_without_openid() -> None:
    req = validate(scope="api", claims='{"userinfo": {"email": null}}')
    assert req.claims is None and not req.is_openid


@pytest.mark.spec("SEC-99")
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("request", RequestNotSupportedError),
        ("request_uri", RequestUriNotSupportedError),
        ("registration", RegistrationNotSupportedError),
    ],
)
def test_unsupported_request_objects(name: str, error: type[OAuthError]) -> None:
    with pytest.raises(error):
        validate(**{name: "x"})


@pytest.mark.spec("SEC-10")
def test_response_type() -> None:
    with pytest.raises(InvalidRequestError, match="missing"):
        validate(response_type="")
    for value in ("token", "id_token token", "code id_token"):
        with pytest.raises(UnsupportedResponseTypeError):
            validate(response_type=value)


def test_client_must_have_the_code_grant() -> None:
    other = client(grant_types=frozenset({GrantType.CLIENT_CREDENTIALS}))
    with pytest.raises(UnauthorizedClientError):
        authorize.validate_request(from_mapping(VALID), other, "https://c1.test/cb")


@pytest.mark.spec("SEC-06")
def test_scope_rules() -> None:
    with pytest.raises(InvalidScopeError, match="required"):
        validate(scope="")
    with pytest.raises(InvalidScopeError, match="bogus"):
        validate(scope="openid bogus")


@pytest.mark.spec("SEC-18")
def test_pkce_required_unless_confidential_client_opted_out() -> None:
    with pytest.raises(InvalidRequestError, match="code_challenge"):
        validate(code_challenge="", code_challenge_method="")
    optional = client(require_pkce=False)
    params = {k: v for k, v in VALID.items() if not k.startswith("code_")}
    req = authorize.validate_request(from_mapping(params), optional, "https://c1.test/cb")
    assert req.code_challenge is None
    public = client(require_pkce=False, auth_method=ClientAuthMethod.NONE)
    with pytest.raises(InvalidRequestError):
        authorize.validate_request(from_mapping(params), public, "https://c1.test/cb")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("response_mode", "jwt"),
        ("prompt", "none login"),
        ("prompt", "sometimes"),
        ("max_age", "-1"),
        ("max_age", "1.5"),
        ("max_age", "١٢"),
        ("display", "tv"),
    ],
)
def test_malformed_oidc_parameters(name: str, value: str) -> None:
    with pytest.raises(InvalidRequestError):
        validate(**{name: value})


def test_huge_max_age_is_capped() -> None:
    assert validate(max_age="9" * 30).max_age == authorize.MAX_AGE_LIMIT


def test_defaults() -> None:
    req = validate()
    assert req.response_mode is ResponseMode.QUERY and req.display is Display.PAGE
    assert req.prompt == frozenset() and req.max_age is None
