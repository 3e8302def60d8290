"""RFC 6749 §3.3: scope syntax and set operations; OIDC Core §5.4 and §11 scope values."""

from __future__ import annotations

import re
from collections.abc import Iterable

from authgate.core.errors import InvalidScopeError

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"
# OIDC Core §5.4: scopes that request sets of claims.
CLAIM_SCOPES = ("profile", "email", "address", "phone")
OIDC_SCOPES = frozenset({OPENID, OFFLINE_ACCESS, *CLAIM_SCOPES})


def is_scope_token(value: str) -> bool:
    return _SCOPE_TOKEN.fullmatch(value) is not None


def parse_scope(value: str | None) -> frozenset[str]:
    """A `scope` parameter to a set of scope tokens; raises InvalidScopeError on bad syntax.

    RFC 6749 §3.3: "a list of space-delimited, case-sensitive strings".
    """
    if value is None:
        return frozenset()
    tokens = value.split(" ")
    bad = [t for t in tokens if t and not is_scope_token(t)]
    if bad or (value and not any(tokens)):
        raise InvalidScopeError("scope must be space-delimited scope tokens (RFC 6749 section 3.3)")
    return frozenset(t for t in tokens if t)


def format_scope(scope: Iterable[str]) -> str:
    """A set of scope tokens as a `scope` value, in a stable order."""
    return " ".join(sorted(scope))


def validate_scope(requested: frozenset[str], allowed: frozenset[str]) -> frozenset[str]:
    """RFC 6749 §3.3: refuse scope values the client may not request."""
    extra = requested - allowed
    if extra:
        raise InvalidScopeError(f"scope not allowed for this client: {format_scope(extra)}")
    return requested


def validate_narrowing(requested: frozenset[str], granted: frozenset[str]) -> frozenset[str]:
    """RFC 6749 §6: a refresh or token request may narrow the granted scope, never widen it."""
    extra = requested - granted
    if extra:
        raise InvalidScopeError(f"scope exceeds what was granted: {format_scope(extra)}")
    return requested
