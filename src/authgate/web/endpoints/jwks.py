"""RFC 7517 §5: the public JWK Set, including retired keys still within their tokens' life."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.flows.keys import JWKS_MAX_AGE
from authgate.web.responses import json_response
from authgate.web.state import AppState


async def jwks(request: Request[AppState]) -> Response:
    ring = await request.state["ctx"].keys.ring(datetime.now(UTC))
    return json_response(ring.jwks(), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})
