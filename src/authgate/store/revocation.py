"""Store protocol, part: Revocation and re-approval of tokens (RFC 7009 and operator commands).

Every write to the tokens of a grant happens while the grant row is locked (`lock_grant`):
refresh, revocation and approval take the same lock, so a refresh racing a revocation either
finishes before it (and its new tokens are revoked with the rest) or sees the revocation
(SECURITY.md REL-03). Bulk operations lock the grants they touch in grant_id order. Every
change is a conditional UPDATE: an already revoked, expired or spent token is not counted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.core.models import Grant, Target
from authgate.core.types import GrantId, RevokedBy


class RevocationStoreTx(Protocol):
    """Revocation and re-approval of tokens (RFC 7009 and operator commands)."""

    async def lock_grant(self, grant_id: GrantId) -> Grant | None:
        """Lock the grant row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's
        BEGIN IMMEDIATE already serialises writers) and return its current state.
        """
        ...

    async def access_token_revoked_for(self, grant_id: GrantId, refresh_token_hash: bytes) -> bool:
        """Whether an access token issued with this refresh token is revoked (SEC-77)."""
        ...

    async def revoke_access_token(
        self, token_hash: bytes, *, now: datetime, by: RevokedBy
    ) -> int: ...

    async def revoke_refresh_token(
        self, token_hash: bytes, *, now: datetime, by: RevokedBy
    ) -> int: ...

    async def revoke_grant_tree(
        self, grant_id: GrantId, *, now: datetime, by: RevokedBy
    ) -> tuple[int, int]:
        """Revoke a live grant and each of its live tokens; returns (tokens, grants) changed."""
        ...

    async def mark_grant_replayed(self, grant_id: GrantId, *, now: datetime) -> bool:
        """RFC 9700 §4.14.2: revoke the grant as replayed, also if an operator had revoked it
        (so approval can never revive it, SEC-86); forget any kept successor pairs.
        """
        ...

    async def approve_access_token(self, token_hash: bytes, *, now: datetime) -> int:
        """Undo an operator revocation of an unexpired access token."""
        ...

    async def approve_refresh_token(self, token_hash: bytes, *, now: datetime) -> int:
        """Undo an operator revocation of an unexpired, unspent refresh token."""
        ...

    async def approve_grant(self, grant_id: GrantId, *, now: datetime) -> int:
        """Undo an operator revocation of an unexpired grant (its flag only)."""
        ...

    async def approve_grant_tree(self, grant_id: GrantId, *, now: datetime) -> int:
        """Undo operator revocations of the grant's unexpired, unspent tokens (and lift those
        of its expired access tokens, which stay expired); returns the live tokens restored.
        """
        ...

    async def bulk_revoke(
        self,
        *,
        client_id: str | None,
        sub: str | None,
        before: datetime | None,
        revoke_grants: bool,
        now: datetime,
        dry_run: bool,
    ) -> tuple[int, int]:
        """Revoke (or with dry_run only count) the live tokens of a client or user, issued
        before `before` if given; with revoke_grants also their live grants. Returns
        (tokens, grants) changed.
        """
        ...

    async def identify_token(self, token_hash: bytes) -> tuple[str, Target | None] | None:
        """What the value with this hash is, in one read: ("access_token", what revoking the
        access token needs, its grant's revocation included), ("refresh_token" |
        "authorization_code" | "device_code", None), or None.
        """
        ...

    async def set_refresh_idle_expiry(
        self, token_hash: bytes, idle_expires_at: datetime | None
    ) -> None: ...

    async def forget_replay_payloads(
        self, grant_id: GrantId, *, now: datetime, parent_hash: bytes | None
    ) -> None:
        """Drop the grant's kept successor pairs whose window closed, and the parent's (the
        successor is in use, so nobody needs the repeat answer any more).
        """
        ...

    async def sweep_replay_payloads(self, *, now: datetime, limit: int) -> int:
        """Drop up to `limit` kept successor pairs whose window closed, in any grant."""
        ...
