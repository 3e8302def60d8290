"""StoreTx, authorization code flow: sessions, interactions and remembered consents."""

from __future__ import annotations

from authgate.store.sql.tx_base import SqlTxBase


class AuthorizationTx(SqlTxBase):
    pass
