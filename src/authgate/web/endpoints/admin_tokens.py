"""The operator API for tokens: `authgate token revoke|approve` over HTTP (/admin/tokens/…).

POST /admin/tokens/revoke   {"token": T, "type"?: "access"|"refresh", "cascade"?: true,
                             "reason"?: R}
                            or {"client_id": C | "user": SUB, "before"?: ISO8601,
                             "dry_run"?: false, "reason"?: R}
POST /admin/tokens/approve  {"token": T, "type"?: …, "cascade"?: true, "reason"?: R}

Tokens travel in the JSON body, never in a URL (they would end up in access logs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from authgate.core.errors import ConflictError, InvalidRequestError, NotFoundError
from authgate.flows import revoke as revoke_flow
from authgate.web.admin_auth import require_admin
from authgate.web.forms import read_body
from authgate.web.responses import NO_STORE, json_response
from authgate.web.state import AppState

_TOKEN_FIELDS = {"token", "type", "cascade", "reason"}
_BULK_FIELDS = {"client_id", "user", "before", "dry_run", "reason"}


async def _object(request: Request[AppState], allowed: set[str]) -> dict[str, object]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidRequestError("Content-Type must be application/json")
    try:
        data = json.loads(await read_body(request))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise InvalidRequestError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("the body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidRequestError(f"unknown fields: {', '.join(unknown)}"[:200])
    return data


def _text(data: dict[str, object], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a string")
    return value


def _flag(data: dict[str, object], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{name} must be true or false")
    return value


def _error(exc: NotFoundError | ConflictError) -> Response:
    status = 404 if isinstance(exc, NotFoundError) else 409
    body = {"error": type(exc).__name__, "error_description": str(exc)}
    return json_response(body, status, NO_STORE)


async def _token_action(request: Request[AppState], *, approve: bool) -> Response:
    actor = require_admin(request)
    data = await _object(request, _TOKEN_FIELDS | (set() if approve else _BULK_FIELDS))
    store = request.state["ctx"].store
    now = datetime.now(UTC)
    token = _text(data, "token")
    try:
        if token is None:
            if approve:
                raise InvalidRequestError("token is required")
            result = await revoke_flow.operator_bulk_revoke(
                store,
                client_id=_text(data, "client_id"),
                user=_text(data, "user"),
                before=_text(data, "before"),
                dry_run=_flag(data, "dry_run", False),
                actor=actor,
                reason=_text(data, "reason"),
                now=now,
            )
        else:
            if set(data) & (_BULK_FIELDS - {"reason"}):
                raise InvalidRequestError("give either a token or a client_id or user")
            result = await revoke_flow.operator_token_action(
                store,
                token,
                approve=approve,
                token_type=_text(data, "type"),
                cascade=_flag(data, "cascade", True),
                actor=actor,
                reason=_text(data, "reason"),
                now=now,
            )
    except (NotFoundError, ConflictError) as exc:
        return _error(exc)
    return json_response(result.view(), 200, NO_STORE)


async def revoke(request: Request[AppState]) -> Response:
    return await _token_action(request, approve=False)


async def approve(request: Request[AppState]) -> Response:
    return await _token_action(request, approve=True)
