"""StoreTx, authorization code flow: sessions, interactions and remembered consents."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from authgate.core.models import Consent, Interaction, Session
from authgate.core.types import ClientId, Subject
from authgate.store.sql import tables as t
from authgate.store.sql.tx_base import SqlTxBase

Row = sa.Row[Any]


def _session(r: Row) -> Session:
    m = r._mapping
    return Session(
        session_hash=m["session_hash"],
        sid=m["sid"],
        sub=Subject(m["sub"]),
        auth_time=m["auth_time"],
        acr=m["acr"],
        amr=tuple(json.loads(m["amr"] or "[]")),
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        last_seen_at=m["last_seen_at"],
        ended_at=m["ended_at"],
    )


def _interaction(r: Row) -> Interaction:
    m = r._mapping
    return Interaction(
        interaction_id=m["interaction_id"],
        secret_hash=m["secret_hash"],
        kind=m["kind"],
        client_id=ClientId(m["client_id"]),
        request=m["request"],
        sub=Subject(m["sub"]) if m["sub"] else None,
        device_code_hash=m["device_code_hash"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        consumed_at=m["consumed_at"],
    )


class AuthorizationTx(SqlTxBase):
    async def add_session(self, session: Session) -> None:
        await self._conn.execute(
            sa.insert(t.sessions).values(
                session_hash=session.session_hash,
                sid=session.sid,
                sub=session.sub,
                auth_time=session.auth_time,
                acr=session.acr,
                amr=json.dumps(list(session.amr)),
                created_at=session.created_at,
                expires_at=session.expires_at,
                last_seen_at=session.last_seen_at,
                ended_at=session.ended_at,
            )
        )

    async def find_sessions(self, hashes: Sequence[bytes], *, now: datetime) -> list[Session]:
        if not hashes:
            return []
        c = t.sessions.c
        result = await self._conn.execute(
            sa.select(t.sessions).where(
                c.session_hash.in_(list(hashes)), c.ended_at.is_(None), c.expires_at > now
            )
        )
        return [_session(r) for r in result]

    async def end_sessions(self, hashes: Sequence[bytes], *, now: datetime) -> int:
        if not hashes:
            return 0
        c = t.sessions.c
        result = await self._conn.execute(
            sa.update(t.sessions)
            .where(c.session_hash.in_(list(hashes)), c.ended_at.is_(None))
            .values(ended_at=now)
        )
        return result.rowcount

    async def add_interaction(self, interaction: Interaction) -> None:
        await self._conn.execute(
            sa.insert(t.interactions).values(
                interaction_id=interaction.interaction_id,
                secret_hash=interaction.secret_hash,
                kind=interaction.kind,
                client_id=interaction.client_id,
                request=interaction.request,
                sub=interaction.sub,
                device_code_hash=interaction.device_code_hash,
                created_at=interaction.created_at,
                expires_at=interaction.expires_at,
                consumed_at=interaction.consumed_at,
            )
        )

    async def find_interaction(self, interaction_id: str) -> Interaction | None:
        row = (
            await self._conn.execute(
                sa.select(t.interactions).where(t.interactions.c.interaction_id == interaction_id)
            )
        ).first()
        return _interaction(row) if row else None

    def _live(self, interaction_id: str, now: datetime) -> sa.ColumnElement[bool]:
        c = t.interactions.c
        return sa.and_(
            c.interaction_id == interaction_id, c.consumed_at.is_(None), c.expires_at > now
        )

    async def update_interaction(
        self, interaction_id: str, *, request: str, sub: Subject | None, now: datetime
    ) -> bool:
        result = await self._conn.execute(
            sa.update(t.interactions)
            .where(self._live(interaction_id, now))
            .values(request=request, sub=sub)
        )
        return result.rowcount == 1

    async def consume_interaction(self, interaction_id: str, *, now: datetime) -> bool:
        result = await self._conn.execute(
            sa.update(t.interactions).where(self._live(interaction_id, now)).values(consumed_at=now)
        )
        return result.rowcount == 1

    async def find_consent(self, sub: Subject, client_id: ClientId) -> Consent | None:
        c = t.consents.c
        row = (
            await self._conn.execute(
                sa.select(t.consents).where(c.sub == sub, c.client_id == client_id)
            )
        ).first()
        if row is None:
            return None
        m = row._mapping
        return Consent(
            sub=Subject(m["sub"]),
            client_id=ClientId(m["client_id"]),
            scope=frozenset(m["scope"].split()),
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )

    async def save_consent(self, consent: Consent) -> None:
        ins = self._insert(t.consents).values(
            sub=consent.sub,
            client_id=consent.client_id,
            scope=" ".join(sorted(consent.scope)),
            created_at=consent.created_at,
            updated_at=consent.updated_at,
        )
        await self._conn.execute(
            ins.on_conflict_do_update(
                index_elements=["sub", "client_id"],
                set_={"scope": ins.excluded.scope, "updated_at": ins.excluded.updated_at},
            )
        )
