"""OpenID Connect RP-Initiated Logout 1.0: the end_session_endpoint, GET and POST.

A request from a client (GET, or a POST without our CSRF field) shows a confirmation page
when the browser is signed in; confirming (POST with the CSRF token bound to the session
cookie) ends the browser's sessions. Then the browser goes to the registered
`post_logout_redirect_uri` with `state` (303), or sees a "signed out" page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.core.params import from_mapping
from authgate.flows import logout as logout_flow
from authgate.flows.logout import LogoutRequest
from authgate.web import csrf, session
from authgate.web.forms import read_query
from authgate.web.page_form import read_fields
from authgate.web.pages import locale_of
from authgate.web.responses import NO_STORE, authorization_uri
from authgate.web.state import AppState

FIELDS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


async def logout(request: Request[AppState]) -> Response:
    if request.method == "POST":
        fields = await read_fields(request, {csrf.FIELD, *FIELDS})
    else:
        fields = {k: v for k in FIELDS if (v := read_query(request).get(k)) is not None}
    params = from_mapping({k: v for k, v in fields.items() if k in FIELDS})
    ctx, now = request.state["ctx"], datetime.now(UTC)
    checked = await logout_flow.validate(ctx, params, now=now)
    secrets = session.session_secrets(request)
    if csrf.FIELD not in fields:
        if await logout_flow.signed_in(ctx, secrets, now=now):
            return _confirm(request, checked, params.values)
        return _done(request, checked, params.get("ui_locales"))
    raw = session.raw_session(request)
    if raw is not None:  # nothing to end without a session cookie
        csrf.check(request, ctx.issuer, fields.get(csrf.FIELD), raw)
        await logout_flow.end_session(ctx, secrets, now=now)
    response = _done(request, checked, params.get("ui_locales"))
    session.clear_session(response, request.state["settings"])
    return response


def _confirm(
    request: Request[AppState], checked: LogoutRequest, values: Mapping[str, str]
) -> Response:
    fields = [(k, v) for k, v in values.items() if k in FIELDS]
    raw = session.raw_session(request) or ""
    return request.state["templates"].render(
        "logout.html",
        locale=locale_of(request, dict(fields).get("ui_locales", "").split()),
        action=session.base_path(request.state["settings"]) + "/logout",
        csrf_token=csrf.token_for(raw),
        fields=fields,
        client_name=checked.client.name if checked.client else None,
        form_targets=[checked.redirect] if checked.redirect else [],
    )


def _done(request: Request[AppState], checked: LogoutRequest, ui_locales: str | None) -> Response:
    if checked.redirect is not None:
        params = {"state": checked.state} if checked.state else {}
        uri = (
            authorization_uri(checked.redirect, params, fragment=False)
            if params
            else checked.redirect
        )
        return RedirectResponse(uri, status_code=303, headers=NO_STORE)
    return request.state["templates"].render(
        "logout.html", locale=locale_of(request, (ui_locales or "").split()), done=True
    )
