"""Contract tests of StoreTx on both backends: the queries flows rely on."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from authgate.core.errors import TemporarilyUnavailableError
from authgate.core.models import AuthorizationCode, Grant, User
from authgate.core.tokens import hash_token, new_id, new_token
from authgate.core.types import ClientId, GrantId, RevokedBy, Subject
from authgate.flows.clients import set_retired
from authgate.flows.users import set_disabled
from authgate.store.base import Store
from tests.helpers import ASGIApp, issue_user_tokens, make_client, make_user, now


async def _grant(store: Store, client_id: str, sub: str | None) -> Grant:
    when = now()
    grant = Grant(
        grant_id=GrantId(new_id()),
        client_id=ClientId(client_id),
        sub=Subject(sub) if sub else None,
        scope=frozenset({"openid"}),
        created_at=when,
        expires_at=when + timedelta(hours=1),
        amr=("pwd",),
    )
    async with store.transaction() as tx:
        await tx.add_grant(grant)
    return grant


async def test_a_changed_client_row_is_seen_at_once(app: ASGIApp) -> None:
    """Parsed clients are reused per identical row (rows.client_from_row); any change to
    the row, by this process or another, gives the new values on the next read."""
    c = await make_client(app, scope="api:read")
    async with app.store.transaction() as tx:
        first = await tx.find_client(c.client_id)
        again = await tx.find_client(c.client_id)
    assert first is not None and first is again
    async with app.store.transaction() as tx:
        assert await tx.replace_client(dataclasses.replace(first, scope=frozenset({"other"})))
    async with app.store.transaction() as tx:
        changed = await tx.find_client(c.client_id)
    assert changed is not None and changed.scope == frozenset({"other"})
    await set_retired(app.store, c.client_id, retired=True, actor="test", now=now())
    async with app.store.transaction() as tx:
        retired = await tx.find_client(c.client_id)
    assert retired is not None and retired.retired_at is not None


async def test_usernames_are_unique(app: ASGIApp) -> None:
    when = now()
    user = User(sub=Subject("s1"), username="dup", created_at=when)
    async with app.store.transaction() as tx:
        assert await tx.add_user(user)
        assert not await tx.add_user(dataclasses.replace(user, sub=Subject("s2")))
        assert (await tx.find_user_by_username("dup")) == user


async def test_rate_limit_counts_within_a_window_and_resets_after(app: ASGIApp) -> None:
    t0 = now()
    end = t0 + timedelta(seconds=60)
    async with app.store.transaction() as tx:
        assert await tx.hit_rate_limit("b", now=t0, window_ends_at=end) == (1, end)
        assert (await tx.hit_rate_limit("b", now=t0, window_ends_at=end))[0] == 2
        assert await tx.peek_rate_limit("b", now=t0) == 2
        later = end + timedelta(seconds=1)
        count, ends = await tx.hit_rate_limit(
            "b", now=later, window_ends_at=later + timedelta(seconds=60)
        )
        assert (count, ends) == (1, later + timedelta(seconds=60))
        assert await tx.peek_rate_limit("other", now=t0) == 0


async def test_concurrent_rate_limit_hits_are_all_counted(app: ASGIApp) -> None:
    t0 = now()

    async def hit() -> None:
        async with app.store.transaction() as tx:
            await tx.hit_rate_limit("race", now=t0, window_ends_at=t0 + timedelta(minutes=1))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(hit)
    async with app.store.transaction(readonly=True) as tx:
        assert await tx.peek_rate_limit("race", now=t0) == 10


async def test_jti_is_recorded_once_until_it_expires(app: ASGIApp) -> None:
    t0 = now()
    cid = ClientId("c")
    async with app.store.transaction() as tx:
        assert await tx.record_jti(cid, "j", now=t0, expires_at=t0 + timedelta(seconds=5))
        assert not await tx.record_jti(cid, "j", now=t0, expires_at=t0 + timedelta(seconds=5))
        assert await tx.record_jti(
            ClientId("other"), "j", now=t0, expires_at=t0 + timedelta(seconds=5)
        )
        later = t0 + timedelta(seconds=6)
        assert await tx.record_jti(cid, "j", now=later, expires_at=later + timedelta(seconds=5))


async def test_exactly_one_of_concurrent_code_consumers_wins(app: ASGIApp) -> None:
    client = await make_client(app, redirect_uris=("https://a.test/cb",))
    grant = await _grant(app.store, client.client_id, await make_user(app))
    wins = 0
    for _ in range(10):
        code_hash = hash_token(new_token())
        t0 = now()
        async with app.store.transaction() as tx:
            await tx.add_authorization_code(
                AuthorizationCode(
                    code_hash=code_hash,
                    grant_id=grant.grant_id,
                    client_id=grant.client_id,
                    redirect_uri="https://a.test/cb",
                    created_at=t0,
                    expires_at=t0 + timedelta(seconds=60),
                )
            )
        results: list[bool] = []

        async def consume(h: bytes = code_hash, out: list[bool] = results) -> None:
            async with app.store.transaction() as tx:
                out.append(await tx.consume_authorization_code(h, now=now()))

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(consume)
        assert sorted(results) == [False] * 4 + [True]
        wins += 1
    assert wins == 10


async def test_expired_code_cannot_be_consumed(app: ASGIApp) -> None:
    client = await make_client(app, redirect_uris=("https://a.test/cb",))
    grant = await _grant(app.store, client.client_id, None)
    t0 = now()
    code = AuthorizationCode(
        code_hash=b"x" * 32,
        grant_id=grant.grant_id,
        client_id=grant.client_id,
        redirect_uri="https://a.test/cb",
        created_at=t0,
        expires_at=t0 + timedelta(seconds=1),
    )
    async with app.store.transaction() as tx:
        await tx.add_authorization_code(code)
        assert await tx.find_authorization_code(code.code_hash) == code
        assert not await tx.consume_authorization_code(
            code.code_hash, now=t0 + timedelta(seconds=2)
        )


async def test_exactly_one_of_concurrent_refresh_rotations_wins(app: ASGIApp) -> None:
    client = await make_client(app, redirect_uris=("https://a.test/cb",))
    tokens = await issue_user_tokens(app, client.client_id, await make_user(app))
    h = hash_token(tokens.refresh_token)
    results: list[bool] = []

    async def rotate() -> None:
        async with app.store.transaction() as tx:
            results.append(await tx.consume_refresh_token(h, now=now()))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(rotate)
    assert sorted(results) == [False] * 4 + [True]


async def test_token_status_reflects_grant_client_and_user(app: ASGIApp) -> None:
    client = await make_client(app, redirect_uris=("https://a.test/cb",))
    sub = await make_user(app)
    tokens = await issue_user_tokens(app, client.client_id, sub)
    at, rt = hash_token(tokens.access_token), hash_token(tokens.refresh_token)

    async def status() -> tuple[bool, bool, bool]:
        async with app.store.transaction(readonly=True) as tx:
            found_at = await tx.find_access_token(at)
            found_rt = await tx.find_refresh_token(rt)
        assert found_at is not None
        assert found_rt is not None
        s = found_at[1]
        assert found_rt[2] == s
        assert found_rt[1].grant_id == tokens.grant_id
        return s.client_retired, s.user_disabled, s.grant_revoked

    assert await status() == (False, False, False)
    await set_retired(app.store, client.client_id, retired=True, actor="t", now=now())
    await set_disabled(app.store, sub, disabled=True, now=now())
    assert await status() == (True, True, False)
    async with app.store.transaction() as tx:
        assert await tx.revoke_grant(GrantId(tokens.grant_id), now=now(), by=RevokedBy.OPERATOR)
        assert not await tx.revoke_grant(GrantId(tokens.grant_id), now=now(), by=RevokedBy.REPLAY)
        grant = await tx.find_grant(GrantId(tokens.grant_id))
    assert grant is not None
    assert grant.revoked_by is RevokedBy.OPERATOR
    assert await status() == (True, True, True)


async def test_deleting_a_client_deletes_its_grants_and_tokens(app: ASGIApp) -> None:
    from authgate.flows.clients import delete_client

    client = await make_client(app, redirect_uris=("https://a.test/cb",))
    tokens = await issue_user_tokens(app, client.client_id, await make_user(app))
    await delete_client(app.store, client.client_id, actor="t", now=now())
    async with app.store.transaction(readonly=True) as tx:
        assert await tx.find_access_token(hash_token(tokens.access_token)) is None
        assert await tx.find_refresh_token(hash_token(tokens.refresh_token)) is None
        assert await tx.find_grant(GrantId(tokens.grant_id)) is None


async def test_an_unreachable_database_is_temporarily_unavailable() -> None:
    from authgate.config import Settings
    from authgate.server import open_store

    store = open_store(
        Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", database_timeout=2)
    )
    try:
        with pytest.raises(TemporarilyUnavailableError):
            await store.ping()
    finally:
        await store.close()


async def test_a_sqlite_database_locked_too_long_is_temporarily_unavailable(
    tmp_path: Path,
) -> None:
    """Another process holding SQLite's write lock beyond `database_timeout`: a 503, not a
    500 (the BEGIN IMMEDIATE of engine.py's hook fails with the driver's own error)."""
    from authgate.config import Settings
    from authgate.server import open_store

    path = tmp_path / "locked.db"
    store = open_store(Settings(database_url=f"sqlite:///{path}", database_timeout=0.2))
    await store.upgrade()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(TemporarilyUnavailableError):
            async with store.transaction():
                pass
        other.execute("ROLLBACK")
        async with store.transaction() as tx:  # the next transaction works again
            assert await tx.find_client(ClientId("nobody")) is None
    finally:
        other.close()
        await store.close()


async def test_a_user_code_is_unique_among_live_codes_and_freed_by_expiry(app: ASGIApp) -> None:
    from authgate.core.models import DeviceCode
    from authgate.core.types import DeviceStatus

    client = await make_client(
        app,
        public=True,
        grant_types=("urn:ietf:params:oauth:grant-type:device_code",),
        scope="openid",
    )
    t0 = now()

    def device(seed: bytes, expires_in: int) -> DeviceCode:
        return DeviceCode(
            device_code_hash=hash_token(seed.decode()),
            user_code="BCDFGHJK",
            client_id=ClientId(client.client_id),
            scope=frozenset({"openid"}),
            status=DeviceStatus.PENDING,
            interval=5,
            created_at=t0,
            expires_at=t0 + timedelta(seconds=expires_in),
        )

    async with app.store.transaction() as tx:
        assert await tx.add_device_code(device(b"first", 60), now=t0)
        assert not await tx.add_device_code(device(b"second", 60), now=t0)  # held by a live code
        later = t0 + timedelta(seconds=61)
        assert await tx.add_device_code(device(b"third", 600), now=later)  # the holder expired
        holder = await tx.find_device_code_by_user_code("BCDFGHJK")
        assert await tx.find_device_code(hash_token("first")) is None
    assert holder is not None
    assert holder.device_code_hash == hash_token("third")
