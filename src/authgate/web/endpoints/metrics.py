"""GET /metrics: Prometheus text exposition format (issue 8 "operations built in").

Access: with `metrics_token` set, only `Authorization: Bearer <metrics_token>`; without
it, open when the issuer is a loopback address (a laptop, a test) and 404 otherwise, so a
public server never shows its metrics by accident.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from authgate.flows import janitor
from authgate.web.metrics import Metrics
from authgate.web.state import AppState

Endpoint = Callable[[Request[AppState]], Awaitable[Response]]


def _authorize(request: Request[AppState]) -> None:
    settings = request.state["settings"]
    if settings.metrics_token is None:
        if settings.issuer_is_loopback:
            return
        raise HTTPException(404)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise HTTPException(401, headers={"WWW-Authenticate": 'Bearer realm="authgate-metrics"'})


def endpoint(metrics: Metrics) -> Endpoint:
    """The /metrics endpoint of the app that owns `metrics`."""

    async def scrape(request: Request[AppState]) -> Response:
        _authorize(request)
        store = request.state["ctx"].store
        body = await metrics.exposition(lambda: janitor.count_rows(store))
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    return scrape
