"""RFC 6749 §3.1 / OIDC Core §3.1.2.1: the authorization endpoint, GET and POST (form
serialisation). No CORS here (RFC 9700 §2.6): no Access-Control-* header is ever sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.flows import authorize as authorize_flow
from authgate.flows.interaction import Started
from authgate.web import session
from authgate.web.forms import read_form, read_query
from authgate.web.pages import locale_of
from authgate.web.responses import NO_STORE
from authgate.web.state import AppState


async def authorize(request: Request[AppState]) -> Response:
    params = await read_form(request) if request.method == "POST" else read_query(request)
    settings = request.state["settings"]
    result = await authorize_flow.authorize(
        request.state["ctx"],
        params,
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    if isinstance(result, Started):
        url = settings.issuer + "/interaction/" + result.interaction_id
        response = RedirectResponse(url, status_code=303, headers=NO_STORE)
        session.set_interaction(response, settings, result.interaction_id, result.secret)
        return response
    locale = locale_of(request, (params.get("ui_locales") or "").split())
    return request.state["templates"].deliver(
        request, result.redirect_uri, result.response_mode, result.params, locale=locale
    )
