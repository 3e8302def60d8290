"""core/redirect_uri.py: registration rules and request-time matching (SEC-01..SEC-03)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from authgate.core.errors import InvalidRedirectUriError
from authgate.core.redirect_uri import (
    find_match,
    is_loopback_ip_uri,
    matches,
    validate_registered,
)

C1 = "https://c1.test/cb"
P1 = "http://127.0.0.1/cb"

# SECURITY.md SEC-01: each of these must not match C1's registered URI.
NEAR_MISSES = [
    "https://c1.test/cb/extra",
    "https://c1.test/cb/",
    "https://c1.test/cb/../cb",
    "https://c1.test/cb?x=1",
    "https://c1.test/cb#f",
    "HTTPS://C1.TEST/cb",
    "https://c1.test:443/cb",
    "https://c1.test.evil.test/cb",
    "https://c1.test@evil.test/cb",
    "https://c1.test/%63b",
    "https://c1.test/cb%0d%0aLocation:x",
    "https://c1.test/CB",
    "http://c1.test/cb",
    "https://c1.test/cb ",
    "",
]


@pytest.mark.spec("SEC-01")
def test_exact_uri_matches() -> None:
    assert matches(C1, C1)
    assert find_match(C1, (C1,)) == C1


@pytest.mark.spec("SEC-01")
@pytest.mark.spec("RFC 9700 §4.1.3")
@pytest.mark.parametrize("requested", NEAR_MISSES)
def test_anything_but_the_exact_string_is_refused(requested: str) -> None:
    assert not matches(requested, C1)
    assert find_match(requested, (C1,)) is None


@pytest.mark.spec("SEC-02")
def test_query_is_part_of_the_exact_match() -> None:
    registered = "https://c1.test/cb?x=1"
    assert matches("https://c1.test/cb?x=1", registered)
    for requested in ("https://c1.test/cb?x=2", "https://c1.test/cb?x=1&y=2", C1):
        assert not matches(requested, registered), requested


@pytest.mark.spec("SEC-03")
@pytest.mark.spec("RFC 8252 §7.3")
def test_loopback_ip_may_vary_the_port() -> None:
    assert matches("http://127.0.0.1:53123/cb", P1)
    assert matches("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb")
    assert matches("http://127.0.0.1:9090/cb", "http://127.0.0.1:8080/cb")
    assert matches("http://[::1]:53123/cb", "http://[::1]/cb")
    assert matches("http://127.0.0.1:53123", "http://127.0.0.1")
    assert matches("http://127.0.0.1:1/cb?x=1", "http://127.0.0.1/cb?x=1")
    assert find_match("http://127.0.0.1:53123/cb", (C1, P1)) == P1


@pytest.mark.spec("SEC-03")
@pytest.mark.spec("RFC 8252 §7.3")
@pytest.mark.parametrize(
    "requested",
    [
        "http://127.0.0.1:53123/cb2",
        "http://127.0.0.1:53123/",
        "http://127.0.0.1:53123",
        "http://127.0.0.1:53123/cb?x=1",
        "http://127.0.0.1:53123/cb#f",
        "http://[::1]:53123/cb",
        "http://localhost:53123/cb",
        "http://127.0.0.2:53123/cb",
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:65536/cb",
        "http://127.0.0.1:99999/cb",
        "http://127.0.0.1:123456/cb",
        "http://127.0.0.1:53123@evil.test/cb",
        "http://127.0.0.1@evil.test/cb",
        "http://127.0.0.1.evil.test:53123/cb",
        "https://127.0.0.1:53123/cb",
    ],
)
def test_loopback_port_rule_changes_only_the_port(requested: str) -> None:
    assert not matches(requested, P1)


@pytest.mark.spec("SEC-03")
def test_highest_port_is_accepted() -> None:
    assert matches("http://127.0.0.1:65535/cb", P1)


@pytest.mark.spec("RFC 9700 §2.1")
def test_localhost_name_is_matched_exactly() -> None:
    registered = "http://localhost/cb"
    assert matches(registered, registered)
    assert not matches("http://localhost:53123/cb", registered)


@pytest.mark.spec("SEC-03")
def test_a_loopback_request_never_matches_a_non_loopback_registration() -> None:
    assert not matches("http://127.0.0.1:53123/cb", C1)
    assert not matches(C1, P1)


def test_find_match_returns_the_first_registered_match() -> None:
    registered = ("http://127.0.0.1:1000/cb", "http://127.0.0.1:2000/cb")
    assert find_match("http://127.0.0.1:3000/cb", registered) == registered[0]
    assert find_match("http://127.0.0.1:2000/cb", registered) == registered[0]
    assert find_match(C1, ()) is None


def test_is_loopback_ip_uri() -> None:
    assert is_loopback_ip_uri("http://127.0.0.1:8000/cb")
    assert is_loopback_ip_uri("http://[::1]")
    assert not is_loopback_ip_uri("http://localhost/cb")
    assert not is_loopback_ip_uri("https://127.0.0.1/cb")


# Registration (validate_registered)


@pytest.mark.parametrize(
    "uri",
    [
        C1,
        "https://c1.test/cb?x=1",
        "https://c1.test:8443/cb",
        "https://C1.test/cb",
        P1,
        "http://127.0.0.1:8080/cb",
        "http://[::1]/cb",
        "http://localhost/cb",
        "HTTP://127.0.0.1/cb",
        "com.example.app:/cb",
        "com.example.app:/oauth2redirect/example-provider",
        "Com.Example.App:/cb",
    ],
)
def test_valid_registrations_are_returned_unchanged(uri: str) -> None:
    assert validate_registered(uri) == uri


@pytest.mark.spec("SEC-03")
@pytest.mark.spec("RFC 9700 §2.6")
@pytest.mark.parametrize(
    "uri", ["http://c9.test/cb", "http://127.0.0.2/cb", "http://10.0.0.1/cb", "http:///cb"]
)
def test_http_is_refused_off_loopback(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="only on loopback"):
        validate_registered(uri)


@pytest.mark.spec("RFC 6749 §3.1.2")
@pytest.mark.parametrize(
    "uri", ["https://c1.test/cb#f", "https://c1.test/cb#", "http://127.0.0.1/cb#x"]
)
def test_fragment_is_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="fragment"):
        validate_registered(uri)


@pytest.mark.spec("SEC-01")
@pytest.mark.parametrize(
    "uri",
    [
        "https://user@c1.test/cb",
        "https://user:pw@c1.test/cb",
        "https://:pw@c1.test/cb",
        "http://user@127.0.0.1/cb",
        "http://u:p@localhost/cb",
    ],
)
def test_userinfo_is_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="user info"):
        validate_registered(uri)


@pytest.mark.parametrize("uri", ["https:///cb", "https:/cb", "https:cb"])
def test_https_needs_a_host(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="needs a host"):
        validate_registered(uri)


@pytest.mark.parametrize("uri", ["/cb", "cb", "//c1.test/cb"])
def test_relative_uri_is_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="absolute"):
        validate_registered(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        " https://c1.test/cb",
        "https://c1.test/cb ",
        "https://c1.test/c b",
        "https://c1.test/cb\r\nLocation:x",
        "https://c1.test/\x00",
        "https://c1.test/\x7f",
    ],
)
def test_spaces_and_control_characters_are_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="without spaces"):
        validate_registered(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "vbscript:x",
        "about:blank",
        "blob:https://c1.test/x",
    ],
)
def test_dangerous_schemes_are_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="not allowed"):
        validate_registered(uri)


@pytest.mark.spec("RFC 8252 §7.1")
@pytest.mark.parametrize("uri", ["myapp:/cb", "myapp://cb", "ftp://c1.test/cb", "x-y:/cb"])
def test_private_use_scheme_must_be_a_reverse_domain_name(uri: str) -> None:
    with pytest.raises(InvalidRedirectUriError, match="reverse domain name"):
        validate_registered(uri)


# Relations (STYLE.md §7)

path = st.text(alphabet="abcxyz/-_.~%09?=&", max_size=16)
hosts = st.sampled_from(["c1.test", "app.example.com", "EXAMPLE.org", "a.b.c.test"])


@st.composite
def https_uris(draw: st.DrawFn) -> str:
    port = draw(st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")))
    return f"https://{draw(hosts)}{port}/{draw(path)}"


@pytest.mark.spec("SEC-01")
@given(st.text())
def test_any_uri_matches_itself(uri: str) -> None:
    assert matches(uri, uri)
    assert find_match(uri, (uri,)) == uri


@pytest.mark.spec("SEC-01")
@given(https_uris(), st.one_of(st.text(), https_uris()))
def test_a_non_loopback_uri_matches_only_itself(registered: str, requested: str) -> None:
    assert matches(requested, registered) is (requested == registered)


@pytest.mark.spec("SEC-01")
@given(https_uris(), st.text(min_size=1), st.integers(0, 40))
def test_any_edit_of_a_non_loopback_uri_is_refused(registered: str, edit: str, at: int) -> None:
    at = min(at, len(registered))
    requested = registered[:at] + edit + registered[at:]
    assert not matches(requested, registered)


@pytest.mark.spec("SEC-03")
@given(
    st.sampled_from(["127.0.0.1", "[::1]"]),
    st.one_of(st.none(), st.integers(1, 65535)),
    st.integers(1, 65535),
    path,
)
def test_a_loopback_ip_uri_matches_on_any_port(
    host: str, registered_port: int | None, port: int, tail: str
) -> None:
    registered = f"http://{host}{'' if registered_port is None else f':{registered_port}'}/{tail}"
    assert matches(f"http://{host}:{port}/{tail}", registered)
    assert not matches(f"http://{host}:{port}/{tail}x", registered)


@pytest.mark.spec("RFC 6749 §5.2")
@pytest.mark.parametrize(
    "uri",
    [
        "http://c9.test/it's",
        'http://c9.test/"quoted"',
        "https://c1.test/cb#caf\u00e9",
        "https://\u00fc.test/cb#f",
        "myapp:/caf\u00e9",
    ],
)
def test_refusal_of_any_uri_is_a_valid_error_description(uri: str) -> None:
    # Regression: the description quoted the URI with repr(), so a `"`, `\` or non-ASCII
    # character raised ValueError (a 500) instead of invalid_redirect_uri.
    with pytest.raises(InvalidRedirectUriError) as caught:
        validate_registered(uri)
    assert caught.value.description is not None


@given(st.text())
def test_validate_registered_returns_the_uri_or_refuses_it(uri: str) -> None:
    try:
        result = validate_registered(uri)
    except InvalidRedirectUriError:
        return  # constructing it did not raise: its description is in the charset
    assert result == uri


@pytest.mark.spec("SEC-01")
@pytest.mark.parametrize(
    ("requested", "registered"),
    [
        ("http://127.0.0.1:5\n", "http://127.0.0.1"),
        ("http://127.0.0.1:5\n", "http://127.0.0.1:7"),
        ("http://[::1]:5\n", "http://[::1]"),
        ("http://127.0.0.1:\u0663/cb", "http://127.0.0.1/cb"),
        ("http://127.0.0.1:\uff18\uff10/cb", "http://127.0.0.1/cb"),
    ],
)
def test_trailing_newline_or_non_ascii_port_never_matches(requested: str, registered: str) -> None:
    # Regression: the loopback pattern ended in `$`, which also matches before a final
    # newline, and its `\d` took any Unicode digit as a port digit.
    assert not matches(requested, registered)
    assert not is_loopback_ip_uri(requested)
