"""StoreTx, janitor part: bounded deletes of expired rows, and row counts.

Each statement is `DELETE FROM t WHERE pk IN (SELECT pk FROM t WHERE cond LIMIT n) AND
cond`: the subquery bounds the batch, and repeating `cond` makes PostgreSQL re-check a row
that changed after the subquery read it (a rate-limit window restarted, a jti recorded
again), so only rows that are purgeable when deleted go. The conditions mirror
core/retention.py predicate for predicate (tests/store/test_janitor.py holds them together).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from authgate.core.types import RevokedBy
from authgate.store.sql import tables as t
from authgate.store.sql.tx_base import SqlTxBase

Cond = ColumnElement[bool]


def _grant_purgeable(cutoff: datetime) -> Cond:
    """core.retention.grant_purgeable on the `grants` table."""
    g, at = t.grants.c, t.access_tokens.c
    final = sa.and_(
        g.revoked_by.is_not(None),
        g.revoked_by != RevokedBy.OPERATOR.value,
        g.revoked_at <= cutoff,
    )
    live_token = sa.exists().where(at.grant_id == g.grant_id, at.expires_at > cutoff)
    return sa.or_(final, sa.and_(g.expires_at <= cutoff, sa.not_(live_token)))


def _of_purgeable_grant(column: sa.Column[str], cutoff: datetime) -> Cond:
    return column.in_(sa.select(t.grants.c.grant_id).where(_grant_purgeable(cutoff)))


def _rate_limits(now: datetime, cutoff: datetime) -> Cond:
    return t.rate_limits.c.window_ends_at <= now


def _used_jtis(now: datetime, cutoff: datetime) -> Cond:
    return t.used_jtis.c.expires_at <= cutoff


def _sessions(now: datetime, cutoff: datetime) -> Cond:
    c = t.sessions.c
    return sa.or_(c.expires_at <= cutoff, c.ended_at <= cutoff)


def _interactions(now: datetime, cutoff: datetime) -> Cond:
    return t.interactions.c.expires_at <= cutoff


def _device_codes(now: datetime, cutoff: datetime) -> Cond:
    c = t.device_codes.c
    grant_exists = sa.exists().where(t.grants.c.grant_id == c.grant_id)
    return sa.and_(
        c.expires_at <= cutoff,
        sa.or_(c.consumed_at.is_(None), c.grant_id.is_(None), sa.not_(grant_exists)),
    )


def _authorization_codes(now: datetime, cutoff: datetime) -> Cond:
    c = t.authorization_codes.c
    unredeemed = sa.and_(c.consumed_at.is_(None), c.expires_at <= cutoff)
    return sa.or_(unredeemed, _of_purgeable_grant(c.grant_id, cutoff))


def _refresh_tokens(now: datetime, cutoff: datetime) -> Cond:
    return _of_purgeable_grant(t.refresh_tokens.c.grant_id, cutoff)


def _access_tokens(now: datetime, cutoff: datetime) -> Cond:
    c = t.access_tokens.c
    return sa.or_(c.expires_at <= cutoff, _of_purgeable_grant(c.grant_id, cutoff))


def _grants(now: datetime, cutoff: datetime) -> Cond:
    return _grant_purgeable(cutoff)


_TARGETS: dict[str, tuple[sa.Table, Callable[[datetime, datetime], Cond]]] = {
    "rate_limits": (t.rate_limits, _rate_limits),
    "used_jtis": (t.used_jtis, _used_jtis),
    "sessions": (t.sessions, _sessions),
    "interactions": (t.interactions, _interactions),
    "device_codes": (t.device_codes, _device_codes),
    "authorization_codes": (t.authorization_codes, _authorization_codes),
    "refresh_tokens": (t.refresh_tokens, _refresh_tokens),
    "access_tokens": (t.access_tokens, _access_tokens),
    "grants": (t.grants, _grants),
}
TARGETS = frozenset(_TARGETS)


def _key(table: sa.Table) -> ColumnElement[Any]:
    columns = list(table.primary_key.columns)
    return columns[0] if len(columns) == 1 else sa.tuple_(*columns)


class JanitorTx(SqlTxBase):
    async def purge(self, target: str, *, now: datetime, cutoff: datetime, limit: int) -> int:
        table, condition = _TARGETS[target]
        cond = condition(now, cutoff)
        key = _key(table)
        batch = sa.select(*table.primary_key.columns).where(cond).limit(limit)
        result = await self._conn.execute(sa.delete(table).where(key.in_(batch), cond))
        return int(result.rowcount)

    async def count_purgeable(self, target: str, *, now: datetime, cutoff: datetime) -> int:
        table, condition = _TARGETS[target]
        stmt = sa.select(sa.func.count()).select_from(table).where(condition(now, cutoff))
        return int((await self._conn.execute(stmt)).scalar_one())

    async def count_rows(self) -> dict[str, int]:
        if self._dialect == "postgresql":
            # Exact counts scan whole tables; the statistics collector's live-row estimate
            # is read from memory and is what the scrape needs.
            result = await self._conn.execute(
                sa.text(
                    "SELECT relname, n_live_tup FROM pg_stat_user_tables "
                    "WHERE schemaname = current_schema()"
                )
            )
            found = {str(name): int(n) for name, n in result}
            return {table.name: found.get(table.name, 0) for table in t.metadata.sorted_tables}
        counts = sa.union_all(
            *(
                sa.select(
                    sa.literal(table.name).label("name"), sa.func.count().label("n")
                ).select_from(table)
                for table in t.metadata.sorted_tables
            )
        )
        return {str(name): int(n) for name, n in await self._conn.execute(counts)}
