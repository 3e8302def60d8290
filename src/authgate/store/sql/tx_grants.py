"""StoreTx, grant tree: grants, authorization codes and refresh tokens.

A grant owns its codes and tokens. Revoking the grant is one conditional UPDATE; every token
lookup joins its grant, so a revoked grant takes its whole tree down at once. Every statement
here is on a hot path (code exchange, refresh), so each is prepared once (prepared.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from authgate.core.models import AuthorizationCode, Grant, RefreshToken, TokenStatus
from authgate.core.types import GrantId, RevokedBy, Subject
from authgate.store.sql import rows, tables as t
from authgate.store.sql.pg_batch import ByKey
from authgate.store.sql.prepared import Prepared
from authgate.store.sql.tx_base import SqlTxBase

G, C, R = t.grants.c, t.authorization_codes.c, t.refresh_tokens.c

_FIND_REFRESH_TOKEN = Prepared(
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
        t.refresh_tokens.join(t.grants, G.grant_id == R.grant_id)
        .join(t.clients, t.clients.c.client_id == R.client_id)
        .outerjoin(t.users, t.users.c.sub == G.sub)
    )
    .where(R.token_hash == sa.bindparam("h")),
    batch=ByKey,
)
_ADD_GRANT = Prepared(sa.insert(t.grants))
_FIND_GRANT = Prepared(sa.select(t.grants).where(G.grant_id == sa.bindparam("g")), batch=ByKey)
_REVOKE_GRANT = Prepared(
    sa.update(t.grants)
    .where(G.grant_id == sa.bindparam("g"), G.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("p_now"), revoked_by=sa.bindparam("p_by"))
)
_TOUCH_GRANT = Prepared(
    sa.update(t.grants)
    .where(G.grant_id == sa.bindparam("g"))
    .values(last_used_at=sa.bindparam("p_now"))
)
_ADD_CODE = Prepared(sa.insert(t.authorization_codes))
_FIND_CODE = Prepared(
    sa.select(t.authorization_codes).where(C.code_hash == sa.bindparam("h")), batch=ByKey
)
_CONSUME_CODE = Prepared(
    sa.update(t.authorization_codes)
    .where(
        C.code_hash == sa.bindparam("h"),
        C.consumed_at.is_(None),
        C.expires_at > sa.bindparam("now"),
    )
    .values(consumed_at=sa.bindparam("p_now"))
)
_ADD_REFRESH_TOKEN = Prepared(sa.insert(t.refresh_tokens))
_CONSUME_REFRESH_TOKEN = Prepared(
    sa.update(t.refresh_tokens)
    .where(R.token_hash == sa.bindparam("h"), R.consumed_at.is_(None), R.revoked_at.is_(None))
    .values(
        consumed_at=sa.bindparam("p_now"),
        replay_payload=sa.bindparam("p_payload"),
        replay_until=sa.bindparam("p_until"),
    )
)


class GrantTx(SqlTxBase):
    async def add_grant(self, grant: Grant) -> None:
        await self._conn.execute(_ADD_GRANT, rows.grant_values(grant))

    async def find_grant(self, grant_id: GrantId) -> Grant | None:
        row = (await self._conn.execute(_FIND_GRANT, {"g": grant_id})).first()
        return rows.grant_from_row(row) if row else None

    async def revoke_grant(self, grant_id: GrantId, *, now: datetime, by: RevokedBy) -> bool:
        params = {"g": grant_id, "p_now": now, "p_by": by.value}
        return (await self._conn.execute(_REVOKE_GRANT, params)).rowcount == 1

    async def touch_grant(self, grant_id: GrantId, *, now: datetime) -> None:
        await self._conn.execute(_TOUCH_GRANT, {"g": grant_id, "p_now": now})

    async def list_offline_grants(self, sub: Subject, *, now: datetime) -> list[Grant]:
        live_refresh = sa.exists().where(
            R.grant_id == G.grant_id,
            R.revoked_at.is_(None),
            R.consumed_at.is_(None),
            R.expires_at > now,
            sa.or_(R.idle_expires_at.is_(None), R.idle_expires_at > now),
        )
        stmt = (
            sa.select(t.grants)
            .join(t.clients, t.clients.c.client_id == G.client_id)
            .where(
                G.sub == sub,
                G.revoked_at.is_(None),
                G.expires_at > now,
                t.clients.c.retired_at.is_(None),
                live_refresh,
            )
            .order_by(G.created_at.desc(), G.grant_id)
        )
        return [rows.grant_from_row(row) for row in await self._conn.execute(stmt)]

    async def add_authorization_code(self, code: AuthorizationCode) -> None:
        await self._conn.execute(_ADD_CODE, rows.code_values(code))

    async def find_authorization_code(self, code_hash: bytes) -> AuthorizationCode | None:
        row = (await self._conn.execute(_FIND_CODE, {"h": code_hash})).first()
        return rows.code_from_row(row) if row else None

    async def consume_authorization_code(self, code_hash: bytes, *, now: datetime) -> bool:
        """Mark an unconsumed, unexpired code used; of concurrent callers exactly one wins."""
        params = {"h": code_hash, "now": now, "p_now": now}
        return (await self._conn.execute(_CONSUME_CODE, params)).rowcount == 1

    async def add_refresh_token(self, token: RefreshToken) -> None:
        await self._conn.execute(_ADD_REFRESH_TOKEN, rows.refresh_token_values(token))

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
        params = {
            "h": token_hash,
            "p_now": now,
            "p_payload": replay_payload,
            "p_until": replay_until,
        }
        return (await self._conn.execute(_CONSUME_REFRESH_TOKEN, params)).rowcount == 1
