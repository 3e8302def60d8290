"""OIDC Core §5.3: the UserInfo endpoint, GET and POST. The access token comes as a Bearer
Authorization header (RFC 6750 §2.1) or, for POST, a form-encoded `access_token` (§2.2);
never both (§2: "Clients MUST NOT use more than one method").
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.core.errors import InvalidRequestError, InvalidTokenError
from authgate.flows import userinfo as userinfo_flow
from authgate.web.page_form import read_fields
from authgate.web.responses import NO_STORE, json_response
from authgate.web.state import AppState

# RFC 6750 §3.1: a request without credentials gets a challenge but no error code.
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="authgate"', **NO_STORE}


async def _token(request: Request[AppState]) -> str | None:
    header = request.headers.get("authorization")
    from_header = None
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidTokenError("use the Bearer scheme (RFC 6750)")
        from_header = value.strip()
    from_body = None
    if request.method == "POST" and request.headers.get("content-type"):
        from_body = (await read_fields(request, {"access_token"})).get("access_token")
    if from_header and from_body:
        raise InvalidRequestError("send the access token in one place only (RFC 6750 section 2)")
    return from_header or from_body


async def userinfo(request: Request[AppState]) -> Response:
    token = await _token(request)
    if token is None:
        return json_response({"error": "invalid_token"}, 401, _CHALLENGE)
    claims = await userinfo_flow.userinfo(request.state["ctx"], token, now=datetime.now(UTC))
    return json_response(claims, headers=NO_STORE)
