"""Store protocol, part: Revocation and re-approval of tokens (RFC 7009 and operator commands)."""

from __future__ import annotations

from typing import Protocol


class RevocationStoreTx(Protocol):
    """Revocation and re-approval of tokens (RFC 7009 and operator commands)."""
