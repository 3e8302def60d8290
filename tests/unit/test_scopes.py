"""core/scopes.py: scope syntax and set rules (RFC 6749 §3.3, §6)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, strategies as st

from authgate.core.errors import InvalidScopeError
from authgate.core.scopes import (
    OIDC_SCOPES,
    format_scope,
    is_scope_token,
    parse_scope,
    validate_narrowing,
    validate_scope,
)

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
TOKEN_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')
tokens = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=12)
scope_sets = st.frozensets(tokens, max_size=8)


@pytest.mark.spec("RFC 6749 §3.3")
def test_space_delimited_tokens() -> None:
    assert parse_scope("openid profile email") == {"openid", "profile", "email"}


@pytest.mark.spec("RFC 6749 §3.3")
def test_scope_is_case_sensitive() -> None:
    assert parse_scope("Email email") == {"Email", "email"}


def test_absent_and_empty_scope_are_empty() -> None:
    assert parse_scope(None) == frozenset()
    assert parse_scope("") == frozenset()


def test_duplicates_collapse() -> None:
    assert parse_scope("a b a") == {"a", "b"}


def test_extra_spaces_between_tokens_are_tolerated() -> None:
    assert parse_scope("a  b ") == {"a", "b"}


@pytest.mark.spec("RFC 6749 §3.3")
@pytest.mark.parametrize("value", [" ", "   "])
def test_only_spaces_is_refused(value: str) -> None:
    with pytest.raises(InvalidScopeError):
        parse_scope(value)


@pytest.mark.spec("RFC 6749 §3.3")
@pytest.mark.parametrize("value", ['a "b"', "a\\b", "a\tb", "a\nb", "caf\u00e9", "a\x7f", "a\x00"])
def test_characters_outside_scope_token_are_refused(value: str) -> None:
    with pytest.raises(InvalidScopeError, match="scope tokens"):
        parse_scope(value)


def test_is_scope_token() -> None:
    assert is_scope_token("payments:read")
    assert is_scope_token("!")
    assert not is_scope_token("")
    assert not is_scope_token("a b")


def test_format_is_sorted_and_space_delimited() -> None:
    assert format_scope({"profile", "openid", "email"}) == "email openid profile"
    assert format_scope(()) == ""


def test_oidc_scopes() -> None:
    assert {"openid", "offline_access", "profile", "email", "address", "phone"} == OIDC_SCOPES


@pytest.mark.spec("RFC 6749 §3.3")
def test_validate_scope_accepts_a_subset() -> None:
    allowed = frozenset({"openid", "profile"})
    assert validate_scope(frozenset({"openid"}), allowed) == {"openid"}
    assert validate_scope(frozenset(), allowed) == frozenset()


@pytest.mark.spec("RFC 6749 §3.3")
def test_validate_scope_names_what_is_not_allowed() -> None:
    with pytest.raises(InvalidScopeError, match="not allowed for this client: admin write"):
        validate_scope(frozenset({"openid", "write", "admin"}), frozenset({"openid"}))


@pytest.mark.spec("RFC 6749 §6")
def test_narrowing_may_not_widen() -> None:
    granted = frozenset({"a", "b"})
    assert validate_narrowing(frozenset({"a"}), granted) == {"a"}
    with pytest.raises(InvalidScopeError, match="exceeds what was granted: c"):
        validate_narrowing(frozenset({"a", "c"}), granted)


@pytest.mark.spec("RFC 6749 §3.3")
@given(scope_sets)
def test_format_then_parse_is_identity(scope: frozenset[str]) -> None:
    assert parse_scope(format_scope(scope)) == scope


@pytest.mark.spec("RFC 6749 §3.3")
@given(st.lists(tokens, min_size=1, max_size=8), st.data())
def test_parse_then_format_is_canonical(words: list[str], data: st.DataObject) -> None:
    gaps = st.integers(0, 2).map(lambda n: " " * n)
    value = data.draw(gaps)
    for word in words:
        value += word + " " + data.draw(gaps)
    canonical = format_scope(parse_scope(value))
    assert parse_scope(canonical) == frozenset(words)
    assert format_scope(parse_scope(canonical)) == canonical


@pytest.mark.spec("RFC 6749 §3.3")
@given(scope_sets, scope_sets)
def test_validate_scope_succeeds_exactly_on_subsets(
    requested: frozenset[str], allowed: frozenset[str]
) -> None:
    if requested <= allowed:
        assert validate_scope(requested, allowed) == requested
    else:
        with pytest.raises(InvalidScopeError):
            validate_scope(requested, allowed)


@pytest.mark.spec("RFC 6749 §6")
@given(scope_sets)
def test_narrowing_is_reflexive(scope: frozenset[str]) -> None:
    assert validate_narrowing(scope, scope) == scope


@pytest.mark.spec("RFC 6749 §6")
@given(scope_sets, scope_sets, scope_sets)
def test_narrowing_is_transitive(a: frozenset[str], b: frozenset[str], c: frozenset[str]) -> None:
    b = b | a
    c = c | b
    validate_narrowing(a, b)
    validate_narrowing(b, c)
    assert validate_narrowing(a, c) == a


@pytest.mark.spec("RFC 6749 §6")
@given(scope_sets, tokens)
def test_one_extra_token_is_always_refused(granted: frozenset[str], extra: str) -> None:
    assume(extra not in granted)
    with pytest.raises(InvalidScopeError):
        validate_narrowing(granted | {extra}, granted)
