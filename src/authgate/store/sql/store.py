"""SqlStore: the Store protocol on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Rows become `core.models` records in the `_*_from_row` functions. Consume-once operations are
single conditional `UPDATE … RETURNING` statements (SQLite ≥ 3.35 and PostgreSQL both have
RETURNING), so the database decides races.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from authgate.core.errors import TemporarilyUnavailableError
from authgate.core.models import (
    AccessToken,
    AuditEntry,
    Client,
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
    GrantId,
    GrantType,
    RevokedBy,
    SigningAlg,
    Subject,
)
from authgate.store.sql import migrate, tables as t
from authgate.store.sql.engine import READONLY

log = logging.getLogger(__name__)

Row = sa.Row[Any]


def _json_list(values: Sequence[str] | frozenset[str]) -> str:
    return json.dumps(sorted(values) if isinstance(values, frozenset) else list(values))


def _scope(value: frozenset[str]) -> str:
    return " ".join(sorted(value))


def _scope_set(value: str) -> frozenset[str]:
    return frozenset(value.split()) if value else frozenset()


def _client_values(c: Client) -> dict[str, object]:
    return {
        "client_id": c.client_id,
        "name": c.name,
        "secret_hash": c.secret_hash,
        "auth_method": c.auth_method.value,
        "redirect_uris": _json_list(c.redirect_uris),
        "post_logout_redirect_uris": _json_list(c.post_logout_redirect_uris),
        "grant_types": _json_list(frozenset(g.value for g in c.grant_types)),
        "scope": _scope(c.scope),
        "require_pkce": c.require_pkce,
        "authorization_details_types": _json_list(c.authorization_details_types),
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


def _client_from_row(r: Row) -> Client:
    m = r._mapping
    return Client(
        client_id=ClientId(m["client_id"]),
        name=m["name"],
        secret_hash=m["secret_hash"],
        auth_method=ClientAuthMethod(m["auth_method"]),
        redirect_uris=tuple(json.loads(m["redirect_uris"])),
        post_logout_redirect_uris=tuple(json.loads(m["post_logout_redirect_uris"])),
        grant_types=frozenset(GrantType(g) for g in json.loads(m["grant_types"])),
        scope=_scope_set(m["scope"]),
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


_USER_FIELDS = (
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


def _user_values(u: User) -> dict[str, object]:
    return {name: getattr(u, name) for name in _USER_FIELDS}


def _user_from_row(r: Row) -> User:
    m = r._mapping
    values = {name: m[name] for name in _USER_FIELDS}
    values["sub"] = Subject(values["sub"])
    values["email_verified"] = bool(values["email_verified"])
    return User(**values)


def _key_from_row(r: Row) -> SigningKey:
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


def _resource_from_row(r: Row) -> Resource:
    m = r._mapping
    return Resource(
        uri=m["uri"],
        access_token_format=AccessTokenFormat(m["access_token_format"]),
        alg=SigningAlg(m["alg"]),
        access_token_ttl=m["access_token_ttl"],
        created_at=m["created_at"],
    )


def _access_token_values(a: AccessToken) -> dict[str, object]:
    return {
        "token_hash": a.token_hash,
        "jti": a.jti,
        "grant_id": a.grant_id,
        "client_id": a.client_id,
        "sub": a.sub,
        "scope": _scope(a.scope),
        "audience": a.audience,
        "authorization_details": a.authorization_details,
        "token_format": a.token_format.value,
        "refresh_token_hash": a.refresh_token_hash,
        "issued_at": a.issued_at,
        "expires_at": a.expires_at,
        "revoked_at": a.revoked_at,
        "revoked_by": a.revoked_by.value if a.revoked_by else None,
    }


def _access_token_from_row(r: Row) -> AccessToken:
    m = r._mapping
    return AccessToken(
        token_hash=m["token_hash"],
        jti=m["jti"],
        grant_id=GrantId(m["grant_id"]) if m["grant_id"] else None,
        client_id=ClientId(m["client_id"]),
        sub=Subject(m["sub"]) if m["sub"] else None,
        scope=_scope_set(m["scope"]),
        audience=m["audience"],
        authorization_details=m["authorization_details"],
        token_format=AccessTokenFormat(m["token_format"]),
        refresh_token_hash=m["refresh_token_hash"],
        issued_at=m["issued_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        revoked_by=RevokedBy(m["revoked_by"]) if m["revoked_by"] else None,
    )


_client_retired = t.clients.c.retired_at.label("client_retired_at")
_user_disabled = t.users.c.disabled_at.label("user_disabled_at")
_username = t.users.c.username.label("status_username")
_grant_revoked = t.grants.c.revoked_at.label("grant_revoked_at")
_grant_expires = t.grants.c.expires_at.label("grant_expires_at")

_FIND_ACCESS_TOKEN = (
    sa.select(
        t.access_tokens, _client_retired, _user_disabled, _username, _grant_revoked, _grant_expires
    )
    .select_from(
        t.access_tokens.join(t.clients, t.clients.c.client_id == t.access_tokens.c.client_id)
        .outerjoin(t.users, t.users.c.sub == t.access_tokens.c.sub)
        .outerjoin(t.grants, t.grants.c.grant_id == t.access_tokens.c.grant_id)
    )
    .where(t.access_tokens.c.token_hash == sa.bindparam("h"))
)


def _status_from_row(r: Row) -> TokenStatus:
    m = r._mapping
    return TokenStatus(
        client_retired=m["client_retired_at"] is not None,
        user_disabled=m["user_disabled_at"] is not None,
        grant_revoked=m["grant_revoked_at"] is not None,
        grant_expires_at=m["grant_expires_at"],
        username=m["status_username"],
    )


class SqlTx:
    """StoreTx on one SQLAlchemy connection inside an open transaction."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)

    # clients
    async def add_client(self, client: Client) -> None:
        await self._conn.execute(sa.insert(t.clients).values(_client_values(client)))

    async def find_client(self, client_id: ClientId) -> Client | None:
        row = (
            await self._conn.execute(sa.select(t.clients).where(t.clients.c.client_id == client_id))
        ).first()
        return _client_from_row(row) if row else None

    async def list_clients(self) -> list[Client]:
        rows = await self._conn.execute(sa.select(t.clients).order_by(t.clients.c.created_at))
        return [_client_from_row(r) for r in rows]

    async def replace_client(self, client: Client) -> bool:
        values = _client_values(client)
        del values["client_id"]
        result = await self._conn.execute(
            sa.update(t.clients).where(t.clients.c.client_id == client.client_id).values(values)
        )
        return result.rowcount == 1

    async def delete_client(self, client_id: ClientId) -> bool:
        result = await self._conn.execute(
            sa.delete(t.clients).where(t.clients.c.client_id == client_id)
        )
        return result.rowcount == 1

    # users
    async def add_user(self, user: User) -> bool:
        stmt = (
            self._insert(t.users)
            .values(_user_values(user))
            .on_conflict_do_nothing(index_elements=["username"])
            .returning(t.users.c.sub)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def find_user(self, sub: Subject) -> User | None:
        row = (await self._conn.execute(sa.select(t.users).where(t.users.c.sub == sub))).first()
        return _user_from_row(row) if row else None

    async def find_user_by_username(self, username: str) -> User | None:
        row = (
            await self._conn.execute(sa.select(t.users).where(t.users.c.username == username))
        ).first()
        return _user_from_row(row) if row else None

    async def list_users(self) -> list[User]:
        rows = await self._conn.execute(sa.select(t.users).order_by(t.users.c.username))
        return [_user_from_row(r) for r in rows]

    async def replace_user(self, user: User) -> bool:
        values = _user_values(user)
        del values["sub"]
        result = await self._conn.execute(
            sa.update(t.users).where(t.users.c.sub == user.sub).values(values)
        )
        return result.rowcount == 1

    # signing keys
    async def list_signing_keys(self) -> list[SigningKey]:
        rows = await self._conn.execute(
            sa.select(t.signing_keys).order_by(t.signing_keys.c.active_from)
        )
        return [_key_from_row(r) for r in rows]

    async def add_signing_key(self, key: SigningKey) -> None:
        await self._conn.execute(
            sa.insert(t.signing_keys).values(
                kid=key.kid,
                alg=key.alg.value,
                private_jwk=key.private_jwk,
                public_jwk=key.public_jwk,
                created_at=key.created_at,
                active_from=key.active_from,
                retired_at=key.retired_at,
                publish_until=key.publish_until,
            )
        )

    async def retire_signing_keys(self, *, now: datetime, publish_until: datetime) -> int:
        result = await self._conn.execute(
            sa.update(t.signing_keys)
            .where(t.signing_keys.c.retired_at.is_(None))
            .values(retired_at=now, publish_until=publish_until)
        )
        return result.rowcount

    async def lock_keys(self) -> None:
        if self._dialect == "postgresql":
            # A transaction-scoped advisory lock; SQLite's BEGIN IMMEDIATE already serialises.
            await self._conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))

    # resources
    async def add_resource(self, resource: Resource) -> bool:
        stmt = (
            self._insert(t.resources)
            .values(
                uri=resource.uri,
                access_token_format=resource.access_token_format.value,
                alg=resource.alg.value,
                access_token_ttl=resource.access_token_ttl,
                created_at=resource.created_at,
            )
            .on_conflict_do_nothing(index_elements=["uri"])
            .returning(t.resources.c.uri)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def find_resource(self, uri: str) -> Resource | None:
        row = (
            await self._conn.execute(sa.select(t.resources).where(t.resources.c.uri == uri))
        ).first()
        return _resource_from_row(row) if row else None

    async def list_resources(self) -> list[Resource]:
        rows = await self._conn.execute(sa.select(t.resources).order_by(t.resources.c.uri))
        return [_resource_from_row(r) for r in rows]

    # access tokens
    async def add_access_token(self, token: AccessToken) -> None:
        await self._conn.execute(sa.insert(t.access_tokens).values(_access_token_values(token)))

    async def find_access_token(self, token_hash: bytes) -> tuple[AccessToken, TokenStatus] | None:
        row = (await self._conn.execute(_FIND_ACCESS_TOKEN, {"h": token_hash})).first()
        if row is None:
            return None
        return _access_token_from_row(row), _status_from_row(row)

    # client assertion replay
    async def record_jti(
        self, client_id: ClientId, jti: str, *, now: datetime, expires_at: datetime
    ) -> bool:
        ins = self._insert(t.used_jtis).values(client_id=client_id, jti=jti, expires_at=expires_at)
        stmt = ins.on_conflict_do_update(
            index_elements=["client_id", "jti"],
            set_={"expires_at": ins.excluded.expires_at},
            where=t.used_jtis.c.expires_at <= now,
        ).returning(t.used_jtis.c.jti)
        return (await self._conn.execute(stmt)).first() is not None

    # rate limits
    async def hit_rate_limit(
        self, bucket: str, *, now: datetime, window_ends_at: datetime
    ) -> tuple[int, datetime]:
        rl = t.rate_limits
        expired = rl.c.window_ends_at <= now
        ins = self._insert(rl).values(bucket=bucket, count=1, window_ends_at=window_ends_at)
        stmt = ins.on_conflict_do_update(
            index_elements=["bucket"],
            set_={
                "count": sa.case((expired, 1), else_=rl.c.count + 1),
                "window_ends_at": sa.case(
                    (expired, ins.excluded.window_ends_at), else_=rl.c.window_ends_at
                ),
            },
        ).returning(rl.c.count, rl.c.window_ends_at)
        row = (await self._conn.execute(stmt)).one()
        return int(row[0]), row[1]

    async def peek_rate_limit(self, bucket: str, *, now: datetime) -> int:
        rl = t.rate_limits
        row = (
            await self._conn.execute(
                sa.select(rl.c.count).where(rl.c.bucket == bucket, rl.c.window_ends_at > now)
            )
        ).first()
        return int(row[0]) if row else 0

    # audit log
    async def add_audit_entry(self, entry: AuditEntry) -> None:
        await self._conn.execute(
            sa.insert(t.audit_log).values(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                target_type=entry.target_type,
                target=entry.target,
                cascade=entry.cascade,
                reason=entry.reason,
                count=entry.count,
                details=entry.details,
            )
        )

    async def list_audit_entries(self, *, limit: int) -> list[AuditEntry]:
        rows = await self._conn.execute(
            sa.select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        )
        return [AuditEntry(**dict(r._mapping)) for r in rows]


_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, OSError, TimeoutError)


class SqlStore:
    """The Store on an AsyncEngine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    @property
    def table_names(self) -> Sequence[str]:
        return [table.name for table in t.metadata.sorted_tables]

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[SqlTx]:
        try:
            async with self.engine.connect() as conn:
                if readonly:
                    conn = await conn.execution_options(**{READONLY: True})
                async with conn.begin():
                    yield SqlTx(conn, self._dialect)
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise _unavailable(exc) from exc
            raise

    async def ping(self) -> None:
        async with self.transaction(readonly=True) as tx:
            await tx._conn.execute(sa.text("SELECT 1"))

    async def schema_is_current(self) -> bool:
        return await migrate.is_current(self.engine)

    async def upgrade(self) -> None:
        await migrate.upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()


def _unavailable(exc: BaseException) -> TemporarilyUnavailableError:
    log.warning("database unavailable: %s", type(exc).__name__)
    return TemporarilyUnavailableError(
        "the authorization server cannot reach its database; retry shortly",
        detail=f"{type(exc).__name__}: {exc}",
    )
