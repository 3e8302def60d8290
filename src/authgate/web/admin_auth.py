"""Bearer authentication of the operator API (/admin), off unless AUTHGATE_ADMIN_TOKEN is set."""

from __future__ import annotations

import hmac

from starlette.exceptions import HTTPException
from starlette.requests import Request

from authgate.web.state import AppState


def require_admin(request: Request[AppState]) -> str:
    """The actor name for the audit log; 404 when the admin API is off, 401 on a bad token."""
    settings = request.state["settings"]
    if settings.admin_token is None:
        raise HTTPException(404)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.admin_token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise HTTPException(401, headers={"WWW-Authenticate": 'Bearer realm="authgate-admin"'})
    return "admin-api"
