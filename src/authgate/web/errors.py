"""The one place an error becomes a response (STYLE.md §4).

OAuthError with `redirect` set (client and redirect_uri verified) → the error goes back to
the client in its response mode with `error`, `error_description`, `state` and `iss`
(RFC 6749 §4.1.2.1, RFC 9207 §2). Other OAuthErrors on a front-channel route (pages a
person sees) → a localised HTML error page with the error's status and never a Location
(RFC 6749 §4.1.2.1). Everywhere else → RFC 6749 §5.2 JSON with the class's status and
headers. Anything else → `server_error`/500 with a fixed description; the traceback is
logged, nothing internal sent.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from authgate.core.errors import OAuthError, ServerError
from authgate.web.pages import Pages, locale_of
from authgate.web.responses import NO_STORE, json_response

log = logging.getLogger(__name__)

# Paths a browser shows to a person (issue 3: authorization, interaction pages, logout).
FRONT_CHANNEL = ("/authorize", "/interaction/", "/logout", "/device")


def is_front_channel(request: Request) -> bool:
    path = request.url.path
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in FRONT_CHANNEL)


def redirect_error(request: Request, exc: OAuthError) -> Response:
    """RFC 6749 §4.1.2.1 error response to the verified redirect URI, RFC 9207 `iss`."""
    target = exc.redirect
    assert target is not None  # noqa: S101
    params = {"error": exc.error}
    if exc.description:
        params["error_description"] = exc.description
    if target.state is not None:
        params["state"] = target.state
    params["iss"] = request.state["settings"].issuer
    pages: Pages = request.state["templates"]
    locale = locale_of(request, request.query_params.get("ui_locales", "").split())
    return pages.deliver(request, target.redirect_uri, target.response_mode, params, locale=locale)


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
    if exc.redirect is not None:
        return redirect_error(request, exc)
    if is_front_channel(request):
        pages: Pages = request.state["templates"]
        return pages.error_page(request, exc)
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


def log_unhandled(request: Request, exc: Exception) -> None:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)


async def server_error(request: Request, exc: Exception) -> Response:
    log_unhandled(request, exc)
    return json_error(ServerError("the server could not complete the request"))
