"""`refresh_token_reuse_grace` (issue 5 item 3, SECURITY.md REL-01/REL-02): a repeat of the
same refresh request within the window gets the same successor pair, kept sealed with the
presented token; outside it, or for a different request, a repeat is a replay.
"""

from __future__ import annotations

import logging

import anyio
import httpx2
import pytest
import sqlalchemy as sa

from authgate.config import Settings
from authgate.core.tokens import hash_token
from authgate.store.sql import tables as t
from tests.conftest import ISSUER
from tests.parties import Parties, is_active, refresh

GRACE = 2


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, refresh_token_reuse_grace=GRACE)


async def _payload(parties: Parties, token: str) -> tuple[bytes | None, object]:
    async with parties.app.store.transaction(readonly=True) as tx:
        row = (
            await tx._conn.execute(  # type: ignore[attr-defined]
                sa.select(t.refresh_tokens.c.replay_payload, t.refresh_tokens.c.replay_until).where(
                    t.refresh_tokens.c.token_hash == hash_token(token)
                )
            )
        ).one()
    return row[0], row[1]


@pytest.mark.spec("REL-01")
async def test_a_retry_inside_the_window_gets_the_same_pair(
    client: httpx2.AsyncClient, parties: Parties, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="authgate.flows.refresh_token")
    tokens = await parties.tokens(parties.p1)
    first = await refresh(client, parties.p1, tokens.refresh_token)
    again = await refresh(client, parties.p1, tokens.refresh_token)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert any("refresh_token.retry" in r.getMessage() for r in caplog.records)
    assert not any("refresh_token.reuse" in r.getMessage() for r in caplog.records)
    # the kept pair is sealed: neither token appears in the stored bytes
    payload, until = await _payload(parties, tokens.refresh_token)
    assert payload is not None and until is not None
    for value in (first.json()["access_token"], first.json()["refresh_token"]):
        assert value.encode() not in payload
    # the successor works, and once it is used the kept pair is forgotten
    rt1 = first.json()["refresh_token"]
    second = await refresh(client, parties.p1, rt1)
    assert second.status_code == 200
    assert (await _payload(parties, tokens.refresh_token))[0] is None
    late_retry = await refresh(client, parties.p1, tokens.refresh_token)
    assert late_retry.json()["error"] == "invalid_grant"
    assert not await is_active(client, parties.r1, second.json()["access_token"])


@pytest.mark.spec("REL-01")
async def test_after_the_window_a_repeat_is_a_replay(
    client: httpx2.AsyncClient, parties: Parties, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="authgate.flows.refresh_token")
    tokens = await parties.tokens(parties.p1)
    first = await refresh(client, parties.p1, tokens.refresh_token)
    await anyio.sleep(GRACE + 0.2)
    replay = await refresh(client, parties.p1, tokens.refresh_token)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert any("refresh_token.reuse" in r.getMessage() for r in caplog.records)
    assert not await is_active(client, parties.r1, first.json()["access_token"])
    assert (await refresh(client, parties.p1, first.json()["refresh_token"])).status_code == 400
    assert (await _payload(parties, tokens.refresh_token))[0] is None


async def test_a_different_request_with_a_spent_token_is_a_replay(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    tokens = await parties.tokens(parties.p1)
    first = await refresh(client, parties.p1, tokens.refresh_token)
    other = await refresh(client, parties.p1, tokens.refresh_token, scope="openid")
    assert other.json()["error"] == "invalid_grant"
    assert not await is_active(client, parties.r1, first.json()["access_token"])


async def test_a_retry_of_a_revoked_grant_is_refused_without_escalating(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    from authgate.flows import revoke
    from tests.helpers import now

    tokens = await parties.tokens(parties.p1)
    first = (await refresh(client, parties.p1, tokens.refresh_token)).json()
    await revoke.operator_token_action(
        parties.app.store, first["refresh_token"], approve=False, actor="t", now=now()
    )
    retry = await refresh(client, parties.p1, tokens.refresh_token)
    assert retry.json()["error"] == "invalid_grant"
    # still an operator revocation, so it can be undone
    await revoke.operator_token_action(
        parties.app.store, first["refresh_token"], approve=True, actor="t", now=now()
    )
    assert (await refresh(client, parties.p1, first["refresh_token"])).status_code == 200


async def test_closed_windows_are_swept(client: httpx2.AsyncClient, parties: Parties) -> None:
    from authgate.flows import refresh_token

    a = await parties.tokens(parties.p1)
    b = await parties.tokens(parties.p1, sub=parties.u2)
    assert (await refresh(client, parties.p1, a.refresh_token)).status_code == 200
    await anyio.sleep(GRACE + 0.2)
    refresh_token._next_sweep = 0.0
    assert (await refresh(client, parties.p1, b.refresh_token)).status_code == 200
    assert (await _payload(parties, a.refresh_token))[0] is None  # another grant's, swept
    assert (await _payload(parties, b.refresh_token))[0] is not None  # still in its window
