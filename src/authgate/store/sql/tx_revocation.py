"""StoreTx, revocation and re-approval of tokens (RFC 7009 and operator commands).

Every statement is one conditional UPDATE: only live rows are revoked, only operator
revocations of unexpired (and, for refresh tokens, unspent) rows are undone, and the row
counts say exactly what changed. Callers hold the grant's row lock (`lock_grant`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.base import Executable

from authgate.core.models import Grant, Target
from authgate.core.types import ClientId, GrantId, RevokedBy, TokenTypeHint
from authgate.store.sql import rows, tables as t
from authgate.store.sql.pg_batch import ByKey, UpdateByKey
from authgate.store.sql.prepared import Prepared
from authgate.store.sql.tables import Timestamp
from authgate.store.sql.tx_base import ForDialects, SqlTxBase

AT = t.access_tokens.c
RT = t.refresh_tokens.c
G = t.grants.c
_OPERATOR = RevokedBy.OPERATOR.value
_FORGET = {"replay_payload": None, "replay_until": None}
# Revocation drops a kept successor pair but keeps `replay_until`, so a retry inside the window
# is still told apart from a replay (core/refresh.decide).
_DROP = {"replay_payload": None}


# A refresh forgets the successor pairs of its grant whose window has closed, and its parent's
# (`parent` NULL matches nothing). On the refresh path, so prepared.
_FORGET_REPLAY = Prepared(
    sa.update(t.refresh_tokens)
    .where(
        RT.grant_id == sa.bindparam("grant_id"),
        RT.replay_payload.is_not(None),
        sa.or_(RT.replay_until <= sa.bindparam("now"), RT.token_hash == sa.bindparam("parent")),
    )
    .values(replay_payload=sa.null(), replay_until=sa.null())
)


def _at_live(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(AT.revoked_at.is_(None), AT.expires_at > now)


def _rt_unexpired(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        RT.consumed_at.is_(None),
        RT.expires_at > now,
        sa.or_(RT.idle_expires_at.is_(None), RT.idle_expires_at > now),
    )


def _rt_live(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(RT.revoked_at.is_(None), _rt_unexpired(now))


def _grant_live(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(G.revoked_at.is_(None), G.expires_at > now)


@dataclass(frozen=True, slots=True)
class _Bulk:
    """The rows a bulk revocation of one client's or one user's tokens selects."""

    grants: sa.ColumnElement[bool]  # the grants of the client or user
    live_grants: sa.Select[Any]
    access: sa.ColumnElement[bool]  # live access tokens, of live grants or of none
    refresh: sa.ColumnElement[bool]  # live refresh tokens of live grants

    @classmethod
    def of(
        cls, *, client_id: str | None, sub: str | None, before: datetime | None, now: datetime
    ) -> _Bulk:
        if client_id is not None:
            grants, access = G.client_id == client_id, AT.client_id == client_id
        else:
            grants, access = G.sub == sub, AT.sub == sub
        live_grants = sa.select(G.grant_id).where(grants, _grant_live(now))
        of_live_grant = AT.grant_id.in_(sa.select(G.grant_id).where(_grant_live(now)))
        access = sa.and_(access, _at_live(now), sa.or_(AT.grant_id.is_(None), of_live_grant))
        refresh = sa.and_(RT.grant_id.in_(live_grants), _rt_live(now))
        if before is not None:
            access = sa.and_(access, AT.issued_at < before)
            refresh = sa.and_(refresh, RT.issued_at < before)
        return cls(grants, live_grants, access, refresh)

    def grants_changed(self, revoke_grants: bool) -> sa.Select[Any] | sa.CompoundSelect[Any]:
        """The grants to revoke, or (tokens only) the grants that lose tokens."""
        if revoke_grants:
            return self.live_grants
        return sa.union(
            sa.select(AT.grant_id).where(self.access, AT.grant_id.is_not(None)),
            sa.select(RT.grant_id).where(self.refresh),
        )


# The statements of the refresh and /revoke hot paths, prepared once (prepared.py).
_NOW = sa.bindparam("now", type_=Timestamp())


def _lock_grant(dialect: str, insert: object) -> Executable:
    stmt = sa.select(t.grants).where(G.grant_id == sa.bindparam("g"))
    # PostgreSQL: a row lock that refresh and every revocation take (REL-03); SQLite's
    # BEGIN IMMEDIATE already serialises writers.
    return stmt.with_for_update() if dialect == "postgresql" else stmt


_LOCK_GRANT = ForDialects(_lock_grant)
_AT_REVOKED_FOR = Prepared(
    sa.select(sa.literal(1).label("one"))
    .where(
        AT.grant_id == sa.bindparam("g"),
        AT.refresh_token_hash == sa.bindparam("h"),
        AT.revoked_at.is_not(None),
    )
    .limit(1)
)
_REVOKE_AT = Prepared(
    sa.update(t.access_tokens)
    .where(AT.token_hash == sa.bindparam("h"), AT.revoked_at.is_(None), AT.expires_at > _NOW)
    .values(revoked_at=sa.bindparam("p_now"), revoked_by=sa.bindparam("p_by")),
    batch=lambda statement: UpdateByKey(statement, key="h"),
)


# What revocation needs of an access token (core/models.Target), its grant's revocation
# read in the same statement.
_AT_TARGET = (
    AT.client_id,
    AT.grant_id,
    AT.expires_at,
    AT.revoked_by,
    G.revoked_by.label("grant_revoked_by"),
)


def _kind_only(kind: str, key: sa.ColumnElement[Any]) -> Any:
    """A value of another table: its kind, the access token's columns left empty."""
    empty = (sa.null().label(c.name) for c in _AT_TARGET)
    return sa.select(*empty, _kind(kind)).where(key == sa.bindparam("h"))


def _kind(kind: str) -> sa.Label[Any]:
    return sa.literal_column(f"'{kind}'", sa.String).label("kind")  # SQL text, not a parameter


# What a presented value is, in one statement: an access token (what revoking it needs), or
# only the kind of a refresh token, authorization code or device code. A hash is in at most
# one of the tables.
_IDENTIFY = Prepared(
    sa.union_all(
        sa.select(*_AT_TARGET, _kind("access_token"))
        .select_from(t.access_tokens.outerjoin(t.grants, G.grant_id == AT.grant_id))
        .where(AT.token_hash == sa.bindparam("h")),
        _kind_only("refresh_token", t.refresh_tokens.c.token_hash),
        _kind_only("authorization_code", t.authorization_codes.c.code_hash),
        _kind_only("device_code", t.device_codes.c.device_code_hash),
    ),
    batch=ByKey,
)


class RevocationTx(SqlTxBase):
    async def lock_grant(self, grant_id: GrantId) -> Grant | None:
        row = (await self._conn.execute(_LOCK_GRANT[self._dialect], {"g": grant_id})).first()
        return rows.grant_from_row(row) if row else None

    async def access_token_revoked_for(self, grant_id: GrantId, refresh_token_hash: bytes) -> bool:
        params = {"g": grant_id, "h": refresh_token_hash}
        return (await self._conn.execute(_AT_REVOKED_FOR, params)).first() is not None

    async def _update(self, stmt: sa.Update) -> int:
        return (await self._conn.execute(stmt)).rowcount

    async def revoke_access_token(self, token_hash: bytes, *, now: datetime, by: RevokedBy) -> int:
        params = {"h": token_hash, "now": now, "p_now": now, "p_by": by.value}
        return (await self._conn.execute(_REVOKE_AT, params)).rowcount

    async def revoke_refresh_token(self, token_hash: bytes, *, now: datetime, by: RevokedBy) -> int:
        return await self._update(
            sa.update(t.refresh_tokens)
            .where(RT.token_hash == token_hash, RT.revoked_at.is_(None), RT.expires_at > now)
            .values(revoked_at=now, revoked_by=by.value, **_DROP)
        )

    async def revoke_grant_tree(
        self, grant_id: GrantId, *, now: datetime, by: RevokedBy
    ) -> tuple[int, int]:
        values = {"revoked_at": now, "revoked_by": by.value}
        tokens = await self._update(
            sa.update(t.access_tokens).where(AT.grant_id == grant_id, _at_live(now)).values(values)
        )
        tokens += await self._update(
            sa.update(t.refresh_tokens).where(RT.grant_id == grant_id, _rt_live(now)).values(values)
        )
        await self._forget_all(grant_id)
        grants = await self._update(
            sa.update(t.grants).where(G.grant_id == grant_id, G.revoked_at.is_(None)).values(values)
        )
        return tokens, grants

    async def _forget_all(self, grant_id: GrantId) -> None:
        await self._conn.execute(
            sa.update(t.refresh_tokens)
            .where(RT.grant_id == grant_id, RT.replay_payload.is_not(None))
            .values(_DROP)
        )

    async def mark_grant_replayed(self, grant_id: GrantId, *, now: datetime) -> bool:
        await self._forget_all(grant_id)
        changed = await self._update(
            sa.update(t.grants)
            .where(
                G.grant_id == grant_id, sa.or_(G.revoked_by.is_(None), G.revoked_by == _OPERATOR)
            )
            .values(
                revoked_at=sa.func.coalesce(G.revoked_at, sa.literal(now, G.revoked_at.type)),
                revoked_by=RevokedBy.REPLAY.value,
            )
        )
        return changed == 1

    async def approve_access_token(self, token_hash: bytes, *, now: datetime) -> int:
        return await self._update(
            sa.update(t.access_tokens)
            .where(AT.token_hash == token_hash, AT.revoked_by == _OPERATOR, AT.expires_at > now)
            .values(revoked_at=None, revoked_by=None)
        )

    async def approve_refresh_token(self, token_hash: bytes, *, now: datetime) -> int:
        return await self._update(
            sa.update(t.refresh_tokens)
            .where(RT.token_hash == token_hash, RT.revoked_by == _OPERATOR, _rt_unexpired(now))
            .values(revoked_at=None, revoked_by=None)
        )

    async def approve_grant(self, grant_id: GrantId, *, now: datetime) -> int:
        return await self._update(
            sa.update(t.grants)
            .where(G.grant_id == grant_id, G.revoked_by == _OPERATOR, G.expires_at > now)
            .values(revoked_at=None, revoked_by=None)
        )

    async def approve_grant_tree(self, grant_id: GrantId, *, now: datetime) -> int:
        cleared = {"revoked_at": None, "revoked_by": None}
        tokens = await self._update(
            sa.update(t.access_tokens)
            .where(AT.grant_id == grant_id, AT.revoked_by == _OPERATOR, AT.expires_at > now)
            .values(cleared)
        )
        # Expired access tokens stay expired, but their revocation no longer blocks the
        # refresh token issued with them (SEC-77), which this approval restores.
        await self._update(
            sa.update(t.access_tokens)
            .where(AT.grant_id == grant_id, AT.revoked_by == _OPERATOR, AT.expires_at <= now)
            .values(cleared)
        )
        return tokens + await self._update(
            sa.update(t.refresh_tokens)
            .where(RT.grant_id == grant_id, RT.revoked_by == _OPERATOR, _rt_unexpired(now))
            .values(cleared)
        )

    async def bulk_revoke(
        self,
        *,
        client_id: str | None,
        sub: str | None,
        before: datetime | None,
        revoke_grants: bool,
        now: datetime,
        dry_run: bool,
    ) -> tuple[int, int]:
        sel = _Bulk.of(client_id=client_id, sub=sub, before=before, now=now)
        if self._dialect == "postgresql" and not dry_run:
            # Lock in one order, as refresh and single revocations lock one grant each.
            await self._conn.execute(
                sa.select(G.grant_id).where(sel.grants).order_by(G.grant_id).with_for_update()
            )
        grants = await self._count(sel.grants_changed(revoke_grants))
        if dry_run:
            tokens = 0
            for table, where in ((t.access_tokens, sel.access), (t.refresh_tokens, sel.refresh)):
                tokens += await self._count(sa.select(table.c.token_hash).where(where))
            return tokens, grants
        values = {"revoked_at": now, "revoked_by": _OPERATOR}
        tokens = await self._update(sa.update(t.access_tokens).where(sel.access).values(values))
        tokens += await self._update(sa.update(t.refresh_tokens).where(sel.refresh).values(values))
        if revoke_grants:
            await self._update(
                sa.update(t.refresh_tokens)
                .where(RT.grant_id.in_(sel.live_grants), RT.replay_payload.is_not(None))
                .values(_DROP)
            )
            await self._update(
                sa.update(t.grants).where(sel.grants, _grant_live(now)).values(values)
            )
        return tokens, grants

    async def _count(self, rows: sa.Select[Any] | sa.CompoundSelect[Any]) -> int:
        stmt = sa.select(sa.func.count()).select_from(rows.subquery())
        return int((await self._conn.execute(stmt)).scalar_one())

    async def identify_token(self, token_hash: bytes) -> tuple[str, Target | None] | None:
        row = (await self._conn.execute(_IDENTIFY, {"h": token_hash})).first()
        if row is None:
            return None
        m = row._mapping
        kind = str(m["kind"])
        if kind != "access_token":
            return kind, None
        return kind, Target(
            kind=TokenTypeHint.ACCESS_TOKEN,
            client_id=ClientId(m["client_id"]),
            grant_id=GrantId(m["grant_id"]) if m["grant_id"] else None,
            expires_at=m["expires_at"],
            revoked_by=RevokedBy(m["revoked_by"]) if m["revoked_by"] else None,
            grant_revoked_by=RevokedBy(m["grant_revoked_by"]) if m["grant_revoked_by"] else None,
        )

    async def set_refresh_idle_expiry(
        self, token_hash: bytes, idle_expires_at: datetime | None
    ) -> None:
        await self._conn.execute(
            sa.update(t.refresh_tokens)
            .where(RT.token_hash == token_hash)
            .values(idle_expires_at=idle_expires_at)
        )

    async def forget_replay_payloads(
        self, grant_id: GrantId, *, now: datetime, parent_hash: bytes | None
    ) -> None:
        await self._conn.execute(
            _FORGET_REPLAY, {"grant_id": grant_id, "now": now, "parent": parent_hash}
        )

    async def sweep_replay_payloads(self, *, now: datetime, limit: int) -> int:
        due = (
            sa.select(RT.token_hash)
            .where(RT.replay_payload.is_not(None), RT.replay_until <= now)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)  # never wait on a refresh in flight
        return await self._update(
            sa.update(t.refresh_tokens)
            .where(RT.token_hash.in_(due.scalar_subquery()))
            .values(_FORGET)
        )
