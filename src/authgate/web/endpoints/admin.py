"""The operator API under /admin: the CLI's client, user, resource, key and audit commands
over HTTP, JSON in and out, behind `Authorization: Bearer <AUTHGATE_ADMIN_TOKEN>`.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authgate.core.client_metadata import ClientRegistration
from authgate.core.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    to_error_charset,
)
from authgate.flows import audit, clients, keys, resources, users, views
from authgate.web.admin_auth import require_admin
from authgate.web.endpoints import admin_tokens
from authgate.web.forms import read_body
from authgate.web.responses import NO_STORE, json_response
from authgate.web.state import AppState

_REGISTRATION_FIELDS = {f.name for f in dataclasses.fields(ClientRegistration)}


async def _json(request: Request[AppState]) -> dict[str, object]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidRequestError("Content-Type must be application/json")
    try:
        data = json.loads(await read_body(request))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise InvalidRequestError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("the body must be a JSON object")
    return data


def _registration_changes(data: dict[str, object]) -> dict[str, object]:
    unknown = sorted(set(data) - _REGISTRATION_FIELDS)
    if unknown:
        raise InvalidRequestError(
            to_error_charset(f"unknown client fields: {', '.join(unknown)}"[:200])
        )
    changes: dict[str, object] = {}
    for key, value in data.items():
        if key in {
            "redirect_uris",
            "post_logout_redirect_uris",
            "grant_types",
            "authorization_details_types",
        }:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidRequestError(f"{key} must be a list of strings")
            value = tuple(value)
        elif not _SCALAR_TYPES[key](value):
            raise InvalidRequestError(f"{key} has the wrong type")
        changes[key] = value
    return changes


# What JSON value each scalar field of ClientRegistration takes (its annotation).
_SCALAR_TYPES = {
    f.name: {
        "bool": lambda v: isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
    }.get(str(f.type), lambda v: v is None or isinstance(v, str))
    for f in dataclasses.fields(ClientRegistration)
}


def _ok(body: object, status: int = 200) -> Response:
    return json_response(body if isinstance(body, dict) else {"items": body}, status, NO_STORE)


def _error(exc: NotFoundError | ConflictError) -> Response:
    status = 404 if isinstance(exc, NotFoundError) else 409
    return json_response(
        {"error": type(exc).__name__, "error_description": str(exc)}, status, NO_STORE
    )


def _now() -> datetime:
    return datetime.now(UTC)


async def client_list(request: Request[AppState]) -> Response:
    require_admin(request)
    return _ok(
        [views.client_view(c) for c in await clients.list_clients(request.state["ctx"].store)]
    )


async def client_create(request: Request[AppState]) -> Response:
    require_admin(request)
    changes = _registration_changes(await _json(request))
    if not isinstance(changes.get("name"), str):
        raise InvalidRequestError("name is required")
    reg = ClientRegistration(**changes)  # type: ignore[arg-type]
    ctx = request.state["ctx"]
    client, secret = await clients.create_client(ctx.store, ctx.settings, reg, now=_now())
    return _ok(views.client_view(client, secret), 201)


async def client_item(request: Request[AppState]) -> Response:
    actor = require_admin(request)
    ctx = request.state["ctx"]
    client_id = request.path_params["client_id"]
    try:
        if request.method == "GET":
            return _ok(views.client_view(await clients.get_client(ctx.store, client_id)))
        if request.method == "DELETE":
            await clients.delete_client(ctx.store, client_id, actor=actor, now=_now())
            return Response(status_code=204, headers=NO_STORE)
        data = await _json(request)
        new_secret = bool(data.pop("new_secret", False))
        client, secret = await clients.update_client(
            ctx.store,
            ctx.settings,
            client_id,
            _registration_changes(data),
            new_secret=new_secret,
            now=_now(),
        )
        return _ok(views.client_view(client, secret))
    except NotFoundError as exc:
        return _error(exc)


async def client_state(request: Request[AppState]) -> Response:
    actor = require_admin(request)
    if request.path_params["action"] not in {"revoke", "approve"}:
        raise HTTPException(404)
    retire = request.path_params["action"] == "revoke"
    reason = request.query_params.get("reason")
    try:
        client = await clients.set_retired(
            request.state["ctx"].store,
            request.path_params["client_id"],
            retired=retire,
            actor=actor,
            reason=reason,
            now=_now(),
        )
    except NotFoundError as exc:
        return _error(exc)
    return _ok(views.client_view(client))


async def user_list(request: Request[AppState]) -> Response:
    require_admin(request)
    return _ok([views.user_view(u) for u in await users.list_users(request.state["ctx"].store)])


async def user_create(request: Request[AppState]) -> Response:
    require_admin(request)
    data = await _json(request)
    fields = {k: data.get(k) for k in ("username", "password", "email", "name")}
    if not isinstance(fields["username"], str) or not isinstance(fields["password"], str):
        raise InvalidRequestError("username and password are required strings")
    try:
        user = await users.create_user(
            request.state["ctx"].store,
            username=fields["username"],
            password=fields["password"],
            email=fields["email"] if isinstance(fields["email"], str) else None,
            name=fields["name"] if isinstance(fields["name"], str) else None,
            now=_now(),
        )
    except ConflictError as exc:
        return _error(exc)
    return _ok(views.user_view(user), 201)


async def user_item(request: Request[AppState]) -> Response:
    require_admin(request)
    store = request.state["ctx"].store
    who = request.path_params["who"]
    action = request.path_params.get("action")
    if action not in {None, "password", "disable", "enable"}:
        raise HTTPException(404)
    try:
        if action is None:
            user = await users.get_user(store, who)
        elif action == "password":
            password = (await _json(request)).get("password")
            if not isinstance(password, str):
                raise InvalidRequestError("password is required")
            user = await users.set_password(store, who, password, now=_now())
        else:
            user = await users.set_disabled(store, who, disabled=action == "disable", now=_now())
    except NotFoundError as exc:
        return _error(exc)
    return _ok(views.user_view(user))


async def resource_list(request: Request[AppState]) -> Response:
    require_admin(request)
    store = request.state["ctx"].store
    if request.method == "GET":
        return _ok([views.resource_view(r) for r in await resources.list_resources(store)])
    data = await _json(request)
    uri, fmt, alg, ttl = (
        data.get("uri"),
        data.get("format", "jwt"),
        data.get("alg", "RS256"),
        data.get("ttl"),
    )
    if not isinstance(uri, str) or not isinstance(fmt, str) or not isinstance(alg, str):
        raise InvalidRequestError("uri, format and alg must be strings")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool)):
        raise InvalidRequestError("ttl must be a whole number of seconds")
    try:
        resource = await resources.create_resource(
            store, uri=uri, token_format=fmt, alg=alg, ttl=ttl, now=_now()
        )
    except ConflictError as exc:
        return _error(exc)
    return _ok(views.resource_view(resource), 201)


async def key_list(request: Request[AppState]) -> Response:
    require_admin(request)
    ctx = request.state["ctx"]
    if request.method == "POST":
        await keys.rotate_keys(ctx.store, ctx.settings, now=_now())
        ctx.keys.invalidate()
    return _ok([views.key_view(k) for k in await keys.list_keys(ctx.store)])


async def audit_list(request: Request[AppState]) -> Response:
    require_admin(request)
    entries = await audit.list_entries(request.state["ctx"].store)
    return _ok([views.audit_view(e) for e in entries])


routes = [
    Route("/admin/clients", client_list, methods=["GET"]),
    Route("/admin/clients", client_create, methods=["POST"]),
    Route("/admin/clients/{client_id}", client_item, methods=["GET", "PATCH", "DELETE"]),
    Route("/admin/clients/{client_id}/{action}", client_state, methods=["POST"]),
    Route("/admin/users", user_list, methods=["GET"]),
    Route("/admin/users", user_create, methods=["POST"]),
    Route("/admin/users/{who}", user_item, methods=["GET"]),
    Route("/admin/users/{who}/{action}", user_item, methods=["POST"]),
    Route("/admin/resources", resource_list, methods=["GET", "POST"]),
    Route("/admin/keys", key_list, methods=["GET"]),
    Route("/admin/keys/rotate", key_list, methods=["POST"]),
    Route("/admin/audit", audit_list, methods=["GET"]),
    # token revocation and approval (issue 4)
    Route("/admin/tokens/revoke", admin_tokens.revoke, methods=["POST"]),
    Route("/admin/tokens/approve", admin_tokens.approve, methods=["POST"]),
]
