"""Store protocol, part: Device authorization grant (RFC 8628): device and user codes."""

from __future__ import annotations

from typing import Protocol


class DeviceStoreTx(Protocol):
    """Device authorization grant (RFC 8628): device and user codes."""
