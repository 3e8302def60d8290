"""StoreTx, grant tree: grants, authorization codes and refresh tokens.

A grant owns its codes and tokens. Revoking the grant is one conditional UPDATE; every token
lookup joins its grant, so a revoked grant takes its whole tree down at once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from authgate.core.models import AuthorizationCode, Grant, RefreshToken, TokenStatus
from authgate.core.types import GrantId, RevokedBy
from authgate.store.sql import rows, tables as t
from authgate.store.sql.tx_base import SqlTxBase

_FIND_REFRESH_TOKEN = (
    sa.select(
        t.refresh_tokens,
        *rows.GRANT_COLUMNS,
        rows.client_retired,
        rows.user_disabled,
        rows.username,
        rows.grant_revoked,
        rows.grant_expires,
    )
    .select_from(
        t.refresh_tokens.join(t.grants, t.grants.c.grant_id == t.refresh_tokens.c.grant_id)
        .join(t.clients, t.clients.c.client_id == t.refresh_tokens.c.client_id)
        .outerjoin(t.users, t.users.c.sub == t.grants.c.sub)
    )
    .where(t.refresh_tokens.c.token_hash == sa.bindparam("h"))
)


class GrantTx(SqlTxBase):
    async def add_grant(self, grant: Grant) -> None:
        await self._conn.execute(sa.insert(t.grants).values(rows.grant_values(grant)))

    async def find_grant(self, grant_id: GrantId) -> Grant | None:
        row = (
            await self._conn.execute(sa.select(t.grants).where(t.grants.c.grant_id == grant_id))
        ).first()
        return rows.grant_from_row(row) if row else None

    async def revoke_grant(self, grant_id: GrantId, *, now: datetime, by: RevokedBy) -> bool:
        result = await self._conn.execute(
            sa.update(t.grants)
            .where(t.grants.c.grant_id == grant_id, t.grants.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=by.value)
        )
        return result.rowcount == 1

    async def touch_grant(self, grant_id: GrantId, *, now: datetime) -> None:
        await self._conn.execute(
            sa.update(t.grants).where(t.grants.c.grant_id == grant_id).values(last_used_at=now)
        )

    async def add_authorization_code(self, code: AuthorizationCode) -> None:
        await self._conn.execute(sa.insert(t.authorization_codes).values(rows.code_values(code)))

    async def find_authorization_code(self, code_hash: bytes) -> AuthorizationCode | None:
        row = (
            await self._conn.execute(
                sa.select(t.authorization_codes).where(
                    t.authorization_codes.c.code_hash == code_hash
                )
            )
        ).first()
        return rows.code_from_row(row) if row else None

    async def consume_authorization_code(self, code_hash: bytes, *, now: datetime) -> bool:
        """Mark an unconsumed, unexpired code used; of concurrent callers exactly one wins."""
        c = t.authorization_codes.c
        result = await self._conn.execute(
            sa.update(t.authorization_codes)
            .where(c.code_hash == code_hash, c.consumed_at.is_(None), c.expires_at > now)
            .values(consumed_at=now)
        )
        return result.rowcount == 1

    async def add_refresh_token(self, token: RefreshToken) -> None:
        await self._conn.execute(
            sa.insert(t.refresh_tokens).values(rows.refresh_token_values(token))
        )

    async def find_refresh_token(
        self, token_hash: bytes
    ) -> tuple[RefreshToken, Grant, TokenStatus] | None:
        row = (await self._conn.execute(_FIND_REFRESH_TOKEN, {"h": token_hash})).first()
        if row is None:
            return None
        return (
            rows.refresh_token_from_row(row),
            rows.grant_from_row(row, prefix="g_"),
            rows.status_from_row(row),
        )

    async def consume_refresh_token(
        self,
        token_hash: bytes,
        *,
        now: datetime,
        replay_payload: bytes | None = None,
        replay_until: datetime | None = None,
    ) -> bool:
        """Rotate: mark a live refresh token used (one conditional UPDATE; one winner).
        With a reuse grace window the successor pair is kept, encrypted, until it closes.
        """
        c = t.refresh_tokens.c
        result = await self._conn.execute(
            sa.update(t.refresh_tokens)
            .where(c.token_hash == token_hash, c.consumed_at.is_(None), c.revoked_at.is_(None))
            .values(consumed_at=now, replay_payload=replay_payload, replay_until=replay_until)
        )
        return result.rowcount == 1
