"""StoreTx, device authorization grant (RFC 8628): device and user codes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.base import Executable

from authgate.core.models import DeviceCode
from authgate.core.types import DeviceStatus, GrantId, Subject
from authgate.store.sql import rows, tables as t
from authgate.store.sql.pg_batch import InsertMany, unnest_rows
from authgate.store.sql.prepared import Prepared
from authgate.store.sql.tables import Timestamp
from authgate.store.sql.tx_base import ForDialects, SqlTxBase

_d = t.device_codes.c
_BY_HASH = sa.select(t.device_codes).where(_d.device_code_hash == sa.bindparam("h"))


def _add_device_code(
    dialect: str, insert: Callable[[sa.Table], Any], rows_from: Any = None
) -> Executable:
    """Insert, or take over the user code of an expired holder, in one statement; nothing
    (no row returned) when a live code holds the user code. `rows_from`: the rows of many
    requests at once (PostgreSQL, pg_batch.py).
    """
    ins = insert(t.device_codes)
    if rows_from is not None:
        ins = ins.from_select(list(t.device_codes.c), rows_from)
    stmt: Executable = ins.on_conflict_do_update(
        index_elements=["user_code"],
        set_={c.name: ins.excluded[c.name] for c in t.device_codes.c},
        where=_d.expires_at <= sa.bindparam("now", type_=Timestamp()),
    ).returning(_d.user_code)
    return stmt


def _find_device_code(dialect: str, insert: object) -> Executable:
    # PostgreSQL: one poller at a time per device code (REL-04); SQLite serialises writers.
    return _BY_HASH.with_for_update() if dialect == "postgresql" else _BY_HASH


_ADD_DEVICE_CODE = ForDialects(
    _add_device_code,
    batch=lambda statement: InsertMany(
        statement,
        key="user_code",
        many=_add_device_code("postgresql", postgresql.insert, unnest_rows(t.device_codes)),
    ),
)
_FIND_DEVICE_CODE = ForDialects(_find_device_code)
_RECORD_POLL = Prepared(
    sa.update(t.device_codes)
    .where(_d.device_code_hash == sa.bindparam("h"))
    .values(
        last_polled_at=sa.bindparam("p_last"),
        next_poll_at=sa.bindparam("p_next"),
        interval=sa.bindparam("p_interval"),
        penalized=sa.bindparam("p_penalized"),
    )
)


class DeviceTx(SqlTxBase):
    async def add_device_code(self, device: DeviceCode, *, now: datetime) -> bool:
        params = {**rows.device_code_values(device), "now": now}
        return (
            await self._conn.execute(_ADD_DEVICE_CODE[self._dialect], params)
        ).first() is not None

    async def find_device_code(self, device_code_hash: bytes) -> DeviceCode | None:
        stmt = _FIND_DEVICE_CODE[self._dialect]
        row = (await self._conn.execute(stmt, {"h": device_code_hash})).first()
        return rows.device_code_from_row(row) if row else None

    async def find_device_code_by_user_code(self, user_code: str) -> DeviceCode | None:
        row = (
            await self._conn.execute(sa.select(t.device_codes).where(_d.user_code == user_code))
        ).first()
        return rows.device_code_from_row(row) if row else None

    async def record_device_poll(self, device: DeviceCode) -> None:
        params = {
            "h": device.device_code_hash,
            "p_last": device.last_polled_at,
            "p_next": device.next_poll_at,
            "p_interval": device.interval,
            "p_penalized": device.penalized,
        }
        await self._conn.execute(_RECORD_POLL, params)

    async def decide_device_code(
        self,
        device_code_hash: bytes,
        *,
        status: DeviceStatus,
        sub: Subject,
        grant_id: GrantId | None,
        now: datetime,
    ) -> bool:
        result = await self._conn.execute(
            sa.update(t.device_codes)
            .where(
                _d.device_code_hash == device_code_hash,
                _d.status == DeviceStatus.PENDING.value,
                _d.expires_at > now,
            )
            .values(status=status.value, sub=sub, grant_id=grant_id, decided_at=now)
        )
        return result.rowcount == 1

    async def consume_device_code(self, device_code_hash: bytes, *, now: datetime) -> bool:
        result = await self._conn.execute(
            sa.update(t.device_codes)
            .where(
                _d.device_code_hash == device_code_hash,
                _d.status == DeviceStatus.APPROVED.value,
            )
            .values(status=DeviceStatus.CONSUMED.value, consumed_at=now)
        )
        return result.rowcount == 1

    async def lock_rate_limit_buckets(self, buckets: Sequence[str]) -> None:
        if self._dialect != "postgresql":
            return  # SQLite: BEGIN IMMEDIATE already serialises write transactions
        for bucket in sorted(set(buckets)):  # one order everywhere: no deadlock
            key = sa.func.hashtextextended(bucket, 0)
            await self._conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))

    async def peek_rate_limit_windows(
        self, buckets: Sequence[str], *, now: datetime
    ) -> dict[str, tuple[int, datetime]]:
        rl = t.rate_limits.c
        result = await self._conn.execute(
            sa.select(rl.bucket, rl.count, rl.window_ends_at).where(
                rl.bucket.in_(list(buckets)), rl.window_ends_at > now
            )
        )
        return {r[0]: (int(r[1]), r[2]) for r in result}
