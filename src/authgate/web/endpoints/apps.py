"""The connected apps page (issue 5): GET /apps lists the apps holding offline access to
the signed-in account, each with a revoke button; without a session it shows a sign-in
form (INTERFACE.md: inputs `username` and `password`) posting to /apps/login.

Every form carries a CSRF token derived from the browser's apps cookie (random, HttpOnly,
SameSite=Lax, scoped to /apps; SEC-37), and every POST answers 303 (SEC-41). A revoke of a
grant that is not the signed-in user's gets the same 404 page as an unknown one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.core import authorization_details
from authgate.core.errors import NotFoundError, OAuthError, ServerError
from authgate.core.scopes import OFFLINE_ACCESS
from authgate.core.tokens import new_token
from authgate.flows import connected_apps
from authgate.flows.connected_apps import AppsView, ConnectedApp
from authgate.ui.i18n import Translator
from authgate.web import csrf, session
from authgate.web.page_form import read_fields
from authgate.web.pages import form_action_source, locale_of
from authgate.web.responses import NO_STORE
from authgate.web.state import AppState

log = logging.getLogger(__name__)
Endpoint = Callable[[Request[AppState]], Awaitable[Response]]
BROWSER_COOKIE = "authgate_apps"
REVOKED = "revoked"  # query flag of the page shown after a revocation
_SCOPE_ORDER = ("openid", "profile", "email", "address", "phone", OFFLINE_ACCESS)


def _path(request: Request[AppState]) -> str:
    return f"{session.base_path(request.state['settings'])}/apps"


def _locale(request: Request[AppState]) -> str:
    return locale_of(request, request.query_params.get("ui_locales", "").split())


def _secret(request: Request[AppState]) -> str | None:
    value = request.cookies.get(BROWSER_COOKIE)
    return value if value and 20 <= len(value) <= 64 and value.isascii() else None


def _set_cookie(request: Request[AppState], response: Response, secret: str) -> None:
    settings = request.state["settings"]
    response.set_cookie(
        BROWSER_COOKIE,
        secret,
        max_age=settings.session_ttl,
        path=_path(request),
        secure=settings.issuer.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def html_errors(endpoint: Endpoint) -> Endpoint:
    """Errors on this page are localised error pages, never JSON (STYLE.md §4)."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request[AppState]) -> Response:
        try:
            return await endpoint(request)
        except NotFoundError:
            return request.state["templates"].render(
                "error.html", locale=_locale(request), status_code=404, error="not_found"
            )
        except OAuthError as exc:
            log.info("%s %s: %s (%s)", request.method, request.url.path, exc.error, exc.detail)
            return request.state["templates"].error_page(request, exc)

    return wrapped


async def _checked(request: Request[AppState], *names: str) -> dict[str, str]:
    fields = await read_fields(request, {csrf.FIELD, *names})
    issuer = request.state["settings"].issuer
    csrf.check(request, issuer, fields.get(csrf.FIELD), _secret(request))
    return fields


def _back(request: Request[AppState], query: str = "") -> Response:
    url = f"{request.state['settings'].issuer}/apps{query}"
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


@html_errors
async def page(request: Request[AppState]) -> Response:
    """GET /apps: the list of connected apps, or the sign-in form."""
    secret = _secret(request) or new_token()
    view = await connected_apps.show(
        request.state["ctx"], session.session_secrets(request), now=datetime.now(UTC)
    )
    revoked = request.query_params.get(REVOKED) == "1"
    return _render(request, secret, view, revoked=revoked)


@html_errors
async def login(request: Request[AppState]) -> Response:
    """POST /apps/login: sign in with the limits of every login form (SEC-43)."""
    fields = await _checked(request, "username", "password")
    signed = await connected_apps.login(
        request.state["ctx"],
        username=fields.get("username", ""),
        password=fields.get("password", ""),
        ip=request.client.host if request.client else None,
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    if signed is None:
        secret = _secret(request)
        assert secret is not None  # noqa: S101 - the CSRF check passed
        name = fields.get("username")
        return _render(request, secret, None, status=400, error="bad_credentials", username=name)
    response = _back(request)
    session.set_session(response, request.state["settings"], signed.session_secrets)
    return response


@html_errors
async def revoke(request: Request[AppState]) -> Response:
    """POST /apps/{grant_id}/revoke: end the app's grant and every token of it."""
    await _checked(request)
    await connected_apps.revoke(
        request.state["ctx"],
        session.session_secrets(request),
        str(request.path_params["grant_id"]),
        now=datetime.now(UTC),
    )
    return _back(request, f"?{REVOKED}=1")


def _render(
    request: Request[AppState],
    secret: str,
    view: AppsView | None,
    *,
    status: int = 200,
    revoked: bool = False,
    error: str | None = None,
    username: str | None = None,
) -> Response:
    _ = Translator(_locale(request))
    apps = [_app(request, _, app) for app in view.apps] if view else []
    response = request.state["templates"].render(
        "apps.html",
        locale=_.locale,
        status_code=status,
        img_sources=[form_action_source(a["logo_uri"]) for a in apps if a["logo_uri"]],
        csrf_token=csrf.token_for(secret),
        signed_in=view is not None,
        account=view.username if view else None,
        apps=apps,
        revoked=revoked,
        error=error,
        username=username,
        action=_path(request) + "/login",
    )
    _set_cookie(request, response, secret)
    return response


def _app(request: Request[AppState], _: Translator, app: ConnectedApp) -> dict[str, Any]:
    grant, client = app.grant, app.client
    ordered = [s for s in _SCOPE_ORDER if s in grant.scope]
    ordered += sorted(grant.scope - set(_SCOPE_ORDER))
    return {
        "grant_id": grant.grant_id,
        "client_name": client.name,
        "logo_uri": _logo(client.logo_uri),
        "scopes": [
            (s, _("scope." + s) if _.has("scope." + s) else _("scope.other", scope=s))
            for s in ordered
        ],
        # RFC 9396 §3: the granted details, shown in words as on the consent page.
        "authorization_details": authorization_details.load(grant.authorization_details),
        "since": _when(grant.created_at),
        "last_used": _when(grant.last_used_at) if grant.last_used_at else None,
        "action": f"{_path(request)}/{grant.grant_id}/revoke",
    }


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _logo(uri: str | None) -> str | None:
    """The client's registered logo if its origin can be allowed by CSP."""
    if not uri:
        return None
    try:
        form_action_source(uri)
    except ServerError:
        return None
    return uri
