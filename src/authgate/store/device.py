"""Store protocol, part: device authorization grant (RFC 8628): device and user codes."""

from __future__ import annotations

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
