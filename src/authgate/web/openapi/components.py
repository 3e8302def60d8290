"""Shared pieces of the OpenAPI description: schemas, security schemes, responses."""

from __future__ import annotations

Schema = dict[str, object]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: Schema, description: str, headers: dict[str, object] | None = None) -> Schema:
    """A response with a JSON body."""
    response: Schema = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER: Schema = {
    "Retry-After": {
        "description": "Seconds to wait before retrying (RFC 9110 §10.2.3).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
WWW_AUTHENTICATE: Schema = {
    "WWW-Authenticate": {"description": "The authentication scheme.", "schema": {"type": "string"}}
}

_OAUTH_ERROR_TEXT = {
    400: "invalid_request, invalid_grant, invalid_scope, unsupported_grant_type …",
    401: "invalid_client: client authentication failed",
    413: "invalid_request: the body is larger than max_body_bytes",
    429: "temporarily_unavailable: a rate limit was reached",
    500: "server_error",
    503: "temporarily_unavailable: the database cannot be reached",
}


def oauth_errors(*statuses: int) -> dict[str, Schema]:
    """RFC 6749 §5.2 error responses for the given status codes."""
    out: dict[str, Schema] = {}
    for status in statuses:
        headers = (
            RETRY_AFTER if status in (429, 503) else WWW_AUTHENTICATE if status == 401 else None
        )
        out[str(status)] = json_body(ref("OAuthError"), _OAUTH_ERROR_TEXT[status], headers)
    return out


def with_errors(responses: dict[str, Schema], *statuses: int) -> dict[str, Schema]:
    """`responses` and the RFC 6749 §5.2 errors of `statuses`."""
    return {**responses, **oauth_errors(*statuses)}


_TIMESTAMP: Schema = {"type": ["string", "null"], "format": "date-time"}
_STRINGS: Schema = {"type": "array", "items": {"type": "string"}}

SCHEMAS: dict[str, Schema] = {
    "Introspection": {
        "type": "object",
        "description": 'RFC 7662 §2.2; an inactive token is exactly {"active": false}.',
        "required": ["active"],
        "properties": {
            "active": {"type": "boolean"},
            "scope": {"type": "string"},
            "client_id": {"type": "string"},
            "username": {"type": "string"},
            "token_type": {"type": "string"},
            "exp": {"type": "integer"},
            "iat": {"type": "integer"},
            "nbf": {"type": "integer"},
            "sub": {"type": "string"},
            "aud": {"type": "string"},
            "iss": {"type": "string"},
            "jti": {"type": "string"},
            "authorization_details": {"type": "array", "items": {"type": "object"}},
        },
    },
    "DeviceAuthorization": {
        "type": "object",
        "description": "RFC 8628 §3.2 device authorization response.",
        "required": [
            "device_code",
            "user_code",
            "verification_uri",
            "verification_uri_complete",
            "expires_in",
            "interval",
        ],
        "properties": {
            "device_code": {"type": "string"},
            "user_code": {
                "type": "string",
                "pattern": "^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$",
            },
            "verification_uri": {"type": "string"},
            "verification_uri_complete": {"type": "string"},
            "expires_in": {"type": "integer"},
            "interval": {"type": "integer"},
        },
    },
    "OAuthError": {
        "type": "object",
        "description": "RFC 6749 §5.2 error response.",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "pattern": "^[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]+$"},
            "error_description": {
                "type": "string",
                "pattern": "^[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]+$",
            },
        },
    },
    "TokenResponse": {
        "type": "object",
        "description": "RFC 6749 §5.1 successful token response.",
        "required": ["access_token", "token_type", "expires_in"],
        "properties": {
            "access_token": {"type": "string", "minLength": 1},
            "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer", "minimum": 1},
            "scope": {"type": "string"},
            "refresh_token": {"type": "string"},
            "id_token": {"type": "string"},
            "authorization_details": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Metadata": {
        "type": "object",
        "description": "RFC 8414 §2 / OpenID Connect Discovery 1.0 §3 provider metadata.",
        "required": [
            "issuer",
            "token_endpoint",
            "jwks_uri",
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
        ],
        "properties": {
            "issuer": {"type": "string", "format": "uri"},
            "token_endpoint": {"type": "string", "format": "uri"},
            "jwks_uri": {"type": "string", "format": "uri"},
            "grant_types_supported": _STRINGS,
            "scopes_supported": _STRINGS,
        },
    },
    "JWKS": {
        "type": "object",
        "description": "RFC 7517 §5 JWK Set (public keys only).",
        "required": ["keys"],
        "properties": {
            "keys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kty", "kid"],
                    "not": {"required": ["d"]},
                    "properties": {"kty": {"type": "string"}, "kid": {"type": "string"}},
                },
            }
        },
    },
    "Status": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": ["ok", "ready"]}},
    },
    "AdminError": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    },
    "ClientRegistration": {
        "type": "object",
        "description": "What the operator asks for (RFC 7591 §2 metadata, named as in the CLI).",
        "properties": {
            "name": {"type": "string"},
            "redirect_uris": _STRINGS,
            "post_logout_redirect_uris": _STRINGS,
            "grant_types": _STRINGS,
            "scope": {"type": ["string", "null"]},
            "auth_method": {"type": ["string", "null"]},
            "public": {"type": "boolean"},
            "authorization_details_types": _STRINGS,
            "can_introspect": {"type": "boolean"},
            "require_pkce": {"type": "boolean"},
            "jwks": {"type": ["string", "null"]},
            "jwks_uri": {"type": ["string", "null"]},
            "id_token_signed_response_alg": {"type": ["string", "null"]},
            "access_token_format": {"enum": ["opaque", "jwt", None]},
            "rotate_refresh_tokens": {"type": "boolean"},
            "application_type": {"enum": ["web", "native", None]},
            "logo_uri": {"type": ["string", "null"]},
            "policy_uri": {"type": ["string", "null"]},
            "tos_uri": {"type": ["string", "null"]},
            "client_uri": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    },
    "Client": {
        "type": "object",
        "required": ["client_id", "client_name", "token_endpoint_auth_method", "grant_types"],
        "properties": {
            "client_id": {"type": "string"},
            "client_secret": {"type": "string", "description": "Shown once, on creation."},
            "client_name": {"type": "string"},
            "token_endpoint_auth_method": {"type": "string"},
            "public": {"type": "boolean"},
            "redirect_uris": _STRINGS,
            "grant_types": _STRINGS,
            "scope": {"type": "string"},
            "created_at": _TIMESTAMP,
            "retired_at": _TIMESTAMP,
        },
    },
    "User": {
        "type": "object",
        "required": ["sub", "username"],
        "properties": {
            "sub": {"type": "string"},
            "username": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "email_verified": {"type": "boolean"},
            "name": {"type": ["string", "null"]},
            "disabled_at": _TIMESTAMP,
        },
    },
    "Resource": {
        "type": "object",
        "required": ["uri", "format", "alg"],
        "properties": {
            "uri": {"type": "string"},
            "format": {"enum": ["jwt", "opaque"]},
            "alg": {"enum": ["ES256", "RS256"]},
            "ttl": {"type": ["integer", "null"]},
        },
    },
    "SigningKey": {
        "type": "object",
        "required": ["kid", "alg", "active_from"],
        "properties": {
            "kid": {"type": "string"},
            "alg": {"type": "string"},
            "active_from": _TIMESTAMP,
            "retired_at": _TIMESTAMP,
            "publish_until": _TIMESTAMP,
        },
    },
    "AuditEntry": {
        "type": "object",
        "required": ["at", "actor", "action", "target_type", "target"],
        "properties": {
            "id": {"type": ["integer", "null"]},
            "at": _TIMESTAMP,
            "actor": {"type": "string"},
            "action": {"type": "string"},
            "target_type": {"type": "string"},
            "target": {"type": "string"},
            "count": {"type": "integer"},
        },
    },
}


def items(name: str) -> Schema:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref(name)}},
    }


COMPONENTS: Schema = {
    "schemas": SCHEMAS,
    "securitySchemes": {
        "clientBasic": {
            "type": "http",
            "scheme": "basic",
            "description": "RFC 6749 §2.3.1 client_secret_basic (form fields are the other ways).",
        },
        "adminBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The admin_token setting; the admin API answers 404 when it is unset.",
        },
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token (RFC 6750 §2.1).",
        },
        "metricsBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The metrics_token setting (see docs/operations.md).",
        },
    },
}
