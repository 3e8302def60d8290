"""Rows ↔ core.models records: the only place a column value becomes a typed field."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa

from authgate.core.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    DeviceCode,
    Grant,
    RefreshToken,
    Resource,
    SigningKey,
    TokenStatus,
    User,
)
from authgate.core.types import (
    AccessTokenFormat,
    ApplicationType,
    ClientAuthMethod,
    ClientId,
    DeviceStatus,
    GrantId,
    GrantType,
    RevokedBy,
    SigningAlg,
    Subject,
)
from authgate.store.sql import tables as t


class Row(Protocol):
    """A result row: SQLAlchemy's Row, or a PreparedRow; read through `_mapping`."""

    @property
    def _mapping(self) -> Mapping[Any, Any]: ...


M = TypeVar("M")


def json_list(values: Sequence[str] | frozenset[str]) -> str:
    return json.dumps(sorted(values) if isinstance(values, frozenset) else list(values))


def scope(value: frozenset[str]) -> str:
    return " ".join(sorted(value))


def scope_set(value: str) -> frozenset[str]:
    return frozenset(value.split()) if value else frozenset()


def client_values(c: Client) -> dict[str, object]:
    return {
        "client_id": c.client_id,
        "name": c.name,
        "secret_hash": c.secret_hash,
        "auth_method": c.auth_method.value,
        "redirect_uris": json_list(c.redirect_uris),
        "post_logout_redirect_uris": json_list(c.post_logout_redirect_uris),
        "grant_types": json_list(frozenset(g.value for g in c.grant_types)),
        "scope": scope(c.scope),
        "require_pkce": c.require_pkce,
        "authorization_details_types": json_list(c.authorization_details_types),
        "can_introspect": c.can_introspect,
        "jwks": c.jwks,
        "jwks_uri": c.jwks_uri,
        "id_token_signed_response_alg": c.id_token_signed_response_alg.value,
        "access_token_format": c.access_token_format.value if c.access_token_format else None,
        "rotate_refresh_tokens": c.rotate_refresh_tokens,
        "application_type": c.application_type.value,
        "logo_uri": c.logo_uri,
        "policy_uri": c.policy_uri,
        "tos_uri": c.tos_uri,
        "client_uri": c.client_uri,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "retired_at": c.retired_at,
    }


class ByRowValues(Generic[M]):
    """Parsed records by the exact values of their row, for rows read on every request that
    rarely change (a client, a resource server). The row is still read on every request (a
    change made by any process is seen at once); only the JSON and enum parsing of an
    unchanged row is skipped. The records are frozen, so one instance may serve every request.
    """

    __slots__ = ("_found", "_parse")

    MAX = 1024

    def __init__(self, parse: Callable[[Row], M]) -> None:
        self._parse = parse
        self._found: dict[tuple[object, ...], M] = {}

    def __call__(self, r: Row) -> M:
        key = tuple(r._mapping.values())
        found = self._found.get(key)
        if found is None:
            if len(self._found) >= self.MAX:
                self._found.clear()
            found = self._found[key] = self._parse(r)
        return found


def _parse_client(r: Row) -> Client:
    m = r._mapping
    return Client(
        client_id=ClientId(m["client_id"]),
        name=m["name"],
        secret_hash=m["secret_hash"],
        auth_method=ClientAuthMethod(m["auth_method"]),
        redirect_uris=tuple(json.loads(m["redirect_uris"])),
        post_logout_redirect_uris=tuple(json.loads(m["post_logout_redirect_uris"])),
        grant_types=frozenset(GrantType(g) for g in json.loads(m["grant_types"])),
        scope=scope_set(m["scope"]),
        require_pkce=bool(m["require_pkce"]),
        authorization_details_types=frozenset(json.loads(m["authorization_details_types"])),
        can_introspect=bool(m["can_introspect"]),
        jwks=m["jwks"],
        jwks_uri=m["jwks_uri"],
        id_token_signed_response_alg=SigningAlg(m["id_token_signed_response_alg"]),
        access_token_format=(
            AccessTokenFormat(m["access_token_format"]) if m["access_token_format"] else None
        ),
        rotate_refresh_tokens=bool(m["rotate_refresh_tokens"]),
        application_type=ApplicationType(m["application_type"]),
        logo_uri=m["logo_uri"],
        policy_uri=m["policy_uri"],
        tos_uri=m["tos_uri"],
        client_uri=m["client_uri"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        retired_at=m["retired_at"],
    )


USER_FIELDS = (
    "sub",
    "username",
    "password_hash",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "locale",
    "phone_number",
    "address",
    "created_at",
    "updated_at",
    "disabled_at",
)


client_from_row = ByRowValues(_parse_client)


def user_values(u: User) -> dict[str, object]:
    return {name: getattr(u, name) for name in USER_FIELDS}


def user_from_row(r: Row) -> User:
    m = r._mapping
    values = {name: m[name] for name in USER_FIELDS}
    values["sub"] = Subject(values["sub"])
    values["email_verified"] = bool(values["email_verified"])
    return User(**values)


def key_from_row(r: Row) -> SigningKey:
    m = r._mapping
    return SigningKey(
        kid=m["kid"],
        alg=SigningAlg(m["alg"]),
        private_jwk=m["private_jwk"],
        public_jwk=m["public_jwk"],
        created_at=m["created_at"],
        active_from=m["active_from"],
        retired_at=m["retired_at"],
        publish_until=m["publish_until"],
    )


def _parse_resource(r: Row) -> Resource:
    m = r._mapping
    return Resource(
        uri=m["uri"],
        access_token_format=AccessTokenFormat(m["access_token_format"]),
        alg=SigningAlg(m["alg"]),
        access_token_ttl=m["access_token_ttl"],
        created_at=m["created_at"],
    )


resource_from_row = ByRowValues(_parse_resource)


def access_token_values(a: AccessToken) -> dict[str, object]:
    return {
        "token_hash": a.token_hash,
        "jti": a.jti,
        "grant_id": a.grant_id,
        "client_id": a.client_id,
        "sub": a.sub,
        "scope": scope(a.scope),
        "audience": a.audience,
        "authorization_details": a.authorization_details,
        "token_format": a.token_format.value,
        "refresh_token_hash": a.refresh_token_hash,
        "issued_at": a.issued_at,
        "expires_at": a.expires_at,
        "revoked_at": a.revoked_at,
        "revoked_by": a.revoked_by.value if a.revoked_by else None,
    }


def access_token_from_row(r: Row) -> AccessToken:
    m = r._mapping
    return AccessToken(
        token_hash=m["token_hash"],
        jti=m["jti"],
        grant_id=GrantId(m["grant_id"]) if m["grant_id"] else None,
        client_id=ClientId(m["client_id"]),
        sub=Subject(m["sub"]) if m["sub"] else None,
        scope=scope_set(m["scope"]),
        audience=m["audience"],
        authorization_details=m["authorization_details"],
        token_format=AccessTokenFormat(m["token_format"]),
        refresh_token_hash=m["refresh_token_hash"],
        issued_at=m["issued_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        revoked_by=RevokedBy(m["revoked_by"]) if m["revoked_by"] else None,
    )


client_retired = t.clients.c.retired_at.label("client_retired_at")
user_disabled = t.users.c.disabled_at.label("user_disabled_at")
username = t.users.c.username.label("status_username")
grant_revoked = t.grants.c.revoked_at.label("grant_revoked_at")
grant_expires = t.grants.c.expires_at.label("grant_expires_at")

FIND_ACCESS_TOKEN = (
    sa.select(
        t.access_tokens, client_retired, user_disabled, username, grant_revoked, grant_expires
    )
    .select_from(
        t.access_tokens.join(t.clients, t.clients.c.client_id == t.access_tokens.c.client_id)
        .outerjoin(t.users, t.users.c.sub == t.access_tokens.c.sub)
        .outerjoin(t.grants, t.grants.c.grant_id == t.access_tokens.c.grant_id)
    )
    .where(t.access_tokens.c.token_hash == sa.bindparam("h"))
)


def status_from_row(r: Row) -> TokenStatus:
    m = r._mapping
    return TokenStatus(
        client_retired=m["client_retired_at"] is not None,
        user_disabled=m["user_disabled_at"] is not None,
        grant_revoked=m["grant_revoked_at"] is not None,
        grant_expires_at=m["grant_expires_at"],
        username=m["status_username"],
    )


def grant_values(g: Grant) -> dict[str, object]:
    return {
        "grant_id": g.grant_id,
        "client_id": g.client_id,
        "sub": g.sub,
        "scope": scope(g.scope),
        "authorization_details": g.authorization_details,
        "resource": g.resource,
        "claims": g.claims,
        "auth_time": g.auth_time,
        "acr": g.acr,
        "amr": json.dumps(list(g.amr)),
        "sid": g.sid,
        "nonce": g.nonce,
        "created_at": g.created_at,
        "expires_at": g.expires_at,
        "revoked_at": g.revoked_at,
        "revoked_by": g.revoked_by.value if g.revoked_by else None,
        "last_used_at": g.last_used_at,
    }


def grant_from_row(r: Row, prefix: str = "") -> Grant:
    m = r._mapping
    revoked_by = m[prefix + "revoked_by"]
    return Grant(
        grant_id=GrantId(m[prefix + "grant_id"]),
        client_id=ClientId(m[prefix + "client_id"]),
        sub=Subject(m[prefix + "sub"]) if m[prefix + "sub"] else None,
        scope=scope_set(m[prefix + "scope"]),
        authorization_details=m[prefix + "authorization_details"],
        resource=m[prefix + "resource"],
        claims=m[prefix + "claims"],
        auth_time=m[prefix + "auth_time"],
        acr=m[prefix + "acr"],
        amr=tuple(json.loads(m[prefix + "amr"] or "[]")),
        sid=m[prefix + "sid"],
        nonce=m[prefix + "nonce"],
        created_at=m[prefix + "created_at"],
        expires_at=m[prefix + "expires_at"],
        revoked_at=m[prefix + "revoked_at"],
        revoked_by=RevokedBy(revoked_by) if revoked_by else None,
        last_used_at=m[prefix + "last_used_at"],
    )


def code_values(c: AuthorizationCode) -> dict[str, object]:
    return {
        "code_hash": c.code_hash,
        "grant_id": c.grant_id,
        "client_id": c.client_id,
        "redirect_uri": c.redirect_uri,
        "code_challenge": c.code_challenge,
        "created_at": c.created_at,
        "expires_at": c.expires_at,
        "consumed_at": c.consumed_at,
    }


def code_from_row(r: Row) -> AuthorizationCode:
    m = r._mapping
    return AuthorizationCode(
        code_hash=m["code_hash"],
        grant_id=GrantId(m["grant_id"]),
        client_id=ClientId(m["client_id"]),
        redirect_uri=m["redirect_uri"],
        code_challenge=m["code_challenge"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        consumed_at=m["consumed_at"],
    )


def refresh_token_values(rt: RefreshToken) -> dict[str, object]:
    return {
        "token_hash": rt.token_hash,
        "grant_id": rt.grant_id,
        "client_id": rt.client_id,
        "parent_hash": rt.parent_hash,
        "scope": scope(rt.scope),
        "issued_at": rt.issued_at,
        "expires_at": rt.expires_at,
        "idle_expires_at": rt.idle_expires_at,
        "consumed_at": rt.consumed_at,
        "revoked_at": rt.revoked_at,
        "revoked_by": rt.revoked_by.value if rt.revoked_by else None,
        "replay_payload": rt.replay_payload,
        "replay_until": rt.replay_until,
    }


def refresh_token_from_row(r: Row) -> RefreshToken:
    m = r._mapping
    return RefreshToken(
        token_hash=m["token_hash"],
        grant_id=GrantId(m["grant_id"]),
        client_id=ClientId(m["client_id"]),
        parent_hash=m["parent_hash"],
        scope=scope_set(m["scope"]),
        issued_at=m["issued_at"],
        expires_at=m["expires_at"],
        idle_expires_at=m["idle_expires_at"],
        consumed_at=m["consumed_at"],
        revoked_at=m["revoked_at"],
        revoked_by=RevokedBy(m["revoked_by"]) if m["revoked_by"] else None,
        replay_payload=m["replay_payload"],
        replay_until=m["replay_until"],
    )


# A grant's columns under a prefix, for statements that join a token to its grant.
GRANT_COLUMNS = [c.label("g_" + c.name) for c in t.grants.c]


_DEVICE_FIELDS = (
    "device_code_hash",
    "user_code",
    "client_id",
    "authorization_details",
    "resource",
    "sub",
    "grant_id",
    "interval",
    "last_polled_at",
    "next_poll_at",
    "penalized",
    "created_at",
    "expires_at",
    "decided_at",
    "consumed_at",
    "request_ip",
    "request_user_agent",
)


def device_code_values(d: DeviceCode) -> dict[str, object]:
    values = {name: getattr(d, name) for name in _DEVICE_FIELDS}
    values["scope"] = scope(d.scope)
    values["status"] = d.status.value
    return values


def device_code_from_row(r: Row) -> DeviceCode:
    m = r._mapping
    values = {name: m[name] for name in _DEVICE_FIELDS}
    values["penalized"] = bool(values["penalized"])
    return DeviceCode(
        **values,
        scope=scope_set(m["scope"]),
        status=DeviceStatus(m["status"]),
    )
