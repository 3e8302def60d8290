"""core/resource_indicators.py: RFC 8707 §2 syntax and §2.2 at refresh."""

from __future__ import annotations

import pytest

from authgate.core.errors import InvalidTargetError
from authgate.core.resource_indicators import (
    single_resource,
    validate_refresh_resource,
    validate_resource_uri,
)


@pytest.mark.parametrize(
    "uri", ["https://api.example.test", "https://api.test/v1?tenant=a", "urn:example:api"]
)
def test_absolute_uris_are_accepted(uri: str) -> None:
    assert validate_resource_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "api.example.test",
        "/relative",
        "1https://x.test",
        "https:",
        "https://api.test/#frag",
        "https://api.test/ x",
        "https:no-host",
        "HTTPS:no-host",
        "https://api.test/\x7f",
        "https://api.test/\x00",
        "https://api.test/\tx",
        "urn:example:#api",
    ],
)
def test_bad_uris_are_invalid_target(uri: str) -> None:
    with pytest.raises(InvalidTargetError):
        validate_resource_uri(uri)


def test_one_resource_per_request() -> None:
    assert single_resource(()) is None
    assert single_resource(("https://a.test",)) == "https://a.test"
    with pytest.raises(InvalidTargetError, match="one resource"):
        single_resource(("https://a.test", "https://b.test"))


def test_refresh_keeps_to_the_granted_resource() -> None:
    assert validate_refresh_resource(None, None) is None
    assert validate_refresh_resource(None, "https://a.test") == "https://a.test"
    assert validate_refresh_resource("https://a.test", None) == "https://a.test"
    assert validate_refresh_resource("https://a.test", "https://a.test") == "https://a.test"
    with pytest.raises(InvalidTargetError):
        validate_refresh_resource("https://b.test", "https://a.test")
