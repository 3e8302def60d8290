"""RFC 7009 §2: the revocation endpoint (POST, client authentication, 200 with no body)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.flows import revoke as revoke_flow
from authgate.web.client_auth import client_credentials
from authgate.web.forms import read_form
from authgate.web.responses import NO_STORE
from authgate.web.state import AppState


async def revoke(request: Request[AppState]) -> Response:
    """RFC 7009 §2.2: 200 whether the token was revoked or was already invalid."""
    form = await read_form(request)
    creds = client_credentials(request, form)
    await revoke_flow.revoke_request(request.state["ctx"], creds, form, now=datetime.now(UTC))
    return Response(status_code=200, headers=NO_STORE)
