"""StoreTx, device authorization grant (RFC 8628): device and user codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from authgate.core.models import DeviceCode
from authgate.core.types import DeviceStatus, GrantId, Subject
from authgate.store.sql import rows, tables as t
from authgate.store.sql.tx_base import SqlTxBase

_d = t.device_codes.c
_BY_HASH = sa.select(t.device_codes).where(_d.device_code_hash == sa.bindparam("h"))


class DeviceTx(SqlTxBase):
    async def add_device_code(self, device: DeviceCode, *, now: datetime) -> bool:
        await self._conn.execute(
            sa.delete(t.device_codes).where(_d.user_code == device.user_code, _d.expires_at <= now)
        )
        stmt = (
            self._insert(t.device_codes)
            .values(rows.device_code_values(device))
            .on_conflict_do_nothing(index_elements=["user_code"])
            .returning(_d.user_code)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def find_device_code(self, device_code_hash: bytes) -> DeviceCode | None:
        stmt = _BY_HASH.with_for_update() if self._dialect == "postgresql" else _BY_HASH
        row = (await self._conn.execute(stmt, {"h": device_code_hash})).first()
        return rows.device_code_from_row(row) if row else None

    async def find_device_code_by_user_code(self, user_code: str) -> DeviceCode | None:
        row = (
            await self._conn.execute(sa.select(t.device_codes).where(_d.user_code == user_code))
        ).first()
        return rows.device_code_from_row(row) if row else None

    async def record_device_poll(self, device: DeviceCode) -> None:
        await self._conn.execute(
            sa.update(t.device_codes)
            .where(_d.device_code_hash == device.device_code_hash)
            .values(
                last_polled_at=device.last_polled_at,
                next_poll_at=device.next_poll_at,
                interval=device.interval,
                penalized=device.penalized,
            )
        )

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
