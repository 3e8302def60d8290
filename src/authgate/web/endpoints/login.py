"""The login form of an interaction (INTERFACE.md: inputs `username` and `password`)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.flows import login as login_flow
from authgate.web import session
from authgate.web.endpoints.interaction import checked_fields, respond, secret
from authgate.web.state import AppState


async def login(request: Request[AppState]) -> Response:
    fields = await checked_fields(request, "username", "password")
    outcome = await login_flow.login(
        request.state["ctx"],
        str(request.path_params["interaction_id"]),
        secret(request),
        username=fields.get("username", ""),
        password=fields.get("password", ""),
        ip=request.client.host if request.client else None,
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    return respond(request, outcome)
