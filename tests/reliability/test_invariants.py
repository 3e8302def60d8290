"""The invariant checker finds what it claims to find: each rule against a database broken
on purpose (a forked refresh family, a second issuance of one code, an orphan grant), and
the Ledger's view against a token the server calls active while its grant is revoked.
"""

from __future__ import annotations

import os

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import ASGIApp
from tests.parties import Parties, is_active, make_parties
from tests.reliability import invariants


@pytest.fixture
async def parties(app: ASGIApp) -> Parties:
    return await make_parties(app)


async def _sql(url: str, statement: str, **params: object) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement), params)
    finally:
        await engine.dispose()


def _fresh_hash() -> bytes:
    return os.urandom(32)


async def test_a_healthy_database_passes(db: str, parties: Parties) -> None:
    await parties.tokens(parties.c1)
    await parties.tokens(parties.p1)
    assert await invariants.violations(db) == {}


async def test_a_forked_family_breaks_i2_and_i5(db: str, parties: Parties) -> None:
    t = await parties.tokens(parties.c1)
    await _sql(
        db,
        "INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, issued_at, expires_at)"
        " SELECT :h, grant_id, client_id, scope, issued_at, expires_at FROM refresh_tokens"
        " WHERE grant_id = :g",
        h=_fresh_hash(),
        g=t.grant_id,
    )
    found = await invariants.violations(db)
    assert set(found) == {
        "I2 forked refresh family",
        "I5 grant issued twice (refresh tokens)",
    }, found


async def test_a_grant_without_code_or_tokens_is_an_orphan(db: str, parties: Parties) -> None:
    t = await parties.tokens(parties.c1)
    for table in ("access_tokens", "refresh_tokens"):
        await _sql(db, f"DELETE FROM {table} WHERE grant_id = :g", g=t.grant_id)  # noqa: S608
    assert set(await invariants.violations(db)) == {"REL-12 orphan grant"}


async def test_the_ledger_catches_an_acknowledged_token_that_is_lost_or_misjudged(
    db: str, parties: Parties, client: httpx2.AsyncClient
) -> None:
    t = await parties.tokens(parties.c1)
    ledger = invariants.Ledger(access_tokens=[t.access_token], refresh_tokens=[t.refresh_token])

    async def truthful(token: str) -> bool:
        return await is_active(client, parties.r1, token)

    async def always_active(token: str) -> bool:
        return True

    await invariants.check(db, ledger, truthful)
    await _sql(
        db,
        "UPDATE grants SET revoked_at = 1, revoked_by = 'user' WHERE grant_id = :g",
        g=t.grant_id,
    )
    await invariants.check(db, ledger, truthful)  # the server agrees: both tokens dead
    with pytest.raises(AssertionError, match="I3"):
        await invariants.check(db, ledger, always_active)
    await _sql(db, "DELETE FROM access_tokens WHERE grant_id = :g", g=t.grant_id)
    with pytest.raises(AssertionError, match="I1: acknowledged access tokens lost"):
        await invariants.check(db, ledger)
    ledger.statuses[500] += 1
    with pytest.raises(AssertionError):
        ledger.assert_no_5xx()
