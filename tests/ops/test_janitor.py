"""The janitor (SECURITY.md REL-11): a sweep deletes exactly what core/retention.py allows,
in bounded batches, on both databases; it never deletes the evidence replay detection needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from authgate.core.retention import SWEEP_ORDER
from authgate.flows import janitor
from authgate.store.sql import tables as t
from authgate.store.sql.tx_janitor import TARGETS
from tests.helpers import ASGIApp, make_client, make_user, now

RETENTION = 3600
HOUR = timedelta(hours=1)


def _hash(label: str) -> bytes:
    return label.encode().ljust(32, b".")[:32]


async def _insert(app: ASGIApp, table: sa.Table, row: Mapping[str, Any]) -> None:
    async with app.store.transaction() as tx:
        await tx._conn.execute(sa.insert(table).values(**row))  # type: ignore[attr-defined]


async def _keys(app: ASGIApp, column: sa.Column[Any]) -> set[Any]:
    async with app.store.transaction(readonly=True) as tx:
        result = await tx._conn.execute(sa.select(column))  # type: ignore[attr-defined]
        return {row[0] for row in result}


class World:
    """Rows in every state, each labelled with whether a sweep at NOW may delete it."""

    def __init__(self, app: ASGIApp, client_id: str, sub: str, at: datetime) -> None:
        self.app, self.client_id, self.sub, self.now = app, client_id, sub, at
        self.old = at - timedelta(seconds=RETENTION) - timedelta(minutes=1)
        self.recent = at - timedelta(minutes=1)  # expired, but within retention
        self.later = at + HOUR
        self.expect: dict[str, dict[object, bool]] = {name: {} for name in TARGETS}

    async def grant(self, name: str, *, purge: bool, **fields: Any) -> str:
        row = {
            "grant_id": name,
            "client_id": self.client_id,
            "sub": self.sub,
            "scope": "openid",
            "created_at": self.old - HOUR,
            "expires_at": self.later,
            **fields,
        }
        await _insert(self.app, t.grants, row)
        self.expect["grants"][name] = purge
        return name

    async def code(self, label: str, grant: str, *, purge: bool, **fields: Any) -> None:
        row = {
            "code_hash": _hash(label),
            "grant_id": grant,
            "client_id": self.client_id,
            "redirect_uri": "https://c.test/cb",
            "created_at": self.old,
            "expires_at": self.old,
            **fields,
        }
        await _insert(self.app, t.authorization_codes, row)
        self.expect["authorization_codes"][_hash(label)] = purge

    async def refresh(self, label: str, grant: str, *, purge: bool, **fields: Any) -> None:
        row = {
            "token_hash": _hash(label),
            "grant_id": grant,
            "client_id": self.client_id,
            "scope": "openid",
            "issued_at": self.old,
            "expires_at": self.later,
            **fields,
        }
        await _insert(self.app, t.refresh_tokens, row)
        self.expect["refresh_tokens"][_hash(label)] = purge

    async def access(self, label: str, grant: str | None, *, purge: bool, expires: Any) -> None:
        row = {
            "token_hash": _hash(label),
            "jti": label,
            "grant_id": grant,
            "client_id": self.client_id,
            "scope": "",
            "token_format": "opaque",
            "issued_at": self.old - HOUR,
            "expires_at": expires,
        }
        await _insert(self.app, t.access_tokens, row)
        self.expect["access_tokens"][_hash(label)] = purge


async def _populate(w: World) -> None:
    old, recent, later = w.old, w.recent, w.later
    live = await w.grant("live", purge=False)
    await w.code("live-redeemed", live, purge=False, consumed_at=old)  # replay evidence
    await w.code("live-unredeemed", live, purge=True)
    await w.code("live-fresh", live, purge=False, expires_at=recent)
    await w.refresh("live-rotated", live, purge=False, consumed_at=old)  # replay evidence
    await w.refresh("live-current", live, purge=False)
    await w.access("live-at-old", live, purge=True, expires=old)
    await w.access("live-at-recent", live, purge=False, expires=recent)

    expired = await w.grant("expired", purge=True, expires_at=old)
    await w.code("expired-redeemed", expired, purge=True, consumed_at=old)
    await w.refresh("expired-rotated", expired, purge=True, consumed_at=old, expires_at=old)
    await w.access("expired-at", expired, purge=True, expires=old)

    outlived = await w.grant("outlived", purge=False, expires_at=old)
    await w.refresh("outlived-rt", outlived, purge=False, expires_at=old)
    await w.access("outlived-at", outlived, purge=False, expires=later)

    replayed = await w.grant("replayed", purge=True, revoked_at=old, revoked_by="replay")
    await w.refresh("replayed-rt", replayed, purge=True, consumed_at=old)
    await w.access("replayed-at", replayed, purge=True, expires=later)

    just_revoked = await w.grant("just", purge=False, revoked_at=recent, revoked_by="client")
    await w.refresh("just-rt", just_revoked, purge=False, consumed_at=old)

    operator = await w.grant("operator", purge=False, revoked_at=old, revoked_by="operator")
    await w.refresh("operator-rt", operator, purge=False)  # `token approve` may restore it
    await w.code("operator-redeemed", operator, purge=False, consumed_at=old)

    await w.access("cc-old", None, purge=True, expires=old)
    await w.access("cc-recent", None, purge=False, expires=recent)
    await w.access("cc-live", None, purge=False, expires=later)


async def _populate_loose(w: World) -> None:
    for bucket, ends, purge in [("ended", w.now, True), ("open", w.later, False)]:
        await _insert(w.app, t.rate_limits, {"bucket": bucket, "count": 3, "window_ends_at": ends})
        w.expect["rate_limits"][bucket] = purge
    for jti, expires, purge in [("j-old", w.old, True), ("j-recent", w.recent, False)]:
        row = {"client_id": w.client_id, "jti": jti, "expires_at": expires}
        await _insert(w.app, t.used_jtis, row)
        w.expect["used_jtis"][(w.client_id, jti)] = purge
    sessions = [
        ("s-expired", w.old, None, True),
        ("s-ended", w.later, w.old, True),
        ("s-just-ended", w.later, w.recent, False),
        ("s-live", w.later, None, False),
    ]
    for sid, expires, ended, purge in sessions:
        row = {
            "session_hash": _hash(sid),
            "sid": sid,
            "sub": w.sub,
            "auth_time": w.old,
            "created_at": w.old,
            "expires_at": expires,
            "ended_at": ended,
        }
        await _insert(w.app, t.sessions, row)
        w.expect["sessions"][_hash(sid)] = purge
    for iid, expires, purge in [("i-old", w.old, True), ("i-recent", w.recent, False)]:
        row = {
            "interaction_id": iid,
            "secret_hash": _hash(iid),
            "kind": "authorize",
            "client_id": w.client_id,
            "request": "{}",
            "created_at": w.old,
            "expires_at": expires,
        }
        await _insert(w.app, t.interactions, row)
        w.expect["interactions"][iid] = purge
    devices = [
        ("BCDFGHJK", w.old, None, None, True),  # expired, never used
        ("BCDFGHJL", w.recent, None, None, False),  # within retention
        ("BCDFGHJM", w.old, w.old, "live", False),  # yielded tokens; grant lives
        ("BCDFGHJN", w.old, w.old, "expired", True),  # its grant goes in the same sweep
        ("BCDFGHJP", w.later, None, None, False),  # pending
    ]
    for user_code, expires, consumed, grant_id, purge in devices:
        row = {
            "device_code_hash": _hash(user_code),
            "user_code": user_code,
            "client_id": w.client_id,
            "scope": "",
            "status": "consumed" if consumed else "pending",
            "interval": 5,
            "penalized": False,
            "created_at": w.old,
            "expires_at": expires,
            "consumed_at": consumed,
            "grant_id": grant_id,
        }
        await _insert(w.app, t.device_codes, row)
        w.expect["device_codes"][_hash(user_code)] = purge


_KEYS: dict[str, Any] = {
    "rate_limits": t.rate_limits.c.bucket,
    "sessions": t.sessions.c.session_hash,
    "interactions": t.interactions.c.interaction_id,
    "device_codes": t.device_codes.c.device_code_hash,
    "authorization_codes": t.authorization_codes.c.code_hash,
    "refresh_tokens": t.refresh_tokens.c.token_hash,
    "access_tokens": t.access_tokens.c.token_hash,
    "grants": t.grants.c.grant_id,
}


async def _remaining(app: ASGIApp, name: str) -> set[Any]:
    if name == "used_jtis":
        async with app.store.transaction(readonly=True) as tx:
            rows = await tx._conn.execute(sa.select(t.used_jtis.c.client_id, t.used_jtis.c.jti))  # type: ignore[attr-defined]
            return {(r[0], r[1]) for r in rows}
    return {bytes(k) if isinstance(k, memoryview) else k for k in await _keys(app, _KEYS[name])}


@pytest.fixture
async def world(app: ASGIApp) -> World:
    registered = await make_client(app, scope="api:read")
    sub = await make_user(app)
    w = World(app, registered.client_id, sub, now())
    await _populate(w)
    await _populate_loose(w)
    return w


@pytest.mark.spec("REL-11")
async def test_dry_run_counts_and_deletes_nothing(world: World, app: ASGIApp) -> None:
    report = await janitor.sweep(app.store, app.settings, now=world.now, dry_run=True)
    assert report.dry_run and not report.skipped
    for name, expected in world.expect.items():
        assert await _remaining(app, name) == set(expected), name
    # a dry run counts each step against today's rows; grants whose children are still
    # there are counted too (the real sweep removes the children first)
    assert report.counts["access_tokens"] == sum(world.expect["access_tokens"].values())
    assert report.counts["grants"] == sum(world.expect["grants"].values())


@pytest.mark.spec("REL-11")
@pytest.mark.parametrize("batch", [1, 2, 1000])
async def test_sweep_deletes_exactly_what_retention_allows(
    world: World, app: ASGIApp, batch: int
) -> None:
    seen: list[tuple[str, int]] = []
    report = await janitor.sweep(
        app.store, app.settings, now=world.now, batch=batch, on_purged=lambda *a: seen.append(a)
    )
    for name, expected in world.expect.items():
        survivors = {key for key, purge in expected.items() if not purge}
        assert await _remaining(app, name) == survivors, name
        assert report.counts[name] == len(expected) - len(survivors), name
    assert list(report.counts) == [p.value for p in SWEEP_ORDER]
    assert all(0 < n <= batch for _, n in seen)
    assert sum(n for _, n in seen) == report.total
    again = await janitor.sweep(app.store, app.settings, now=world.now, batch=batch)
    assert again.total == 0


async def test_only_one_sweeper_at_a_time(app: ASGIApp) -> None:
    async with app.store.sweep_lock() as first:
        assert first
        skipped = await janitor.sweep(app.store, app.settings, now=now())
        assert skipped.skipped and skipped.total == 0
    ran = await janitor.sweep(app.store, app.settings, now=now())
    assert not ran.skipped


async def test_batch_must_be_positive(app: ASGIApp) -> None:
    with pytest.raises(ValueError, match="batch"):
        await janitor.sweep(app.store, app.settings, now=now(), batch=-1)


async def test_row_counts_cover_every_table(app: ASGIApp) -> None:
    await make_client(app)
    async with app.store.transaction(readonly=True) as tx:
        counts = await tx.count_rows()
    assert set(counts) == {table.name for table in t.metadata.sorted_tables}
    assert all(n >= 0 for n in counts.values())
    if app.settings.is_sqlite:
        assert counts["clients"] == 1
