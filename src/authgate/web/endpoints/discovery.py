"""OIDC Discovery 1.0 §4 and RFC 8414 §3: the metadata document at both well-known paths."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from authgate.config import Settings
from authgate.core.discovery import build_metadata
from authgate.core.scopes import OIDC_SCOPES
from authgate.flows.token import SUPPORTED_GRANTS
from authgate.web.state import AppState

_HEADERS = {"Cache-Control": "public, max-age=300"}


_last: tuple[Settings, frozenset[str], bytes] | None = None


def _document(settings: Settings, paths: frozenset[str]) -> bytes:
    """The serialized document: it depends only on settings and routes, fixed per process.
    Kept for the last (settings, paths) by identity: hashing the settings dataclass on every
    request cost more than the rest of the endpoint.
    """
    global _last
    if _last is None or _last[0] is not settings or _last[1] is not paths:
        body = build_metadata(
            settings.issuer,
            paths=paths,
            scopes=OIDC_SCOPES,
            grant_types=SUPPORTED_GRANTS,
            details_types=[t.name for t in settings.authorization_details_types],
        )
        _last = (settings, paths, json.dumps(body, separators=(",", ":")).encode())
    return _last[2]


async def metadata(request: Request[AppState]) -> Response:
    """The same document at /.well-known/openid-configuration and
    /.well-known/oauth-authorization-server; the issuer comes from settings, never from the
    request's Host or X-Forwarded-* headers (SEC-100).
    """
    body = _document(request.state["settings"], request.state["paths"])
    return Response(body, media_type="application/json", headers=_HEADERS)
