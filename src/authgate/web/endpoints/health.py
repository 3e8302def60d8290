"""Liveness (/healthz) and readiness (/readyz: database reachable, schema current)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authgate.core.errors import TemporarilyUnavailableError
from authgate.web.responses import json_response
from authgate.web.state import AppState


async def healthz(request: Request[AppState]) -> Response:
    return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: Request[AppState]) -> Response:
    store = request.state["ctx"].store
    await store.ping()
    if not await store.schema_is_current():
        raise TemporarilyUnavailableError("database schema is not current; run authgate db upgrade")
    return json_response({"status": "ready"}, headers={"Cache-Control": "no-store"})
