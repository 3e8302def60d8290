"""The pages of a pending authorization: the current step (login, account chooser,
consent) and the account chooser's answer. Every POST answers 303 (RFC 9700 §4.12, SEC-41).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.core import authorization_details
from authgate.core.claims import load_claims
from authgate.core.prompt import Step
from authgate.core.scopes import OFFLINE_ACCESS
from authgate.flows import authorize as authorize_flow
from authgate.flows.interaction import Outcome, PageView
from authgate.ui.i18n import Translator
from authgate.web import csrf, session
from authgate.web.page_form import read_fields
from authgate.web.pages import client_logo, locale_of
from authgate.web.responses import NO_STORE
from authgate.web.state import AppState

TEMPLATES = {
    Step.LOGIN: "login.html",
    Step.SELECT_ACCOUNT: "select_account.html",
    Step.CONSENT: "consent.html",
}
# The order in which scopes are listed on the consent page (others follow, sorted).
_SCOPE_ORDER = ("openid", "profile", "email", "address", "phone", OFFLINE_ACCESS)


def _iid(request: Request[AppState]) -> str:
    return str(request.path_params["interaction_id"])


def secret(request: Request[AppState]) -> str | None:
    return session.interaction_secret(request, _iid(request))


async def checked_fields(request: Request[AppState], *names: str) -> dict[str, str]:
    """The form's fields, after the CSRF check (SEC-37)."""
    fields = await read_fields(request, {csrf.FIELD, *names})
    issuer = request.state["settings"].issuer
    csrf.check(request, issuer, fields.get(csrf.FIELD), secret(request))
    return fields


async def show(request: Request[AppState]) -> Response:
    outcome = await authorize_flow.show(
        request.state["ctx"],
        _iid(request),
        secret(request),
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    return respond(request, outcome)


async def select_account(request: Request[AppState]) -> Response:
    fields = await checked_fields(request, "account")
    outcome = await authorize_flow.select_account(
        request.state["ctx"],
        _iid(request),
        secret(request),
        fields.get("account", ""),
        cookie_secrets=session.session_secrets(request),
        now=datetime.now(UTC),
    )
    return respond(request, outcome)


def respond(request: Request[AppState], outcome: Outcome) -> Response:
    """Render an interaction's outcome: its next page (after a POST: 303 to it), or the
    authorization response to the client; with the new session cookie when it changed.
    """
    settings = request.state["settings"]
    iid = _iid(request)
    response: Response
    if outcome.redirect is not None:
        r = outcome.redirect
        response = request.state["templates"].deliver(
            request, r.redirect_uri, r.response_mode, r.params, locale=_locale(request, None)
        )
        session.clear_interaction(response, settings, iid)
    elif request.method == "POST" and outcome.status_code == 200:
        url = f"{settings.issuer}/interaction/{iid}"
        response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    else:
        assert outcome.page is not None  # noqa: S101
        response = render_page(request, outcome.page, outcome.status_code)
    if outcome.session_secrets is not None:
        session.set_session(response, settings, outcome.session_secrets)
    return response


def _locale(request: Request[AppState], view: PageView | None) -> str:
    return locale_of(request, view.request.ui_locales if view else ())


def render_page(request: Request[AppState], view: PageView, status_code: int = 200) -> Response:
    settings = request.state["settings"]
    locale = _locale(request, view)
    path = session.interaction_path(settings, view.interaction_id)
    action = {Step.LOGIN: "/login", Step.SELECT_ACCOUNT: "/select", Step.CONSENT: "/consent"}
    secret_value = secret(request)
    context: dict[str, Any] = {
        "action": path + action[view.step],
        "csrf_token": csrf.token_for(secret_value) if secret_value else "",
        "client_name": view.client.name,
        "accounts": view.accounts,
        "username": view.account.username if view.account else view.request.login_hint,
        "error": view.error,
    }
    img_sources: list[str] = []
    if view.step is Step.CONSENT:
        context.update(_consent_context(view, Translator(locale)))
        context["logo_uri"], img_sources = client_logo(view.client.logo_uri)
    return request.state["templates"].render(
        TEMPLATES[view.step],
        locale=locale,
        status_code=status_code,
        display=view.request.display,
        form_targets=[view.request.redirect_uri],
        img_sources=img_sources,
        **context,
    )


def _consent_context(view: PageView, _: Translator) -> dict[str, object]:
    ordered = [s for s in _SCOPE_ORDER if s in view.scope]
    ordered += sorted(view.scope - set(_SCOPE_ORDER))
    scopes = [
        (s, _("scope." + s) if _.has("scope." + s) else _("scope.other", scope=s)) for s in ordered
    ]
    claims = sorted(load_claims(view.request.claims).names() - {"sub"})
    return {
        "scopes": scopes,
        "offline": OFFLINE_ACCESS in view.scope,
        "claims": ", ".join(claims),
        "authorization_details": authorization_details.load(view.request.authorization_details),
        "policy_uri": view.client.policy_uri,
        "tos_uri": view.client.tos_uri,
    }
