"""The cookies of the browser flows: the session cookie (random secrets of the signed-in
accounts; only their hashes are stored) and one cookie per pending interaction, scoped to
that interaction's path. Both are HttpOnly and SameSite=Lax, and Secure whenever the issuer
is https (SEC-44; a loopback http issuer cannot set Secure cookies).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from authgate.config import Settings
from authgate.flows.sessions import cookie_value, parse_cookie

SESSION_COOKIE = "authgate_session"
_INTERACTION_PREFIX = "authgate_i_"


def base_path(settings: Settings) -> str:
    """The issuer's path ("" at the root), prefixed to cookie paths and page links."""
    return urllib.parse.urlsplit(settings.issuer).path.rstrip("/")


def interaction_path(settings: Settings, interaction_id: str) -> str:
    return f"{base_path(settings)}/interaction/{interaction_id}"


def _secure(settings: Settings) -> bool:
    return settings.issuer.startswith("https://")


def session_secrets(request: Request[Any]) -> tuple[str, ...]:
    return parse_cookie(request.cookies.get(SESSION_COOKIE))


def raw_session(request: Request[Any]) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def set_session(response: Response, settings: Settings, secrets: Sequence[str]) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie_value(secrets),
        max_age=settings.session_ttl,
        path=base_path(settings) or "/",
        secure=_secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=base_path(settings) or "/",
        secure=_secure(settings),
        httponly=True,
        samesite="lax",
    )


def interaction_secret(request: Request[Any], interaction_id: str) -> str | None:
    return request.cookies.get(_INTERACTION_PREFIX + interaction_id)


def set_interaction(
    response: Response, settings: Settings, interaction_id: str, secret: str
) -> None:
    response.set_cookie(
        _INTERACTION_PREFIX + interaction_id,
        secret,
        max_age=settings.interaction_ttl,
        path=interaction_path(settings, interaction_id),
        secure=_secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_interaction(response: Response, settings: Settings, interaction_id: str) -> None:
    response.delete_cookie(
        _INTERACTION_PREFIX + interaction_id,
        path=interaction_path(settings, interaction_id),
        secure=_secure(settings),
        httponly=True,
        samesite="lax",
    )
