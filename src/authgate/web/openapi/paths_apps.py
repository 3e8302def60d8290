"""OpenAPI path entries: the connected apps page (issue 5), where a signed-in user sees the
apps holding offline access to their account and removes one.
"""

from __future__ import annotations

from authgate.web.openapi.components import Schema
from authgate.web.openapi.paths_flows import _PAGE_STATUSES, _STRING, _form, _page_responses

_GRANT: Schema = {
    "name": "grant_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}

PATHS: dict[str, Schema] = {
    "/apps": {
        "get": {
            "summary": "Connected apps of the signed-in account, or a sign-in form",
            "operationId": "appsPage",
            "security": [],
            "parameters": [
                {"name": n, "in": "query", "required": False, "schema": _STRING}
                for n in ("revoked", "ui_locales")
            ],
            "responses": _page_responses(*_PAGE_STATUSES),
        }
    },
    "/apps/login": {
        "post": {
            "summary": "Sign in on the connected apps page (the limits of every login apply)",
            "operationId": "appsLogin",
            "security": [],
            "requestBody": _form({"username": _STRING, "password": _STRING, "csrf_token": _STRING}),
            "responses": _page_responses(*_PAGE_STATUSES, 413),
        }
    },
    "/apps/{grant_id}/revoke": {
        "post": {
            "summary": "Remove an app's access: revoke its grant and every token of it",
            "operationId": "appsRevoke",
            "security": [],
            "parameters": [_GRANT],
            "requestBody": _form({"csrf_token": _STRING}),
            "responses": _page_responses(*_PAGE_STATUSES, 413),
        }
    },
}
