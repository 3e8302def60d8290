"""RFC 7662 §2: the introspection endpoint (POST, confidential client authentication)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.flows import introspect as introspect_flow
from authgate.web.client_auth import client_credentials
from authgate.web.forms import read_form
from authgate.web.responses import no_store_json
from authgate.web.state import AppState


async def introspect(request: Request[AppState]) -> Response:
    """RFC 7662 §2.2: a JSON object with `active` (SEC-93: never cached)."""
    form = await read_form(request)
    creds = client_credentials(request, form)
    body = await introspect_flow.introspect(
        request.state["ctx"], creds, form, now=datetime.now(UTC)
    )
    return no_store_json(body)
