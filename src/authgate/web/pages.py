"""Rendering authgate's pages (Jinja2, autoescaped, localised) and delivering authorization
responses to the client in the requested response mode.

Every page is `Cache-Control: no-store` (SEC-42); the security headers middleware adds the
anti-framing CSP and X-Frame-Options (SEC-36). The form_post page (OAuth 2.0 Form Post
Response Mode §2) gets its own CSP whose `form-action` allows only the client's redirect
origin; it submits itself with an external script and shows a button for browsers without
JavaScript.
"""

from __future__ import annotations

import hashlib
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


def theme_css(color: str) -> str:
    """The operator's primary colour as CSS custom properties (served as /static/theme.css,
    so the page needs no inline style that the CSP would block). `color` is validated as
    #rrggbb by config; the text on it is white or near-black, whichever contrasts more.
    """
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    on_white = 1.05 / (luminance + 0.05)
    on_black = (luminance + 0.05) / 0.05
    on = "#ffffff" if on_white >= on_black else "#111111"
    return f":root {{ --accent: {color.lower()}; --on-accent: {on}; }}\n"


def _page_csp(form_sources: Iterable[str], img_sources: Iterable[str]) -> str:
    csp = CSP
    forms, images = sorted(set(form_sources)), sorted(set(img_sources))
    if forms:
        csp = csp.replace("form-action 'self'", "form-action 'self' " + " ".join(forms))
    if images:
        csp = csp.replace("img-src 'self' data:", "img-src 'self' data: " + " ".join(images))
    return csp


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
        self.theme = theme_css(settings.primary_color)
        self.theme_version = hashlib.sha256(self.theme.encode()).hexdigest()[:12]
        logo = settings.logo_uri
        # An operator's logo on another https origin is allowed by the page CSP (img-src).
        self.logo_sources = [form_action_source(logo)] if logo and logo.startswith("https:") else []

    def render(
        self,
        name: str,
        *,
        locale: str,
        status_code: int = 200,
        display: Display = Display.PAGE,
        headers: Mapping[str, str] | None = None,
        form_targets: Iterable[str] = (),
        img_sources: Iterable[str] = (),
        **context: Any,
    ) -> Response:
        """A page. `form_targets` are URIs a form on it may end up at through a redirect
        (the client's redirect URI): CSP `form-action` governs redirects after a form
        submission too, so they are allowed beside 'self'. `img_sources` are further CSP
        sources of images (a client's registered logo).
        """
        s = self.settings
        extra = dict(headers or {})
        forms = [form_action_source(uri) for uri in form_targets]
        images = [*self.logo_sources, *img_sources]
        if forms or images:
            extra.setdefault("Content-Security-Policy", _page_csp(forms, images))
        html = self.env.get_template(name).render(
            _=Translator(locale),
            locale=locale,
            product=s.product_name,
            base=base_path(s),
            static=f"{base_path(s)}/static",
            compact=display in (Display.POPUP, Display.TOUCH),
            footer_text=s.footer_text,
            footer_link=s.footer_link,
            product_logo=s.logo_uri,
            theme_version=self.theme_version,
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
        images = " ".join(["'self'", "data:", *self.logo_sources])
        csp = (
            "default-src 'none'; style-src 'self'; script-src 'self'; "
            f"img-src {images}; "
            f"form-action {source}; frame-ancestors 'none'; base-uri 'none'"
        )
        return self.render(
            "form_post.html",
            locale=locale,
            headers={"Content-Security-Policy": csp},
            action=action,
            params=list(params),
        )

    def theme_response(self, request: Request[Any]) -> Response:
        """`/static/theme.css`: the branding colours; cacheable (the page links it with a
        version of its content), so a changed colour reaches browsers after a restart.
        """
        etag = f'"{self.theme_version}"'
        headers = {"Cache-Control": "public, max-age=86400", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(self.theme, media_type="text/css", headers=headers)


def client_logo(uri: str | None) -> tuple[str | None, list[str]]:
    """A client's registered logo (https, validated at registration) and the CSP image
    source that allows it; none when its origin cannot be expressed in a CSP.
    """
    if not uri:
        return None, []
    try:
        return uri, [form_action_source(uri)]
    except ServerError:
        return None, []


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
