"""The front door: the hot machine-to-machine routes (token, introspection, revocation,
device authorization, discovery, JWKS) served without Starlette's Router,
ExceptionMiddleware and ServerErrorMiddleware, which cost about a tenth of a token request.

An exact (method, path) match calls the endpoint with a Starlette `Request` and maps its
exceptions as the app's handlers would (web/errors.py): OAuthError → `oauth_error`,
HTTPException → `http_error`, anything else → `server_error` (which logs the traceback) and
then re-raised, as ServerErrorMiddleware does, so that the server logs it too. Everything
else (other paths and methods, HEAD, 405 answers) goes to the Starlette app unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.core.errors import OAuthError
from authgate.web import errors

Endpoint = Callable[[Request[Any]], Awaitable[Response]]


def hot_routes(
    routes: Iterable[BaseRoute], endpoints: Iterable[Endpoint]
) -> dict[tuple[str, str], Route]:
    """(method, path) → route for each plain route of the table whose endpoint is one of
    `endpoints`; HEAD, which Starlette adds to GET routes, stays with the app.
    """
    hot = set(endpoints)
    table: dict[tuple[str, str], Route] = {}
    for route in routes:
        if isinstance(route, Route) and route.endpoint in hot and not route.param_convertors:
            for method in route.methods or ():
                if method != "HEAD":
                    table[(method, route.path)] = route
    return table


class FrontDoor:
    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], Route]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and not scope.get("root_path"):
            route = self.routes.get((scope["method"], scope["path"]))
        if route is None:
            await self.app(scope, receive, send)
            return
        # What the Router would add: the route (the metrics' label) and its endpoint.
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        request: Request[Any] = Request(scope, receive, send)
        try:
            response = await _respond(route.endpoint, request)
        except Exception as exc:
            await (await errors.server_error(request, exc))(scope, receive, send)
            raise
        try:
            await response(scope, receive, send)
        except Exception as exc:  # the response has started: log only, as Starlette does
            errors.log_unhandled(request, exc)
            raise


async def _respond(endpoint: Endpoint, request: Request[Any]) -> Response:
    """The endpoint's response, or the app's handler's for an OAuthError or HTTPException."""
    try:
        return await endpoint(request)
    except OAuthError as exc:
        return await errors.oauth_error(request, exc)
    except HTTPException as exc:
        return await errors.http_error(request, exc)
