"""RFC 7517 §5: the public JWK Set, including retired keys still within their tokens' life."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.flows.keys import JWKS_MAX_AGE
from authgate.web.state import AppState

_HEADERS = {"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"}


async def jwks(request: Request[AppState]) -> Response:
    ring = await request.state["ctx"].keys.ring(datetime.now(UTC))
    return Response(ring.jwks_json(), media_type="application/json", headers=_HEADERS)
