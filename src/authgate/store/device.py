"""Store protocol, part: device authorization grant (RFC 8628): device and user codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from authgate.core.models import DeviceCode
from authgate.core.types import DeviceStatus, GrantId, Subject


class DeviceStoreTx(Protocol):
    """Device and user codes."""

    async def add_device_code(self, device: DeviceCode, *, now: datetime) -> bool:
        """Insert a device code; False if its user code is held by a live code (an expired
        holder is removed first)."""
        ...

    async def find_device_code(self, device_code_hash: bytes) -> DeviceCode | None:
        """The code, locked for update until the transaction ends (one poller at a time)."""
        ...

    async def find_device_code_by_user_code(self, user_code: str) -> DeviceCode | None: ...
    async def record_device_poll(self, device: DeviceCode) -> None:
        """Store the polling state of `device` (last poll, next allowed poll, interval)."""
        ...

    async def decide_device_code(
        self,
        device_code_hash: bytes,
        *,
        status: DeviceStatus,
        sub: Subject,
        grant_id: GrantId | None,
        now: datetime,
    ) -> bool:
        """Approve or deny a pending, unexpired code; False if it was not pending any more."""
        ...

    async def consume_device_code(self, device_code_hash: bytes, *, now: datetime) -> bool:
        """approved → consumed; of concurrent pollers exactly one gets True."""
        ...

    # RFC 8628 §5.1: the failure counters of user-code entry (rows of the rate limit table)
    async def lock_rate_limit_buckets(self, buckets: Sequence[str]) -> None:
        """Serialise, until the transaction ends, every transaction that counts in one of
        `buckets` (PostgreSQL: advisory locks; SQLite write transactions are serial
        already), so parallel guesses from one source cannot all pass the limit check.
        """
        ...

    async def peek_rate_limit_windows(
        self, buckets: Sequence[str], *, now: datetime
    ) -> dict[str, tuple[int, datetime]]:
        """The count and window end of each bucket with a live window (others are absent)."""
        ...
