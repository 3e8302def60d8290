"""RFC 8707 resource indicators: the `resource` parameter, and how it relates to the grant.

§2: "The value of the resource parameter MUST be an absolute URI, as specified by Section 4.3
of [RFC3986], which MAY include a query component, but MUST NOT include a fragment
component." A token request may name several; authgate issues one token per resource server
(its `aud`), so it accepts one per request. §2.2: at the token endpoint (refresh included) the
requested resource must be one the grant covers, else `invalid_target`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from authgate.core.errors import InvalidTargetError

# RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# Not in a resource URI: controls, space, DEL, and "#" (a fragment).
_REFUSED = re.compile(r"[\x00-\x20\x7f#]")


def validate_resource_uri(uri: str) -> str:
    """RFC 8707 §2: an absolute URI without a fragment (and without spaces or controls)."""
    scheme, sep, rest = uri.partition(":")
    if not sep or not _SCHEME.fullmatch(scheme) or not rest:
        raise InvalidTargetError("resource must be an absolute URI")
    if _REFUSED.search(uri):
        raise InvalidTargetError("resource must be an absolute URI without a fragment")
    if scheme.lower() in {"http", "https"} and not rest.startswith("//"):
        raise InvalidTargetError("an http(s) resource needs a host")
    return uri


def single_resource(values: Sequence[str]) -> str | None:
    """The one resource a token request names, if any."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidTargetError("one resource per token request is supported")
    return validate_resource_uri(values[0])


def validate_refresh_resource(requested: str | None, granted: str | None) -> str | None:
    """RFC 8707 §2.2: the resource of a refreshed token. Without a `resource` parameter it
    is the grant's; with one it must be the grant's when the grant was bound to one.
    """
    if requested is None:
        return granted
    if granted is not None and requested != granted:
        raise InvalidTargetError("resource is not one this grant was issued for")
    return requested
