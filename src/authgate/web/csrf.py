"""CSRF protection of every POST form (RFC 6749 §10.12, RFC 9700 §4.7, SEC-37).

The token is derived from the browser's own secret (the interaction cookie, or the session
cookie for logout): SHA-256 over a label and that secret. Only that browser can know it, it
needs no server-side key, and it is the same in every process. Requests whose Origin (or
Sec-Fetch-Site) shows another site are refused before the token is looked at.

`Origin: null`: our pages send `Referrer-Policy: no-referrer` (SEC-40), and under that
policy Chromium serialises the origin of a form post as `null` (Fetch §3.1 "serializing a
request origin"), so a real browser's post from our own page arrives with `Origin: null`.
`null` says nothing about the sender, so it is treated like a missing Origin, except that
the browser must then not say the post came from another site or a sibling subdomain
(Sec-Fetch-Site `cross-site` / `same-site`, which a sandboxed frame elsewhere would show).
The CSRF token is still required in every case: this only stops refusing our own pages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Any

from starlette.requests import Request

from authgate.core.errors import AccessDeniedError

FIELD = "csrf_token"


class CsrfError(AccessDeniedError):
    """A form post that this browser's page did not send (answered with 403)."""

    status_code = 403


def token_for(secret: str) -> str:
    digest = hashlib.sha256(b"authgate-csrf\x00" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check(request: Request[Any], issuer: str, token: str | None, secret: str | None) -> None:
    """Raise CsrfError unless the post comes from our page in this browser."""
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    if origin == "null":
        if site in ("cross-site", "same-site"):
            raise CsrfError("the form was sent from another site")
    elif origin is not None and origin.lower() != _origin(issuer):
        raise CsrfError("the form was sent from another site")
    if site == "cross-site":
        raise CsrfError("the form was sent from another site")
    if (
        token is None
        or secret is None
        or not hmac.compare_digest(token.encode(), token_for(secret).encode())
    ):
        raise CsrfError("the form has expired or was not sent from this browser; start again")
