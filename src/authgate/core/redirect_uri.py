"""Redirection URIs: registration rules and the comparison at request time.

RFC 9700 §2.1: "authorization servers MUST utilize exact string matching except for port
numbers in `localhost` redirection URIs of native apps". RFC 8252 §7.3: for loopback IP
redirect URIs the server "MUST allow any port to be specified at the time of the request".
RFC 6749 §3.1.2: the URI is absolute and has no fragment. RFC 9700 §2.6: no plain http
except on loopback.
"""

from __future__ import annotations

import re
import urllib.parse

from authgate.core.errors import InvalidRedirectUriError, to_error_charset

_LOOPBACK_IP = re.compile(r"^http://(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(/[^#]*)?\Z", re.ASCII)
# RFC 8252 §7.1: private-use URI schemes are reverse domain names, e.g. com.example.app:/cb
_PRIVATE_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+$")
_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob"})
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "[::1]", "::1", "localhost"})


def validate_registered(uri: str) -> str:
    """Check a redirect URI an operator registers; raises InvalidRedirectUriError."""
    if not uri or uri != uri.strip() or any(ord(c) < 0x21 or ord(c) == 0x7F for c in uri):
        raise InvalidRedirectUriError(f"redirect URI must be a URI without spaces: {_shown(uri)}")
    parts = urllib.parse.urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme:
        raise InvalidRedirectUriError(f"redirect URI must be absolute: {_shown(uri)}")
    if "#" in uri:
        raise InvalidRedirectUriError(f"redirect URI must not have a fragment: {_shown(uri)}")
    if scheme in _FORBIDDEN_SCHEMES:
        raise InvalidRedirectUriError(f"redirect URI scheme {scheme!r} is not allowed")
    if scheme == "https":
        if not parts.hostname:
            raise InvalidRedirectUriError(f"redirect URI needs a host: {_shown(uri)}")
        if parts.username is not None or parts.password is not None:
            raise InvalidRedirectUriError(f"redirect URI must not carry user info: {_shown(uri)}")
        return uri
    if scheme == "http":
        host = (parts.hostname or "").lower()
        if parts.username is not None or parts.password is not None:
            raise InvalidRedirectUriError(f"redirect URI must not carry user info: {_shown(uri)}")
        if host not in _LOOPBACK_NAMES:
            raise InvalidRedirectUriError(
                f"http redirect URIs are allowed only on loopback (RFC 8252 section 7.3); "
                f"use https: {_shown(uri)}"
            )
        return uri
    if not _PRIVATE_SCHEME.match(scheme):
        raise InvalidRedirectUriError(
            f"a native app's private-use scheme must be a reverse domain name such as "
            f"com.example.app (RFC 8252 section 7.1): {_shown(uri)}"
        )
    return uri


def _shown(uri: str) -> str:
    """`uri` quoted for an error_description: RFC 6749 §5.2 forbids `"`, `\\` and non-ASCII."""
    return to_error_charset(repr(uri))


def is_loopback_ip_uri(uri: str) -> bool:
    return _LOOPBACK_IP.match(uri) is not None


def matches(requested: str, registered: str) -> bool:
    """Exact string match, except the port of a loopback IP redirect URI (RFC 8252 §7.3)."""
    if requested == registered:
        return True
    req = _LOOPBACK_IP.match(requested)
    reg = _LOOPBACK_IP.match(registered)
    if req is None or reg is None:
        return False
    port = req.group(2)
    if port is not None and not 0 < int(port) < 65536:
        return False
    return req.group(1) == reg.group(1) and (req.group(3) or "") == (reg.group(3) or "")


def find_match(requested: str, registered: tuple[str, ...]) -> str | None:
    """The registered URI that `requested` matches, if any."""
    for candidate in registered:
        if matches(requested, candidate):
            return candidate
    return None
