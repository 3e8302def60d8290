"""Rendering authgate's pages (Jinja2, autoescaped, localised) and delivering authorization
responses to the client in the requested response mode.

Every page is `Cache-Control: no-store` (SEC-42); the security headers middleware adds the
anti-framing CSP and X-Frame-Options (SEC-36). The form_post page (OAuth 2.0 Form Post
Response Mode §2) gets its own CSP whose `form-action` allows only the client's redirect
origin; it submits itself with an external script and shows a button for browsers without
JavaScript.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from authgate.config import Settings
from authgate.core.errors import OAuthError, ServerError, TemporarilyUnavailableError
from authgate.core.types import Display, ResponseMode
from authgate.ui.i18n import Translator, negotiate
from authgate.web.responses import NO_STORE, authorization_uri
from authgate.web.security import CSP
from authgate.web.session import base_path

_SOURCE = re.compile(
    r"^[a-z][a-z0-9+.\-]*:(//[a-z0-9.\-]+(:[0-9]+)?|//\[[0-9a-f:.]+\](:[0-9]+)?)?$"
)


class Pages:
    """The template environment of one app."""

    def __init__(self, settings: Settings) -> None:
        loaders: list[FileSystemLoader | PackageLoader] = []
        if settings.templates_dir:
            loaders.append(FileSystemLoader(settings.templates_dir))
        loaders.append(PackageLoader("authgate.ui", "templates"))
        self.settings = settings
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )

    def render(
        self,
        name: str,
        *,
        locale: str,
        status_code: int = 200,
        display: Display = Display.PAGE,
        headers: Mapping[str, str] | None = None,
        form_targets: Iterable[str] = (),
        **context: Any,
    ) -> Response:
        """A page. `form_targets` are URIs a form on it may end up at through a redirect
        (the client's redirect URI): CSP `form-action` governs redirects after a form
        submission too, so they are allowed beside 'self'.
        """
        s = self.settings
        extra = dict(headers or {})
        sources = sorted({form_action_source(uri) for uri in form_targets})
        if sources:
            extra.setdefault(
                "Content-Security-Policy",
                CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(sources)),
            )
        html = self.env.get_template(name).render(
            _=Translator(locale),
            locale=locale,
            product=s.product_name,
            static=f"{base_path(s)}/static",
            compact=display in (Display.POPUP, Display.TOUCH),
            footer_text=s.footer_text,
            **context,
        )
        return HTMLResponse(html, status_code, headers={**NO_STORE, **extra})

    def error_page(self, request: Request[Any], exc: OAuthError) -> Response:
        """A localised error page: never a Location, never a link to the client (SEC-01)."""
        headers = {}
        if isinstance(exc, TemporarilyUnavailableError):
            headers = {"Retry-After": str(exc.retry_after)}
        return self.render(
            "error.html",
            locale=locale_of(request, request.query_params.get("ui_locales", "").split()),
            status_code=exc.status_code,
            headers=headers,
            error=exc.error,
            description=exc.description,
            too_many=exc.status_code == 429,
        )

    def deliver(
        self,
        request: Request[Any],
        redirect_uri: str,
        mode: str,
        params: Mapping[str, str],
        *,
        locale: str,
    ) -> Response:
        """An authorization response (RFC 6749 §4.1.2) in `mode`. After a POST the browser
        is sent on with 303 (RFC 9700 §4.12), after a GET with 302.
        """
        if mode == ResponseMode.FORM_POST:
            return self._form_post(redirect_uri, params.items(), locale=locale)
        uri = authorization_uri(redirect_uri, params, fragment=mode == ResponseMode.FRAGMENT)
        status = 303 if request.method == "POST" else 302
        return RedirectResponse(uri, status_code=status, headers=NO_STORE)

    def _form_post(
        self, action: str, params: Iterable[tuple[str, str]], *, locale: str
    ) -> Response:
        source = form_action_source(action)
        csp = (
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
            f"form-action {source}; frame-ancestors 'none'; base-uri 'none'"
        )
        return self.render(
            "form_post.html",
            locale=locale,
            headers={"Content-Security-Policy": csp},
            action=action,
            params=list(params),
        )


def form_action_source(uri: str) -> str:
    """The CSP source expression of a redirect URI's origin (or scheme, for private-use
    schemes of native apps, RFC 8252 §7.1).
    """
    parts = urllib.parse.urlsplit(uri)
    source = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    if _SOURCE.match(source.lower()) is None:
        raise ServerError("the redirect URI cannot be expressed in a Content-Security-Policy")
    return source


def locale_of(request: Request[Any], ui_locales: Iterable[str] = ()) -> str:
    """OIDC Core §3.1.2.1 `ui_locales`, then Accept-Language."""
    return negotiate(ui_locales, request.headers.get("accept-language"))
