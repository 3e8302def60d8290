"""RFC 6749 §3.2: the token endpoint (POST only; §3.2 "MUST use the HTTP POST method")."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.flows import token as token_flow
from authgate.web.client_auth import client_credentials
from authgate.web.forms import read_form
from authgate.web.responses import no_store_json
from authgate.web.state import AppState


async def token(request: Request[AppState]) -> Response:
    form = await read_form(request)
    creds = client_credentials(request, form)
    body = await token_flow.token(request.state["ctx"], creds, form, now=datetime.now(UTC))
    return no_store_json(body)
