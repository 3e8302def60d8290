"""core/errors.py: the error model itself (STYLE.md §4 "Tests of the model itself")."""

from __future__ import annotations

import inspect
import re

import pytest
from hypothesis import given, strategies as st

from authgate.core import errors
from authgate.core.errors import (
    AuthgateError,
    ConfigError,
    ConflictError,
    ErrorRedirect,
    InsufficientScopeError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidTokenError,
    NotFoundError,
    OAuthError,
    ServerError,
    TemporarilyUnavailableError,
    TooManyRequestsError,
    is_error_charset,
    to_error_charset,
)

# STYLE.md §4: every wire code of the table and the status its class carries. "redirect"
# entries answer 400 when they are not redirected (JSON or error page).
TABLE = {
    "invalid_request": 400,
    "invalid_client": 401,
    "invalid_grant": 400,
    "unauthorized_client": 400,
    "unsupported_grant_type": 400,
    "unsupported_response_type": 400,
    "invalid_scope": 400,
    "access_denied": 400,
    "server_error": 500,
    "temporarily_unavailable": 503,
    "invalid_token": 401,
    "insufficient_scope": 403,
    "unsupported_token_type": 400,
    "authorization_pending": 400,
    "slow_down": 400,
    "expired_token": 400,
    "invalid_authorization_details": 400,
    "login_required": 400,
    "consent_required": 400,
    "interaction_required": 400,
    "account_selection_required": 400,
    "request_not_supported": 400,
    "request_uri_not_supported": 400,
    "registration_not_supported": 400,
    "invalid_request_object": 400,
    "invalid_request_uri": 400,
}

# RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
ALLOWED = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')
RFC_CHARSET = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]+")


def _oauth_classes() -> list[type[OAuthError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, OAuthError) and cls is not OAuthError
    ]


def _code_classes() -> list[type[OAuthError]]:
    """The classes that define a wire code of their own."""
    return [cls for cls in _oauth_classes() if "error" in vars(cls)]


def _pascal(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


def _class_name(code: str) -> str:
    """pascal(code) + "Error"; a code that already ends in "error" (`server_error`) keeps
    the one suffix, as STYLE.md's table names it `ServerError`.
    """
    name = _pascal(code)
    return name if name.endswith("Error") else name + "Error"


def test_every_direct_subclass_is_named_after_its_code() -> None:
    direct = [c for c in OAuthError.__subclasses__() if c.__module__ == errors.__name__]
    assert len(direct) >= len(TABLE)
    for cls in direct:
        assert cls.__name__ == _class_name(cls.error), cls


def test_every_code_of_the_table_exists_exactly_once() -> None:
    codes = [cls.error for cls in _code_classes()]
    for code in TABLE:
        assert codes.count(code) == 1, code
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(("code", "status"), sorted(TABLE.items()))
def test_status_matches_the_table(code: str, status: int) -> None:
    (cls,) = [c for c in _code_classes() if c.error == code]
    assert cls.status_code == status
    assert cls().status_code == status


def test_every_wire_code_is_in_the_charset() -> None:
    for cls in _code_classes():
        assert is_error_charset(cls.error)
        assert re.fullmatch(r"[a-z_]+", cls.error)


def test_every_class_quotes_its_definition() -> None:
    for cls in _code_classes():
        assert cls.__doc__ and ("§" in cls.__doc__), cls


def test_too_many_requests_is_temporarily_unavailable_with_429() -> None:
    exc = TooManyRequestsError(retry_after=30)
    assert exc.error == "temporarily_unavailable"
    assert exc.status_code == 429
    assert exc.headers() == {"Retry-After": "30"}
    assert isinstance(exc, TemporarilyUnavailableError)


def test_hierarchy_of_operator_errors() -> None:
    for cls in (ConfigError, NotFoundError, ConflictError, OAuthError):
        assert issubclass(cls, AuthgateError)
    assert not issubclass(NotFoundError, OAuthError)


def test_description_and_detail_are_separate() -> None:
    exc = InvalidGrantError("code expired", detail="row 42, key abc")
    assert exc.description == "code expired"
    assert exc.detail == "row 42, key abc"
    assert str(exc) == "code expired"
    assert exc.redirect is None


def test_message_defaults_to_the_code() -> None:
    exc = InvalidGrantError()
    assert exc.description is None
    assert exc.detail is None
    assert str(exc) == "invalid_grant"


def test_redirect_is_set_by_state() -> None:
    exc = InvalidRequestError("missing state")
    exc.redirect = ErrorRedirect("https://c1.test/cb", "query", "s")
    assert exc.redirect.redirect_uri == "https://c1.test/cb"
    assert exc.redirect.state == "s"


@pytest.mark.spec("RFC 6749 §5.2")
@pytest.mark.parametrize(
    "description",
    ['say "hi"', "back\\slash", "line\nbreak", "tab\there", "caf\u00e9", "\x7f", ""],
)
def test_description_outside_the_charset_is_made_safe(description: str) -> None:
    """Descriptions often quote the client's input: never a crash, never an invalid body."""
    exc = InvalidRequestError(description)
    assert exc.description is not None
    assert is_error_charset(exc.description)
    assert exc.description == to_error_charset(description)


@pytest.mark.spec("RFC 6749 §5.2")
def test_every_allowed_character_is_accepted() -> None:
    assert InvalidRequestError(ALLOWED).description == ALLOWED


@pytest.mark.spec("RFC 6749 §5.2")
@given(st.text())
def test_charset_is_the_rfc_grammar(text: str) -> None:
    expected = RFC_CHARSET.fullmatch(text) is not None
    assert is_error_charset(text) is expected
    description = InvalidClientError(text).description
    assert description == (text if expected else to_error_charset(text))


@pytest.mark.spec("RFC 6749 §5.2")
@given(st.text())
def test_to_error_charset_always_yields_a_valid_description(text: str) -> None:
    cleaned = to_error_charset(text)
    assert is_error_charset(cleaned)
    assert len(cleaned) == max(len(text), 1)
    if text and is_error_charset(text):
        assert cleaned == text


def test_to_error_charset_replaces_forbidden_characters() -> None:
    assert to_error_charset('a "b"\n') == "a ?b??"
    assert to_error_charset("") == "?"


def test_plain_errors_have_no_extra_headers() -> None:
    assert InvalidGrantError().headers() == {}
    assert ServerError().headers() == {}


@pytest.mark.spec("RFC 6749 §5.2")
def test_invalid_client_asks_for_basic() -> None:
    assert InvalidClientError("bad secret").headers() == {
        "WWW-Authenticate": 'Basic realm="authgate", charset="UTF-8"'
    }


@pytest.mark.spec("RFC 6750 §3")
def test_invalid_token_challenge_carries_error_and_description() -> None:
    assert InvalidTokenError().headers() == {
        "WWW-Authenticate": 'Bearer realm="authgate", error="invalid_token"'
    }
    assert InvalidTokenError("token expired").headers() == {
        "WWW-Authenticate": (
            'Bearer realm="authgate", error="invalid_token", error_description="token expired"'
        )
    }


@pytest.mark.spec("RFC 6750 §3")
def test_insufficient_scope_challenge() -> None:
    assert InsufficientScopeError("needs admin").headers() == {
        "WWW-Authenticate": 'Bearer realm="authgate", error="insufficient_scope"'
    }


@pytest.mark.spec("RFC 6749 §4.1.2.1")
def test_temporarily_unavailable_says_when_to_retry() -> None:
    assert TemporarilyUnavailableError().headers() == {"Retry-After": "5"}
    exc = TemporarilyUnavailableError("database down", detail="pg", retry_after=12)
    assert exc.headers() == {"Retry-After": "12"}
    assert exc.detail == "pg"
    assert exc.status_code == 503
