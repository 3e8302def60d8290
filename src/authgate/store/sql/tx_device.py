"""StoreTx, device authorization grant (RFC 8628): device and user codes."""

from __future__ import annotations

from authgate.store.sql.tx_base import SqlTxBase


class DeviceTx(SqlTxBase):
    pass
