"""JSON views of stored records for the CLI's --json and the admin API (never a secret)."""

from __future__ import annotations

from datetime import datetime

from authgate.core.models import AuditEntry, Client, Resource, SigningKey, User

View = dict[str, object]


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def client_view(client: Client, secret: str | None = None) -> View:
    view: View = {
        "client_id": client.client_id,
        "client_name": client.name,
        "token_endpoint_auth_method": client.auth_method.value,
        "public": client.is_public,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": sorted(g.value for g in client.grant_types),
        "scope": " ".join(sorted(client.scope)),
        "require_pkce": client.require_pkce,
        "authorization_details_types": sorted(client.authorization_details_types),
        "can_introspect": client.can_introspect,
        "jwks_uri": client.jwks_uri,
        "has_jwks": client.jwks is not None,
        "id_token_signed_response_alg": client.id_token_signed_response_alg.value,
        "access_token_format": client.access_token_format.value
        if client.access_token_format
        else None,
        "rotate_refresh_tokens": client.rotate_refresh_tokens,
        "application_type": client.application_type.value,
        "logo_uri": client.logo_uri,
        "policy_uri": client.policy_uri,
        "tos_uri": client.tos_uri,
        "client_uri": client.client_uri,
        "created_at": _ts(client.created_at),
        "updated_at": _ts(client.updated_at),
        "retired_at": _ts(client.retired_at),
    }
    if secret is not None:
        view["client_secret"] = secret
    return view


def user_view(user: User) -> View:
    return {
        "sub": user.sub,
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "created_at": _ts(user.created_at),
        "updated_at": _ts(user.updated_at),
        "disabled_at": _ts(user.disabled_at),
    }


def resource_view(resource: Resource) -> View:
    return {
        "uri": resource.uri,
        "format": resource.access_token_format.value,
        "alg": resource.alg.value,
        "ttl": resource.access_token_ttl,
        "created_at": _ts(resource.created_at),
    }


def key_view(key: SigningKey) -> View:
    return {
        "kid": key.kid,
        "alg": key.alg.value,
        "created_at": _ts(key.created_at),
        "active_from": _ts(key.active_from),
        "retired_at": _ts(key.retired_at),
        "publish_until": _ts(key.publish_until),
    }


def audit_view(entry: AuditEntry) -> View:
    return {
        "id": entry.id,
        "at": _ts(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target": entry.target,
        "cascade": entry.cascade,
        "reason": entry.reason,
        "count": entry.count,
    }
