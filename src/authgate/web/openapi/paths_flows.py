"""OpenAPI path entries: the browser flow (authorization endpoint, sign-in, consent, logout),
UserInfo, revocation, introspection and the device authorization endpoints.

Pages answer HTML (200, or an error page with 400/403/404/429) or redirect (302/303 to the
client or to the next step); the JSON endpoints answer RFC 6749 §5.2 errors.
"""

from __future__ import annotations

from authgate.web.openapi.components import Schema, json_body, ref, with_errors

_HTML: Schema = {"text/html": {"schema": {"type": "string"}}}
_LOCATION: Schema = {"Location": {"description": "Where to go next.", "schema": {"type": "string"}}}


def _page_responses(*statuses: int) -> dict[str, Schema]:
    responses: dict[str, Schema] = {}
    for status in statuses:
        if status in (302, 303):
            responses[str(status)] = {"description": "A redirect.", "headers": _LOCATION}
        else:
            responses[str(status)] = {"description": "A page.", "content": _HTML}
    return responses


def _form(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    # Unknown parameters are ignored (RFC 6749 §3.1); closing the schema lets the fuzzer make
    # requests that break it, which must still get a page or a 4xx, never a 5xx.
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }


_STRING: Schema = {"type": "string"}
_AUTHORIZATION_PARAMS = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "response_mode",
    "nonce",
    "display",
    "prompt",
    "max_age",
    "ui_locales",
    "id_token_hint",
    "login_hint",
    "acr_values",
    "claims",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "request",
    "request_uri",
]
_PAGE_STATUSES = (200, 302, 303, 400, 403, 404, 429, 500, 503)
_INTERACTION: Schema = {
    "name": "interaction_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}


def _page_post(operation_id: str, summary: str, fields: dict[str, Schema]) -> Schema:
    return {
        "post": {
            "summary": summary,
            "operationId": operation_id,
            "security": [],
            "parameters": [_INTERACTION],
            "requestBody": _form({**fields, "csrf_token": _STRING}),
            "responses": _page_responses(*_PAGE_STATUSES, 413),
        }
    }


_TOKEN_FORM: Schema = _form(
    {"token": _STRING, "token_type_hint": _STRING, "client_id": _STRING, "client_secret": _STRING},
    ["token"],
)
_CLIENT_AUTH: list[dict[str, list[str]]] = [{}, {"clientBasic": []}]
_IMAGE: Schema = {
    "description": "The image.",
    "content": {
        "image/svg+xml": {"schema": {"type": "string"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
    },
}

PATHS: dict[str, Schema] = {
    "/authorize": {
        "get": {
            "summary": "The authorization endpoint (OIDC Core §3.1.2)",
            "operationId": "authorize",
            "security": [],
            "parameters": [
                {"name": n, "in": "query", "required": False, "schema": _STRING}
                for n in _AUTHORIZATION_PARAMS
            ],
            "responses": _page_responses(*_PAGE_STATUSES),
        },
        "post": {
            "summary": "The authorization endpoint, form serialisation (OIDC Core §3.1.2.1)",
            "operationId": "authorizePost",
            "security": [],
            "requestBody": _form({n: _STRING for n in _AUTHORIZATION_PARAMS}),
            "responses": _page_responses(*_PAGE_STATUSES, 413),
        },
    },
    "/interaction/{interaction_id}": {
        "get": {
            "summary": "The current step of a pending authorization (sign in, choose, consent)",
            "operationId": "interaction",
            "security": [],
            "parameters": [_INTERACTION],
            "responses": _page_responses(*_PAGE_STATUSES),
        }
    },
    "/interaction/{interaction_id}/login": _page_post(
        "login", "Sign in", {"username": _STRING, "password": _STRING}
    ),
    "/interaction/{interaction_id}/select": _page_post(
        "selectAccount", "Choose a signed-in account", {"account": _STRING}
    ),
    "/interaction/{interaction_id}/consent": _page_post(
        "consent", "Approve or deny", {"decision": {"type": "string", "enum": ["approve", "deny"]}}
    ),
    "/logout": {
        method: {
            "summary": "RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)",
            "operationId": f"logout{method.title()}",
            "security": [],
            **(
                {
                    "parameters": [
                        {"name": n, "in": "query", "required": False, "schema": _STRING}
                        for n in (
                            "id_token_hint",
                            "post_logout_redirect_uri",
                            "state",
                            "client_id",
                            "ui_locales",
                        )
                    ]
                }
                if method == "get"
                else {"requestBody": _form({"csrf_token": _STRING, "state": _STRING})}
            ),
            "responses": _page_responses(*_PAGE_STATUSES, *((413,) if method == "post" else ())),
        }
        for method in ("get", "post")
    },
    "/userinfo": {
        method: {
            "summary": "UserInfo (OIDC Core §5.3), Bearer access token (RFC 6750)",
            "operationId": f"userinfo{method.title()}",
            "security": [{"bearer": []}],
            **({"requestBody": _form({"access_token": _STRING})} if method == "post" else {}),
            "responses": with_errors(
                {
                    "200": json_body({"type": "object", "required": ["sub"]}, "Claims."),
                    "401": json_body(ref("OAuthError"), "invalid_token (RFC 6750 §3.1)"),
                    "403": json_body(ref("OAuthError"), "insufficient_scope"),
                },
                *((400, 413) if method == "post" else (400,)),
                500,
                503,
            ),
        }
        for method in ("get", "post")
    },
    "/revoke": {
        "post": {
            "summary": "Token revocation (RFC 7009)",
            "operationId": "revoke",
            "security": _CLIENT_AUTH,
            "requestBody": _TOKEN_FORM,
            "responses": with_errors(
                {"200": {"description": "Revoked, or nothing to revoke (RFC 7009 §2.2)."}},
                *(400, 401, 413, 500, 503),
            ),
        }
    },
    "/introspect": {
        "post": {
            "summary": "Token introspection (RFC 7662)",
            "operationId": "introspect",
            "security": _CLIENT_AUTH,
            "requestBody": _TOKEN_FORM,
            "responses": with_errors(
                {"200": json_body(ref("Introspection"), "RFC 7662 §2.2 response.")},
                *(400, 401, 413, 500, 503),
            ),
        }
    },
    "/device": {
        "get": {
            "summary": "The device verification page (RFC 8628 §3.3): enter the code",
            "operationId": "deviceEntry",
            "security": [],
            "parameters": [
                {"name": n, "in": "query", "required": False, "schema": _STRING}
                for n in ("user_code", "ui_locales")
            ],
            "responses": _page_responses(*_PAGE_STATUSES),
        },
        "post": {
            "summary": "Submit the code shown on the device",
            "operationId": "deviceSubmitCode",
            "security": [],
            "requestBody": _form({"user_code": _STRING, "csrf_token": _STRING}),
            "responses": _page_responses(*_PAGE_STATUSES, 413),
        },
    },
    "/device/{interaction_id}": {
        "get": {
            "summary": "The current step of a device verification (sign in, consent, result)",
            "operationId": "deviceStep",
            "security": [],
            "parameters": [_INTERACTION],
            "responses": _page_responses(*_PAGE_STATUSES),
        }
    },
    "/device/{interaction_id}/login": _page_post(
        "deviceLogin", "Sign in to approve a device", {"username": _STRING, "password": _STRING}
    ),
    "/device/{interaction_id}/consent": _page_post(
        "deviceConsent",
        "Approve or deny the device",
        {"decision": {"type": "string", "enum": ["approve", "deny"]}},
    ),
    "/device/{interaction_id}/another": _page_post(
        "deviceAnotherAccount", "Use another account", {}
    ),
    "/device_authorization": {
        "post": {
            "summary": "Device authorization (RFC 8628 §3.1)",
            "operationId": "deviceAuthorization",
            "security": _CLIENT_AUTH,
            "requestBody": _form({"client_id": _STRING, "scope": _STRING, "resource": _STRING}),
            "responses": with_errors(
                {"200": json_body(ref("DeviceAuthorization"), "RFC 8628 §3.2 response.")},
                *(400, 401, 413, 429, 500, 503),
            ),
        }
    },
    "/device/qr": {
        "get": {
            "summary": "A QR code of verification_uri_complete (SVG, or PNG with format=png)",
            "operationId": "deviceQr",
            "security": [],
            "parameters": [
                {"name": "user_code", "in": "query", "required": True, "schema": _STRING},
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["svg", "png"]},
                },
            ],
            "responses": with_errors({"200": _IMAGE}, 400, 500),
        }
    },
}
