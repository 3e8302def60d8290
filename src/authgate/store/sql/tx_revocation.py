"""StoreTx, revocation and re-approval of tokens (RFC 7009 and operator commands)."""

from __future__ import annotations

from authgate.store.sql.tx_base import SqlTxBase


class RevocationTx(SqlTxBase):
    pass
