"""OpenAPI path entries: the operator API under /admin (the CLI's commands over HTTP)."""

from __future__ import annotations

from authgate.web.openapi.components import (
    WWW_AUTHENTICATE,
    Schema,
    items,
    json_body,
    oauth_errors,
    ref,
)

_SECURITY: list[dict[str, list[str]]] = [{"adminBearer": []}]


def _json_request(schema: Schema, *, required: bool = True) -> Schema:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Schema],
    *,
    body: Schema | None = None,
    parameters: list[Schema] | None = None,
) -> Schema:
    errors: dict[str, Schema] = {
        "401": json_body(ref("OAuthError"), "A missing or wrong admin token.", WWW_AUTHENTICATE),
        "404": json_body(ref("AdminError"), "Not found, or the admin API is off."),
        **oauth_errors(500, 503),
    }
    if body is not None:
        errors.update(oauth_errors(400, 413))
    operation: Schema = {
        "summary": summary,
        "operationId": operation_id,
        "security": _SECURITY,
        "responses": {**responses, **errors},
    }
    if body is not None:
        operation["requestBody"] = body
    if parameters:
        operation["parameters"] = parameters
    return operation


def _path(name: str, enum: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "string"} if enum is None else {"enum": enum}
    return {"name": name, "in": "path", "required": True, "schema": schema}


_CLIENT = json_body(ref("Client"), "The client (with its secret when one was just issued).")
_CLIENT_CHANGES: Schema = {
    "allOf": [ref("ClientRegistration")],
    "properties": {"new_secret": {"type": "boolean"}},
}
_NEW_USER: Schema = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string"},
        "password": {"type": "string"},
        "email": {"type": "string"},
        "name": {"type": "string"},
    },
}
_NEW_RESOURCE: Schema = {
    "type": "object",
    "required": ["uri"],
    "properties": {
        "uri": {"type": "string"},
        "format": {"enum": ["jwt", "opaque"]},
        "alg": {"enum": ["ES256", "RS256"]},
        "ttl": {"type": ["integer", "null"], "minimum": 1},
    },
}
_CONFLICT = {"409": json_body(ref("AdminError"), "It exists already.")}
_USER = json_body(ref("User"), "The user.")

PATHS: dict[str, Schema] = {
    "/admin/clients": {
        "get": _operation("listClients", "List clients", {"200": json_body(items("Client"), "")}),
        "post": _operation(
            "createClient",
            "Register a client; its secret is shown once",
            {"201": _CLIENT, **_CONFLICT},
            body=_json_request({"allOf": [ref("ClientRegistration")], "required": ["name"]}),
        ),
    },
    "/admin/clients/{client_id}": {
        "parameters": [_path("client_id")],
        "get": _operation("getClient", "Show a client", {"200": _CLIENT}),
        "patch": _operation(
            "updateClient",
            "Change a client's registration",
            {"200": _CLIENT},
            body=_json_request(_CLIENT_CHANGES),
        ),
        "delete": _operation(
            "deleteClient",
            "Delete a client and everything it holds",
            {"204": {"description": "Deleted."}},
        ),
    },
    "/admin/clients/{client_id}/{action}": {
        "post": _operation(
            "setClientState",
            "Retire (revoke) or restore (approve) a client",
            {"200": _CLIENT},
            parameters=[
                _path("client_id"),
                _path("action", ["revoke", "approve"]),
                {"name": "reason", "in": "query", "schema": {"type": "string"}},
            ],
        ),
    },
    "/admin/users": {
        "get": _operation("listUsers", "List users", {"200": json_body(items("User"), "")}),
        "post": _operation(
            "createUser",
            "Create a user",
            {"201": _USER, **_CONFLICT},
            body=_json_request(_NEW_USER),
        ),
    },
    "/admin/users/{who}": {
        "get": _operation("getUser", "Show a user (by sub or username)", {"200": _USER}),
        "parameters": [_path("who")],
    },
    "/admin/users/{who}/{action}": {
        "post": _operation(
            "changeUser",
            "Set a user's password (body {password}), disable or enable the user",
            {"200": _USER},
            body=_json_request(
                {"type": "object", "properties": {"password": {"type": "string"}}},
                required=False,
            ),
            parameters=[_path("who"), _path("action", ["password", "disable", "enable"])],
        ),
    },
    "/admin/resources": {
        "get": _operation(
            "listResources", "List resource servers", {"200": json_body(items("Resource"), "")}
        ),
        "post": _operation(
            "createResource",
            "Register a resource server (RFC 8707)",
            {"201": json_body(ref("Resource"), "The resource server."), **_CONFLICT},
            body=_json_request(_NEW_RESOURCE),
        ),
    },
    "/admin/keys": {
        "get": _operation(
            "listKeys", "List signing keys", {"200": json_body(items("SigningKey"), "")}
        ),
    },
    "/admin/keys/rotate": {
        "post": _operation(
            "rotateKeys",
            "New signing keys; the old stay published until their tokens expire",
            {"200": json_body(items("SigningKey"), "Every key, the new ones included.")},
        ),
    },
    "/admin/tokens/revoke": {
        "post": _operation(
            "revokeTokens",
            "Revoke a token (with cascade) or, in bulk, a client's or user's tokens",
            {
                "200": json_body({"type": "object"}, "What changed."),
                "409": json_body(ref("AdminError"), "Refused."),
            },
            body=_json_request(
                {
                    "type": "object",
                    "properties": {
                        "token": {"type": "string"},
                        "type": {"type": "string", "enum": ["access", "refresh"]},
                        "cascade": {"type": "boolean"},
                        "client_id": {"type": "string"},
                        "user": {"type": "string"},
                        "before": {"type": "string"},
                        "dry_run": {"type": "boolean"},
                        "reason": {"type": "string"},
                    },
                }
            ),
        ),
    },
    "/admin/tokens/approve": {
        "post": _operation(
            "approveToken",
            "Undo an operator revocation",
            {
                "200": json_body({"type": "object"}, "What changed."),
                "409": json_body(
                    ref("AdminError"), "Refused (expired, or not revoked by an operator)."
                ),
            },
            body=_json_request(
                {
                    "type": "object",
                    "required": ["token"],
                    "properties": {
                        "token": {"type": "string"},
                        "type": {"type": "string", "enum": ["access", "refresh"]},
                        "cascade": {"type": "boolean"},
                        "reason": {"type": "string"},
                    },
                }
            ),
        ),
    },
    "/admin/audit": {
        "get": _operation(
            "listAudit", "Recent operator actions", {"200": json_body(items("AuditEntry"), "")}
        ),
    },
}
