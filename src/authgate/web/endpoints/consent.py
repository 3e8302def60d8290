"""The consent form of an interaction (INTERFACE.md: buttons `decision` = approve|deny).
Only the decision is read from the form; what is approved is the stored request (SEC-39).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.flows import consent as consent_flow
from authgate.web import session
from authgate.web.endpoints.interaction import checked_fields, respond, secret
from authgate.web.state import AppState


async def consent(request: Request[AppState]) -> Response:
    fields = await checked_fields(request, "decision")
    outcome = await consent_flow.decide(
        request.state["ctx"],
        str(request.path_params["interaction_id"]),
        secret(request),
        fields.get("decision"),
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    return respond(request, outcome)
