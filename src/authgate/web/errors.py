"""The one place an error becomes a response (STYLE.md §4).

OAuthError → RFC 6749 §5.2 JSON with the class's status and headers (and, on front-channel
routes, a page or an error redirect once the authorization flow adds them). Anything else →
`server_error`/500 with a fixed description; the traceback is logged, nothing internal sent.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from authgate.core.errors import OAuthError, ServerError
from authgate.web.responses import NO_STORE, json_response

log = logging.getLogger(__name__)


def oauth_error_body(exc: OAuthError) -> dict[str, object]:
    body: dict[str, object] = {"error": exc.error}
    if exc.description:
        body["error_description"] = exc.description
    return body


def json_error(exc: OAuthError) -> Response:
    return json_response(oauth_error_body(exc), exc.status_code, {**NO_STORE, **exc.headers()})


async def oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)  # noqa: S101 - registered for OAuthError only
    if exc.status_code >= 500:
        log.warning("%s %s: %s (%s)", request.method, request.url.path, exc.error, exc.detail)
    else:
        log.info("%s %s: %s (%s)", request.method, request.url.path, exc.error, exc.detail)
    return json_error(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        return json_response(
            {"error": "invalid_request", "error_description": "method not allowed"},
            405,
            {**NO_STORE, **headers},
        )
    if exc.status_code == 404:
        return json_response({"error": "not_found"}, 404, NO_STORE)
    return json_response({"error": "invalid_request"}, exc.status_code, {**NO_STORE, **headers})


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_error(ServerError("the server could not complete the request"))
