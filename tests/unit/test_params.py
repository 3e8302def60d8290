"""core/params.py: repeated and empty parameters (RFC 6749 §3.1, §3.2), RFC 8707 `resource`."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from authgate.core.errors import InvalidRequestError
from authgate.core.params import KNOWN, REPEATABLE, Params, from_mapping, parse_params

SINGLE = sorted(KNOWN - REPEATABLE)
names = st.sampled_from(SINGLE)
values = st.text(max_size=20)
unknown_names = st.text(min_size=1, max_size=12).filter(lambda n: n not in KNOWN)


def test_known_parameters_become_values() -> None:
    params = parse_params([("grant_type", "authorization_code"), ("code", "c1")], max_length=100)
    assert params.get("grant_type") == "authorization_code"
    assert params.require("code") == "c1"
    assert "code" in params
    assert params.get("state") is None
    assert "state" not in params


@pytest.mark.spec("RFC 6749 §3.1")
def test_unknown_parameters_are_ignored_even_when_repeated() -> None:
    params = parse_params([("extra", "1"), ("extra", "2"), ("code", "c")], max_length=100)
    assert "extra" not in params
    assert dict(params.values) == {"code": "c"}


@pytest.mark.spec("SEC-09")
@pytest.mark.spec("RFC 6749 §3.1")
def test_repeated_known_parameter_is_refused() -> None:
    pairs = [("redirect_uri", "https://c1.test/cb"), ("redirect_uri", "https://evil.test/cb")]
    with pytest.raises(InvalidRequestError, match="redirect_uri is repeated"):
        parse_params(pairs, max_length=100)


@pytest.mark.spec("SEC-09")
def test_repeated_with_same_value_is_still_refused() -> None:
    with pytest.raises(InvalidRequestError):
        parse_params([("code", "c"), ("code", "c")], max_length=100)


@pytest.mark.spec("SEC-09")
def test_an_empty_repetition_still_counts_as_repetition() -> None:
    # Decision: code pollution (OAuch CodePollutionTest) is refused even when one copy is
    # empty; the stricter reading of RFC 6749 §3.1.
    with pytest.raises(InvalidRequestError):
        parse_params([("scope", ""), ("scope", "openid")], max_length=100)


@pytest.mark.spec("RFC 6749 §3.1")
def test_empty_value_is_treated_as_omitted() -> None:
    params = parse_params([("state", ""), ("code", "c")], max_length=100)
    assert "state" not in params
    assert params.get("state") is None
    with pytest.raises(InvalidRequestError, match="missing parameter: state"):
        params.require("state")


def test_value_longer_than_the_limit_is_refused() -> None:
    assert parse_params([("state", "x" * 10)], max_length=10).get("state") == "x" * 10
    with pytest.raises(InvalidRequestError, match="longer than 10"):
        parse_params([("state", "x" * 11)], max_length=10)


def test_unknown_parameter_is_not_length_checked() -> None:
    assert dict(parse_params([("extra", "x" * 50)], max_length=10).values) == {}


@pytest.mark.spec("RFC 8707 §2")
def test_resource_may_repeat() -> None:
    pairs = [("resource", "https://a.test"), ("resource", ""), ("resource", "https://b.test")]
    params = parse_params(pairs, max_length=100)
    assert params.get_all("resource") == ("https://a.test", "https://b.test")
    assert params.get("resource") == "https://a.test"


@pytest.mark.spec("RFC 8707 §2")
def test_resource_length_is_checked() -> None:
    with pytest.raises(InvalidRequestError):
        parse_params([("resource", "https://a.test/" + "x" * 100)], max_length=100)


def test_empty_resource_is_omitted() -> None:
    params = parse_params([("resource", "")], max_length=100)
    assert params.get_all("resource") == ()
    assert "resource" not in params


def test_get_all_of_a_parameter_never_sent() -> None:
    assert Params({}).get_all("resource") == ()


def test_from_mapping_drops_empty_values() -> None:
    params = from_mapping({"scope": "openid", "state": ""})
    assert dict(params.values) == {"scope": "openid"}
    assert params.get_all("resource") == ()


@pytest.mark.spec("RFC 6749 §3.1")
@given(st.lists(st.tuples(names, values), unique_by=lambda p: p[0]), st.data())
def test_unknown_parameters_never_change_the_result(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    noise = data.draw(st.lists(st.tuples(unknown_names, values)))
    mixed = data.draw(st.permutations(pairs + noise))
    assert parse_params(mixed, max_length=1000) == parse_params(pairs, max_length=1000)


@pytest.mark.spec("RFC 6749 §3.1")
@given(st.lists(st.tuples(names, values), unique_by=lambda p: p[0]))
def test_each_parameter_once_gives_its_non_empty_values(pairs: list[tuple[str, str]]) -> None:
    params = parse_params(pairs, max_length=1000)
    assert dict(params.values) == {n: v for n, v in pairs if v}
    for name, value in pairs:
        assert (name in params) is bool(value)


@pytest.mark.spec("RFC 6749 §3.1")
@given(st.lists(st.tuples(names, values), unique_by=lambda p: p[0]), st.data())
def test_order_of_distinct_parameters_does_not_matter(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(pairs))
    assert parse_params(shuffled, max_length=1000) == parse_params(pairs, max_length=1000)


@pytest.mark.spec("SEC-09")
@given(st.lists(st.tuples(names, values), min_size=1), names, values, values, st.data())
def test_any_known_parameter_twice_is_refused(
    pairs: list[tuple[str, str]], name: str, first: str, second: str, data: st.DataObject
) -> None:
    polluted = data.draw(st.permutations([*pairs, (name, first), (name, second)]))
    with pytest.raises(InvalidRequestError):
        parse_params(polluted, max_length=1000)
