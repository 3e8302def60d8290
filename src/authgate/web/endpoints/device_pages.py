"""RFC 8628 §3.3: the verification page (`verification_uri`, INTERFACE.md) and its steps.

GET /device shows a form with input `user_code`, pre-filled from
`verification_uri_complete` but never submitted for the person: they confirm the code their
device shows (§5.4 remote phishing). POST /device looks the code up (§5.1 limits: a 429
page when reached) and binds the request to this browser; then GET /device/{id} shows the
step: the login form, the device consent page, or the result. Every form carries a CSRF
token derived from the browser's device cookie (SEC-37); every POST answers 303.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.core.device import CodeProblem, format_user_code, normalise_user_code
from authgate.core.errors import OAuthError, TooManyRequestsError
from authgate.core.tokens import new_token
from authgate.flows import device_verification as verification
from authgate.flows.device_verification import SignedInto
from authgate.web import csrf, session
from authgate.web.device_page_views import (
    BROWSER_COOKIE,
    entry_page,
    limited_page,
    set_browser_cookie,
    step_page,
)
from authgate.web.page_form import read_fields
from authgate.web.responses import NO_STORE
from authgate.web.state import AppState

log = logging.getLogger(__name__)
Endpoint = Callable[[Request[AppState]], Awaitable[Response]]
_MAX_SHOWN = 64  # characters of an entered code shown back on the page


def html_errors(endpoint: Endpoint) -> Endpoint:
    """Errors on these pages are localised error pages, never JSON (STYLE.md §4)."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request[AppState]) -> Response:
        try:
            return await endpoint(request)
        except OAuthError as exc:
            log.info("%s %s: %s (%s)", request.method, request.url.path, exc.error, exc.detail)
            return request.state["templates"].error_page(request, exc)

    return wrapped


def _secret(request: Request[AppState]) -> str | None:
    value = request.cookies.get(BROWSER_COOKIE)
    return value if value and 20 <= len(value) <= 64 and value.isascii() else None


def _iid(request: Request[AppState]) -> str:
    return str(request.path_params["interaction_id"])


def _ip(request: Request[AppState]) -> str | None:
    return request.client.host if request.client else None


async def _checked(request: Request[AppState], *names: str) -> tuple[dict[str, str], str]:
    """The form's fields after the CSRF check, and the browser secret it was checked with."""
    fields = await read_fields(request, {csrf.FIELD, *names})
    secret = _secret(request)
    csrf.check(request, request.state["settings"].issuer, fields.get(csrf.FIELD), secret)
    assert secret is not None  # noqa: S101 - the check passed
    return fields, secret


def _go(request: Request[AppState], secret: str, path: str = "") -> Response:
    settings = request.state["settings"]
    url = f"{settings.issuer}/device{path}"
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    set_browser_cookie(response, settings, secret)
    return response


def _shown(raw: str) -> str:
    code = normalise_user_code(raw)
    return format_user_code(code) if code else raw.strip()[:_MAX_SHOWN]


@html_errors
async def entry(request: Request[AppState]) -> Response:
    """GET verification_uri[?user_code=…]: the code form; nothing is looked up."""
    raw = request.query_params.get("user_code")
    secret = _secret(request) or new_token()
    shown = _shown(raw) if raw else ""
    return entry_page(request, secret, user_code=shown, prefilled=bool(shown))


@html_errors
async def submit_code(request: Request[AppState]) -> Response:
    fields, secret = await _checked(request, "user_code")
    raw = fields.get("user_code", "")
    try:
        started = await verification.start(
            request.state["ctx"],
            raw,
            secret=secret,
            cookie_secrets=session.session_secrets(request),
            ip=_ip(request),
            now=datetime.now(UTC),
        )
    except TooManyRequestsError as exc:
        return limited_page(request, secret, exc.retry_after)
    if isinstance(started, CodeProblem):
        return entry_page(request, secret, user_code=_shown(raw), problem=started, status=400)
    return _go(request, secret, "/" + started.interaction_id)


@html_errors
async def step(request: Request[AppState]) -> Response:
    """GET /device/{id}: the login form, the consent page, the result, or what went wrong."""
    secret = _secret(request)
    view = await verification.show(
        request.state["ctx"],
        _iid(request),
        secret,
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    assert secret is not None  # noqa: S101 - show() refuses a browser without it
    return step_page(request, secret, view)


@html_errors
async def login(request: Request[AppState]) -> Response:
    fields, secret = await _checked(request, "username", "password")
    outcome = await verification.login(
        request.state["ctx"],
        _iid(request),
        secret,
        username=fields.get("username", ""),
        password=fields.get("password", ""),
        ip=_ip(request),
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    if not isinstance(outcome, SignedInto):
        return step_page(request, secret, outcome, status=400)
    response = _go(request, secret, "/" + _iid(request))
    session.set_session(response, request.state["settings"], outcome.session_secrets)
    return response


@html_errors
async def consent(request: Request[AppState]) -> Response:
    """The decision buttons (INTERFACE.md `decision` = approve | deny); only the decision is
    read from the form, the request approved is the stored one.
    """
    fields, secret = await _checked(request, "decision")
    await verification.decide(
        request.state["ctx"],
        _iid(request),
        secret,
        fields.get("decision"),
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    return _go(request, secret, "/" + _iid(request))


@html_errors
async def another_account(request: Request[AppState]) -> Response:
    _, secret = await _checked(request)
    ctx, iid = request.state["ctx"], _iid(request)
    await verification.use_another_account(ctx, iid, secret, now=datetime.now(UTC))
    return _go(request, secret, "/" + iid)
