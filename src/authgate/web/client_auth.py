"""Client credentials as HTTP carries them: the Authorization header or the form body.

RFC 6749 §2.3.1: in HTTP Basic the client_id and secret are each form-urlencoded before
base64. Credentials in the query string are never read (SEC-47).
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse

from starlette.requests import Request

from authgate.core.client_auth import ClientCredentials, parse_credentials
from authgate.core.errors import InvalidClientError
from authgate.core.params import Params
from authgate.web.forms import raw_header
from authgate.web.state import AppState


def _basic(request: Request[AppState]) -> tuple[str, str] | None:
    header = raw_header(request, b"authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClientError("use HTTP Basic or form parameters for client authentication")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise InvalidClientError("malformed Basic credentials")
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)


def client_credentials(request: Request[AppState], form: Params) -> ClientCredentials:
    """What the request presents to authenticate its client (not yet checked)."""
    return parse_credentials(
        basic=_basic(request),
        client_id=form.get("client_id"),
        client_secret=form.get("client_secret"),
        assertion_type=form.get("client_assertion_type"),
        assertion=form.get("client_assertion"),
    )
