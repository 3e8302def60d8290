"""create_app(settings): the ASGI application — routes, lifespan, error handlers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from authgate.config import Settings
from authgate.core.errors import OAuthError
from authgate.flows import janitor
from authgate.flows.client_keys import ClientKeys
from authgate.flows.context import Context
from authgate.flows.keys import KeyCache, ensure_keys
from authgate.store.base import Store
from authgate.web import errors
from authgate.web.endpoints import (
    admin,
    apps,
    authorize,
    consent,
    device,
    device_pages,
    discovery,
    health,
    interaction,
    introspection,
    jwks,
    login,
    logout,
    revocation,
    token,
    userinfo,
)
from authgate.web.endpoints.metrics import endpoint as metrics_endpoint
from authgate.web.endpoints.openapi import openapi
from authgate.web.front_door import FrontDoor, hot_routes
from authgate.web.jwks_fetch import fetch_jwks
from authgate.web.metrics import Metrics
from authgate.web.observability import RequestObserver
from authgate.web.pages import Pages
from authgate.web.state import AppState

# The machine-to-machine endpoints served by the front door (web/front_door.py); their
# methods and paths come from the route table below.
HOT_ENDPOINTS = (
    token.token,
    introspection.introspect,
    revocation.revoke,
    device.device_authorization,
    discovery.metadata,
    jwks.jwks,
)


class AuthgateApp(Starlette):
    """Starlette with one observing layer outermost (request id, security headers, access
    log, metrics) and the front door for the hot routes inside it; every other request goes
    on to Starlette's own stack (ServerErrorMiddleware, ExceptionMiddleware, Router).
    """

    def __init__(self, *, observer: Callable[[ASGIApp], ASGIApp], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.observer = observer

    def build_middleware_stack(self) -> ASGIApp:
        hot = hot_routes(self.routes, HOT_ENDPOINTS)
        return self.observer(FrontDoor(super().build_middleware_stack(), hot))


async def _theme_css(request: Request[AppState]) -> Response:
    pages: Pages = request.state["templates"]
    return pages.theme_response(request)


def create_app(
    settings: Settings, open_store: Callable[[Settings], Store], *, migrate: bool = True
) -> AuthgateApp:
    """The authorization server as an ASGI app. At start it applies migrations (unless told
    not to) and makes sure signing keys exist; all state lives in the database.
    """

    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        store = open_store(settings)
        sweeper: asyncio.Task[None] | None = None
        try:
            if migrate:
                await store.upgrade()
            await ensure_keys(store, now=datetime.now(UTC))
            ctx = Context(
                settings=settings,
                store=store,
                keys=KeyCache(store, ttl=settings.key_cache_ttl),
                client_keys=ClientKeys(fetch_jwks),
                metrics=metrics,
            )
            if settings.janitor_interval:
                sweeper = asyncio.create_task(
                    janitor.run_periodically(store, settings, on_purged=metrics.rows_purged)
                )
            yield AppState(settings=settings, ctx=ctx, paths=paths, templates=templates)
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await store.close()

    routes: list[BaseRoute] = [
        Route("/.well-known/openid-configuration", discovery.metadata, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", discovery.metadata, methods=["GET"]),
        Route("/jwks", jwks.jwks, methods=["GET"]),
        Route("/token", token.token, methods=["POST"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        # authorization code flow (issue 3)
        Route("/authorize", authorize.authorize, methods=["GET", "POST"]),
        Route("/interaction/{interaction_id}", interaction.show, methods=["GET"]),
        Route("/interaction/{interaction_id}/login", login.login, methods=["POST"]),
        Route("/interaction/{interaction_id}/select", interaction.select_account, methods=["POST"]),
        Route("/interaction/{interaction_id}/consent", consent.consent, methods=["POST"]),
        Route("/userinfo", userinfo.userinfo, methods=["GET", "POST"]),
        Route("/logout", logout.logout, methods=["GET", "POST"]),
        Mount(
            "/static",
            routes=[
                # the branding colours (config primary_color), rendered: no inline style
                Route("/theme.css", _theme_css, methods=["GET"]),
                Mount("", StaticFiles(packages=[("authgate.ui", "static")])),
            ],
            name="static",
        ),
        # revocation and introspection (issue 4)
        Route("/revoke", revocation.revoke, methods=["POST"]),
        Route("/introspect", introspection.introspect, methods=["POST"]),
        # device authorization grant (issue 6)
        Route("/device_authorization", device.device_authorization, methods=["POST"]),
        Route("/device/qr", device.qr, methods=["GET"]),
        Route("/device", device_pages.entry, methods=["GET"]),
        Route("/device", device_pages.submit_code, methods=["POST"]),
        Route("/device/{interaction_id}", device_pages.step, methods=["GET"]),
        Route("/device/{interaction_id}/login", device_pages.login, methods=["POST"]),
        Route("/device/{interaction_id}/consent", device_pages.consent, methods=["POST"]),
        Route("/device/{interaction_id}/another", device_pages.another_account, methods=["POST"]),
        # connected apps (issue 5)
        Route("/apps", apps.page, methods=["GET"]),
        Route("/apps/login", apps.login, methods=["POST"]),
        Route("/apps/{grant_id}/revoke", apps.revoke, methods=["POST"]),
        *admin.routes,
    ]
    paths = frozenset(r.path for r in routes if isinstance(r, Route))
    templates = Pages(settings)
    return AuthgateApp(
        observer=lambda app: RequestObserver(
            app, metrics=metrics, log_requests=settings.access_log
        ),
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            OAuthError: errors.oauth_error,
            HTTPException: errors.http_error,
            Exception: errors.server_error,
        },
    )
