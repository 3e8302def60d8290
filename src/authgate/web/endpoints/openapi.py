"""GET /openapi.json: the OpenAPI 3.1 description of this server (web/openapi/)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authgate.web import openapi as description
from authgate.web.responses import json_response
from authgate.web.state import AppState


async def openapi(request: Request[AppState]) -> Response:
    document = description.document(request.state["settings"].issuer)
    return json_response(document, headers={"Cache-Control": "public, max-age=300"})
