"""OpenAPI path entries: discovery, JWKS, the token endpoint, health, metrics, this document."""

from __future__ import annotations

from authgate.web.openapi.components import Schema, json_body, ref, with_errors

_METADATA: Schema = {
    "summary": "Provider metadata (RFC 8414 §3, OpenID Connect Discovery 1.0 §4)",
    "operationId": "{}",
    "security": [],
    "responses": {"200": json_body(ref("Metadata"), "The metadata document.")},
}

_TOKEN_FORM: Schema = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {
            "type": "string",
            "description": "RFC 6749 §4: a grant type listed in grant_types_supported.",
            "examples": ["client_credentials"],
        },
        "scope": {"type": "string"},
        "resource": {"type": "string", "description": "RFC 8707 §2 resource indicator."},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "client_assertion_type": {"type": "string"},
        "client_assertion": {"type": "string"},
    },
}


def _metadata(operation_id: str) -> Schema:
    return {"get": {**_METADATA, "operationId": operation_id}}


PATHS: dict[str, Schema] = {
    "/.well-known/openid-configuration": _metadata("openidConfiguration"),
    "/.well-known/oauth-authorization-server": _metadata("oauthAuthorizationServer"),
    "/jwks": {
        "get": {
            "summary": "The public signing keys (RFC 7517 §5)",
            "operationId": "jwks",
            "security": [],
            "responses": with_errors(
                {"200": json_body(ref("JWKS"), "The JWK Set, including retired keys.")}, 500, 503
            ),
        }
    },
    "/token": {
        "post": {
            "summary": "The token endpoint (RFC 6749 §3.2)",
            "operationId": "token",
            "security": [{}, {"clientBasic": []}],
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": _TOKEN_FORM}},
            },
            "responses": with_errors(
                {"200": json_body(ref("TokenResponse"), "Tokens (RFC 6749 §5.1).")},
                *(400, 401, 413, 429, 500, 503),
            ),
        }
    },
    "/healthz": {
        "get": {
            "summary": "Liveness: the process answers",
            "operationId": "healthz",
            "security": [],
            "responses": {"200": json_body(ref("Status"), "Alive.")},
        }
    },
    "/readyz": {
        "get": {
            "summary": "Readiness: the database answers and its schema is current",
            "operationId": "readyz",
            "security": [],
            "responses": with_errors({"200": json_body(ref("Status"), "Ready.")}, 500, 503),
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics (text exposition format)",
            "operationId": "metrics",
            "security": [{}, {"metricsBearer": []}],
            "responses": {
                "200": {
                    "description": "The metrics.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "401": json_body(ref("OAuthError"), "metrics_token is set: bearer required."),
                "404": json_body(ref("OAuthError"), "Off: no metrics_token, public issuer."),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This description (OpenAPI 3.1)",
            "operationId": "openapi",
            "security": [],
            "responses": {"200": json_body({"type": "object"}, "The OpenAPI document.")},
        }
    },
}
