"""The operator audit log: who revoked or approved what, when, why, and how much changed."""

from __future__ import annotations

from datetime import datetime

from authgate.core.models import AuditEntry
from authgate.store.base import Store, StoreTx


async def record(
    tx: StoreTx,
    *,
    now: datetime,
    actor: str,
    action: str,
    target_type: str,
    target: str,
    cascade: bool = False,
    reason: str | None = None,
    count: int = 1,
    details: str | None = None,
) -> None:
    await tx.add_audit_entry(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            target_type=target_type,
            target=target,
            cascade=cascade,
            reason=reason,
            count=count,
            details=details,
        )
    )


async def list_entries(store: Store, *, limit: int = 100) -> list[AuditEntry]:
    async with store.transaction(readonly=True) as tx:
        return await tx.list_audit_entries(limit=limit)
