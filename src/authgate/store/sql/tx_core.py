"""StoreTx, foundation part: clients, users, signing keys, resources, access tokens,
client-assertion replay, rate limits and the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.base import Executable

from authgate.core.models import (
    AccessToken,
    AuditEntry,
    Client,
    Resource,
    SigningKey,
    TokenStatus,
    User,
)
from authgate.core.types import ClientId, Subject
from authgate.store.sql import rows, tables as t
from authgate.store.sql.pg_batch import ByKey, InsertMany
from authgate.store.sql.prepared import Prepared
from authgate.store.sql.tables import Timestamp
from authgate.store.sql.tx_base import ForDialects, SqlTxBase

# Hot-path statements are built once; SQLAlchemy caches their compiled form.
_FIND_CLIENT = Prepared(
    sa.select(t.clients).where(t.clients.c.client_id == sa.bindparam("client_id")),
    batch=ByKey,
    # a client's row is read on every request (a change shows at once) and rarely changes:
    # its conversion is done once per distinct row
    memo_rows=True,
)
_FIND_RESOURCE = Prepared(
    sa.select(t.resources).where(t.resources.c.uri == sa.bindparam("uri")),
    batch=ByKey,
    memo_rows=True,  # as a client's: read by every token request that names it
)
_FIND_USER = Prepared(sa.select(t.users).where(t.users.c.sub == sa.bindparam("sub")), batch=ByKey)
_INSERT_ACCESS_TOKEN = Prepared(sa.insert(t.access_tokens), batch=InsertMany)
_FIND_ACCESS_TOKEN = Prepared(rows.FIND_ACCESS_TOKEN, batch=ByKey)
_rl = t.rate_limits.c
_PEEK_RATE_LIMIT = Prepared(
    sa.select(_rl.count).where(
        _rl.bucket == sa.bindparam("bucket"), _rl.window_ends_at > sa.bindparam("now")
    )
)


def _hit_rate_limit(dialect: str, insert: Callable[[sa.Table], Any]) -> Executable:
    expired = _rl.window_ends_at <= sa.bindparam("now", type_=Timestamp())
    ins = insert(t.rate_limits).values(
        bucket=sa.bindparam("bucket"), count=1, window_ends_at=sa.bindparam("ends")
    )
    stmt: Executable = ins.on_conflict_do_update(
        index_elements=["bucket"],
        set_={
            "count": sa.case((expired, 1), else_=_rl.count + 1),
            "window_ends_at": sa.case(
                (expired, ins.excluded.window_ends_at), else_=_rl.window_ends_at
            ),
        },
    ).returning(_rl.count, _rl.window_ends_at)
    return stmt


def _record_jti(dialect: str, insert: Callable[[sa.Table], Any]) -> Executable:
    j = t.used_jtis.c
    ins = insert(t.used_jtis).values(
        client_id=sa.bindparam("client_id"), jti=sa.bindparam("jti"), expires_at=sa.bindparam("exp")
    )
    stmt: Executable = ins.on_conflict_do_update(
        index_elements=["client_id", "jti"],
        set_={"expires_at": ins.excluded.expires_at},
        where=j.expires_at <= sa.bindparam("now", type_=Timestamp()),
    ).returning(j.jti)
    return stmt


_HIT_RATE_LIMIT = ForDialects(_hit_rate_limit)
_RECORD_JTI = ForDialects(_record_jti)


class CoreTx(SqlTxBase):
    """Clients, users, keys, resources, access tokens, replay and rate-limit state, audit."""

    # clients
    async def add_client(self, client: Client) -> None:
        await self._conn.execute(sa.insert(t.clients).values(rows.client_values(client)))

    async def find_client(self, client_id: ClientId) -> Client | None:
        row = (await self._conn.execute(_FIND_CLIENT, {"client_id": client_id})).first()
        return rows.client_from_row(row) if row else None

    async def list_clients(self) -> list[Client]:
        result = await self._conn.execute(sa.select(t.clients).order_by(t.clients.c.created_at))
        return [rows.client_from_row(r) for r in result]

    async def replace_client(self, client: Client) -> bool:
        values = rows.client_values(client)
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
            .values(rows.user_values(user))
            .on_conflict_do_nothing(index_elements=["username"])
            .returning(t.users.c.sub)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def find_user(self, sub: Subject) -> User | None:
        row = (await self._conn.execute(_FIND_USER, {"sub": sub})).first()
        return rows.user_from_row(row) if row else None

    async def find_user_by_username(self, username: str) -> User | None:
        row = (
            await self._conn.execute(sa.select(t.users).where(t.users.c.username == username))
        ).first()
        return rows.user_from_row(row) if row else None

    async def list_users(self) -> list[User]:
        result = await self._conn.execute(sa.select(t.users).order_by(t.users.c.username))
        return [rows.user_from_row(r) for r in result]

    async def replace_user(self, user: User) -> bool:
        values = rows.user_values(user)
        del values["sub"]
        result = await self._conn.execute(
            sa.update(t.users).where(t.users.c.sub == user.sub).values(values)
        )
        return result.rowcount == 1

    # signing keys
    async def list_signing_keys(self) -> list[SigningKey]:
        result = await self._conn.execute(
            sa.select(t.signing_keys).order_by(t.signing_keys.c.active_from)
        )
        return [rows.key_from_row(r) for r in result]

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
        row = (await self._conn.execute(_FIND_RESOURCE, {"uri": uri})).first()
        return rows.resource_from_row(row) if row else None

    async def list_resources(self) -> list[Resource]:
        result = await self._conn.execute(sa.select(t.resources).order_by(t.resources.c.uri))
        return [rows.resource_from_row(r) for r in result]

    # access tokens
    async def add_access_token(self, token: AccessToken) -> None:
        await self._conn.execute(_INSERT_ACCESS_TOKEN, rows.access_token_values(token))

    async def find_access_token(self, token_hash: bytes) -> tuple[AccessToken, TokenStatus] | None:
        row = (await self._conn.execute(_FIND_ACCESS_TOKEN, {"h": token_hash})).first()
        if row is None:
            return None
        return rows.access_token_from_row(row), rows.status_from_row(row)

    # client assertion replay
    async def record_jti(
        self, client_id: ClientId, jti: str, *, now: datetime, expires_at: datetime
    ) -> bool:
        params = {"client_id": client_id, "jti": jti, "exp": expires_at, "now": now}
        return (await self._conn.execute(_RECORD_JTI[self._dialect], params)).first() is not None

    # rate limits
    async def hit_rate_limit(
        self, bucket: str, *, now: datetime, window_ends_at: datetime
    ) -> tuple[int, datetime]:
        params = {"bucket": bucket, "now": now, "ends": window_ends_at}
        row = (await self._conn.execute(_HIT_RATE_LIMIT[self._dialect], params)).one()
        return int(row["count"]), row["window_ends_at"]

    async def peek_rate_limit(self, bucket: str, *, now: datetime) -> int:
        row = (await self._conn.execute(_PEEK_RATE_LIMIT, {"bucket": bucket, "now": now})).first()
        return int(row["count"]) if row else 0

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
        result = await self._conn.execute(
            sa.select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        )
        return [AuditEntry(**dict(r._mapping)) for r in result]
