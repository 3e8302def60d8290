"""Rendering the pages of the device verification flow (RFC 8628 §3.3, §5.3, §5.4):
the code form, the too-many-attempts page, login, the device consent page and the result.

The browser's device cookie (random, HttpOnly, SameSite=Lax, scoped to /device) binds the
device interactions to this browser and is the secret the forms' CSRF tokens derive from.
"""

from __future__ import annotations

import json
import math
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from authgate.config import Settings
from authgate.core import authorization_details
from authgate.core.device import CodeProblem, format_user_code
from authgate.core.scopes import OFFLINE_ACCESS
from authgate.flows.device_verification import DeviceStep, DeviceView
from authgate.ui.i18n import Translator
from authgate.web import csrf, session
from authgate.web.pages import client_logo, locale_of
from authgate.web.state import AppState

BROWSER_COOKIE = "authgate_device"
# The order in which scopes are listed (others follow, sorted), as on the consent page.
_SCOPE_ORDER = ("openid", "profile", "email", "address", "phone", OFFLINE_ACCESS)
_MAX_USER_AGENT = 200


def device_path(settings: Settings) -> str:
    return f"{session.base_path(settings)}/device"


def set_browser_cookie(response: Response, settings: Settings, secret: str) -> None:
    """(Re)set the device cookie; its life restarts with every page, as the flow goes on."""
    response.set_cookie(
        BROWSER_COOKIE,
        secret,
        max_age=max(settings.interaction_ttl, settings.user_code_failure_window),
        path=device_path(settings),
        secure=settings.issuer.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def _locale(request: Request[AppState]) -> str:
    return locale_of(request, request.query_params.get("ui_locales", "").split())


def render(
    request: Request[AppState],
    secret: str,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    img_sources: list[str] | None = None,
    **context: Any,
) -> Response:
    settings = request.state["settings"]
    response = request.state["templates"].render(
        template,
        locale=_locale(request),
        status_code=status,
        headers=headers,
        img_sources=img_sources or (),
        csrf_token=csrf.token_for(secret),
        **context,
    )
    set_browser_cookie(response, settings, secret)
    return response


def entry_page(
    request: Request[AppState],
    secret: str,
    *,
    user_code: str = "",
    prefilled: bool = False,
    problem: CodeProblem | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        secret,
        "device_entry.html",
        status=status,
        action=device_path(request.state["settings"]),
        user_code=user_code,
        prefilled=prefilled,
        problem=problem,
    )


def limited_page(request: Request[AppState], secret: str, retry_after: int) -> Response:
    """RFC 8628 §5.1 limit reached: 429 with Retry-After and the wait in minutes."""
    return render(
        request,
        secret,
        "device_limited.html",
        status=429,
        headers={"Retry-After": str(retry_after)},
        minutes=max(1, math.ceil(retry_after / 60)),
    )


def step_page(
    request: Request[AppState], secret: str, view: DeviceView, *, status: int = 200
) -> Response:
    action = f"{device_path(request.state['settings'])}/{view.interaction_id}"
    if view.step is DeviceStep.PROBLEM:
        return entry_page(request, secret, problem=view.problem, status=400)
    if view.step is DeviceStep.LOGIN:
        return render(
            request,
            secret,
            "login.html",
            status=status,
            action=action + "/login",
            client_name=view.client.name,
            username=None,
            error=view.error,
        )
    if view.step is DeviceStep.CONSENT:
        return _consent(request, secret, view, action)
    approved = view.step is DeviceStep.APPROVED
    return render(
        request, secret, "device_done.html", approved=approved, client_name=view.client.name
    )


def _consent(request: Request[AppState], secret: str, view: DeviceView, action: str) -> Response:
    _ = Translator(_locale(request))
    device, client = view.device, view.client
    logo, sources = client_logo(client.logo_uri)
    ordered = [s for s in _SCOPE_ORDER if s in device.scope]
    ordered += sorted(device.scope - set(_SCOPE_ORDER))
    scopes = [
        (s, _("scope." + s) if _.has("scope." + s) else _("scope.other", scope=s)) for s in ordered
    ]
    assert view.account is not None  # noqa: S101 - the consent step names the account
    return render(
        request,
        secret,
        "device_consent.html",
        img_sources=sources,
        action=action + "/consent",
        another_action=action + "/another",
        client_name=client.name,
        logo_uri=logo,
        username=view.account.username,
        user_code=format_user_code(device.user_code),
        qr_uri=f"{session.base_path(request.state['settings'])}/device/qr?"
        + urllib.parse.urlencode({"user_code": format_user_code(device.user_code)}),
        scopes=scopes,
        offline=OFFLINE_ACCESS in device.scope,
        when=_when(_, device.created_at, datetime.now(UTC)),
        ip=device.request_ip,
        user_agent=(device.request_user_agent or "")[:_MAX_USER_AGENT],
        # RFC 9396 §3: the stored request's authorization_details, shown in words.
        authorization_details=authorization_details.load(device.authorization_details),
    )


def _when(_: Translator, asked: datetime, now: datetime) -> str:
    minutes = int((now - asked).total_seconds() // 60)
    ago = _("device.ago.now") if minutes < 1 else _("device.ago.minutes", n=minutes)
    return _("device.consent.when_value", ago=ago, time=asked.astimezone(UTC).strftime("%H:%M"))


def _details(stored: str | None) -> object:
    return json.loads(stored) if stored else None
