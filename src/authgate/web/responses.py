"""Response helpers: JSON bodies and the no-store headers RFC 6749 §5.1 requires."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping

from starlette.responses import Response

# RFC 6749 §5.1: "Cache-Control: no-store" and "Pragma: no-cache" on token responses.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def json_response(
    body: Mapping[str, object],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    content = _ENCODER.encode(body).encode()
    return Response(
        content, status_code=status_code, headers=dict(headers or {}), media_type="application/json"
    )


class _NoStoreJson(Response):
    """`json_response(body, status_code, NO_STORE)` with its header list built directly:
    the same headers in the same order, without the generic lower-and-encode pass.
    """

    media_type = "application/json"

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        self.raw_headers = [
            *_NO_STORE_RAW,
            (b"content-length", str(len(self.body)).encode()),
            (b"content-type", b"application/json"),
        ]


_NO_STORE_RAW = tuple((name.lower().encode(), value.encode()) for name, value in NO_STORE.items())


def no_store_json(body: Mapping[str, object], status_code: int = 200) -> Response:
    return _NoStoreJson(_ENCODER.encode(body).encode(), status_code)


def authorization_uri(redirect_uri: str, params: Mapping[str, str], *, fragment: bool) -> str:
    """RFC 6749 §4.1.2: the redirect URI with the response parameters added to its query
    (keeping the query it already has, §3.1.2), or put in the fragment (response_mode
    `fragment`).
    """
    encoded = urllib.parse.urlencode(list(params.items()))
    if fragment:
        return f"{redirect_uri}#{encoded}"
    if "?" not in redirect_uri:
        return f"{redirect_uri}?{encoded}"
    separator = "" if redirect_uri.endswith(("?", "&")) else "&"
    return f"{redirect_uri}{separator}{encoded}"
