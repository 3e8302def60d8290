"""`authgate token revoke|approve` (INTERFACE.md; issue 4 item 3): one test per rule, each of
which fails if that rule changes. Run on both databases, with real HTTP checks through the app.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import anyio
import httpx2
import pytest
from click.testing import CliRunner, Result

from authgate.cli import main
from authgate.core.types import GrantId, RevokedBy
from authgate.flows import audit
from tests.helpers import ASGIApp, now
from tests.parties import Parties, client_credentials, is_active, make_parties, refresh

Cli = Callable[..., Awaitable[Result]]


@pytest.fixture
def authgate(db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Cli:
    """Run the real CLI (in a thread: it runs its own event loop) against the test database."""
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", db)
    monkeypatch.delenv("AUTHGATE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    runner = CliRunner()

    async def invoke(*args: str, input: str | None = None) -> Result:
        call = functools.partial(runner.invoke, main, list(args), input=input)
        return await anyio.to_thread.run_sync(call)

    return invoke


@pytest.fixture
async def parties(app: ASGIApp) -> Parties:
    return await make_parties(app)


def ok(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    if not result.stdout.startswith("{"):
        return {}  # a text-mode command
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


async def active(http: httpx2.AsyncClient, parties: Parties, *tokens: str) -> list[bool]:
    return [await is_active(http, parties.r1, token) for token in tokens]


async def can_refresh(http: httpx2.AsyncClient, parties: Parties, token: str) -> bool:
    response = await refresh(http, parties.c1, token)
    assert response.status_code in {200, 400}, response.text
    return response.status_code == 200


# --- revoke an access token ------------------------------------------------------------------


@pytest.mark.spec("SEC-77")
async def test_revoke_access_token_cascades_to_its_refresh_token(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    result = ok(await authgate("token", "revoke", "--json", "--", t.access_token))
    assert result["type"] == "access_token" and result["cascade"] is True
    assert result["tokens"] == 2 and result["grants"] == 1
    assert await active(client, parties, t.access_token, t.refresh_token) == [False, False]
    assert not await can_refresh(client, parties, t.refresh_token)


@pytest.mark.spec("SEC-77")
async def test_revoke_access_token_without_cascade_still_blocks_its_refresh_token(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    result = ok(await authgate("token", "revoke", "--no-cascade", "--json", "--", t.access_token))
    assert result["tokens"] == 1 and result["grants"] == 0
    assert not await is_active(client, parties.r1, t.access_token)
    assert not await can_refresh(client, parties, t.refresh_token)
    # ...only while that access token stays revoked:
    ok(await authgate("token", "approve", "--no-cascade", "--json", "--", t.access_token))
    assert await is_active(client, parties.r1, t.access_token)
    assert await can_refresh(client, parties, t.refresh_token)


# --- revoke a refresh token --------------------------------------------------------------------


@pytest.mark.spec("SEC-85")
async def test_revoke_refresh_token_cascades_to_its_access_tokens(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    result = ok(await authgate("token", "revoke", "--json", "--", t.refresh_token))
    assert result["type"] == "refresh_token" and result["tokens"] == 2
    assert await active(client, parties, t.access_token, t.refresh_token) == [False, False]


@pytest.mark.spec("SEC-85")
async def test_revoke_refresh_token_without_cascade_leaves_the_access_token(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    result = ok(await authgate("token", "revoke", "--no-cascade", "--json", "--", t.refresh_token))
    assert result["tokens"] == 1 and result["grants"] == 0
    assert await active(client, parties, t.access_token, t.refresh_token) == [True, False]
    assert not await can_refresh(client, parties, t.refresh_token)


async def test_type_refresh_given_an_access_token_falls_back(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    result = ok(
        await authgate(
            "token", "revoke", "--type", "refresh", "--no-cascade", "--json", "--", t.access_token
        )
    )
    assert result["type"] == "access_token" and result["tokens"] == 1
    assert not await is_active(client, parties.r1, t.access_token)


async def test_revoking_a_revoked_token_is_no_error_and_no_change(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    ok(await authgate("token", "revoke", "--json", "--", t.refresh_token))
    again = await authgate("token", "revoke", "--", t.refresh_token)
    assert again.exit_code == 0 and "no change" in again.output
    assert ok(await authgate("token", "revoke", "--json", "--", t.access_token))["tokens"] == 0


async def test_unknown_token_is_an_error(authgate: Cli, parties: Parties) -> None:
    result = await authgate("token", "revoke", "--", "no-such-token")
    assert result.exit_code == 1 and "no access token or refresh token" in result.output


async def test_token_from_stdin(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    ok(await authgate("token", "revoke", "-", "--json", input=t.access_token + "\n"))
    assert not await is_active(client, parties.r1, t.access_token)


# --- approve -----------------------------------------------------------------------------------


@pytest.mark.spec("SEC-86")
async def test_approve_restores_a_revoked_token_and_with_cascade_its_grant(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    ok(await authgate("token", "revoke", "--", t.refresh_token))
    result = ok(await authgate("token", "approve", "--json", "--", t.refresh_token))
    assert result["tokens"] == 2 and result["grants"] == 1
    assert await active(client, parties, t.access_token, t.refresh_token) == [True, True]
    assert await can_refresh(client, parties, t.refresh_token)


async def test_approve_without_cascade_restores_only_the_named_token(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    ok(await authgate("token", "revoke", "--", t.refresh_token))
    result = ok(await authgate("token", "approve", "--no-cascade", "--json", "--", t.access_token))
    assert result["tokens"] == 1
    assert await active(client, parties, t.access_token, t.refresh_token) == [True, False]
    # its refresh token stays revoked until approved too (and that needs its access token live)
    ok(await authgate("token", "approve", "--no-cascade", "--", t.refresh_token))
    assert await can_refresh(client, parties, t.refresh_token)


@pytest.mark.spec("SEC-86")
async def test_expired_tokens_cannot_be_approved_and_expiry_is_independent(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    import sqlalchemy as sa

    from authgate.core.tokens import hash_token
    from authgate.store.sql import tables

    t = await parties.tokens()
    ok(await authgate("token", "revoke", "--", t.refresh_token))
    async with parties.app.store.transaction() as tx:  # the access token has just expired
        await tx._conn.execute(  # type: ignore[attr-defined]
            sa.update(tables.access_tokens)
            .where(tables.access_tokens.c.token_hash == hash_token(t.access_token))
            .values(expires_at=now() - timedelta(seconds=1))
        )
    refused = await authgate("token", "approve", "--", t.access_token)
    assert refused.exit_code == 1 and "expired" in refused.output
    # approving the live refresh token with cascade does not revive the expired access token
    ok(await authgate("token", "approve", "--", t.refresh_token))
    assert await active(client, parties, t.access_token, t.refresh_token) == [False, True]


@pytest.mark.spec("SEC-86")
async def test_tokens_killed_by_replay_detection_stay_dead(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    rt1 = (await refresh(client, parties.c1, t.refresh_token)).json()["refresh_token"]
    assert not await can_refresh(client, parties, t.refresh_token)  # replay: family revoked
    refused = await authgate("token", "approve", "--", rt1)
    assert refused.exit_code == 1 and "reuse detection" in refused.output
    assert not await can_refresh(client, parties, rt1)


@pytest.mark.spec("SEC-86")
async def test_operator_revocation_then_replay_cannot_be_undone(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    rt1 = (await refresh(client, parties.c1, t.refresh_token)).json()["refresh_token"]
    ok(await authgate("token", "revoke", "--", rt1))
    assert not await can_refresh(client, parties, t.refresh_token)  # a replay meanwhile
    refused = await authgate("token", "approve", "--", rt1)
    assert refused.exit_code == 1 and "reuse detection" in refused.output


@pytest.mark.spec("SEC-86")
@pytest.mark.parametrize("by", [RevokedBy.USER, RevokedBy.CODE_REUSE])
async def test_tokens_revoked_by_the_user_or_code_reuse_stay_dead(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties, by: RevokedBy
) -> None:
    t = await parties.tokens()
    async with parties.app.store.transaction() as tx:
        await tx.revoke_grant(GrantId(t.grant_id), now=now(), by=by)
    refused = await authgate("token", "approve", "--", t.access_token)
    assert refused.exit_code == 1 and "only operator revocations" in refused.output
    assert not await is_active(client, parties.r1, t.access_token)


@pytest.mark.spec("SEC-86")
async def test_tokens_revoked_by_their_client_stay_dead(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    from tests.parties import revoke

    t = await parties.tokens()
    await revoke(client, parties.c1, t.refresh_token)
    refused = await authgate("token", "approve", "--", t.refresh_token)
    assert refused.exit_code == 1 and "by its client" in refused.output


# --- bulk --------------------------------------------------------------------------------------


@pytest.mark.spec("SEC-84")
async def test_revoke_every_token_of_a_user_before_a_time(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    old = await parties.tokens(sub=parties.u1)
    await anyio.sleep(0.05)
    cut = now().isoformat()
    await anyio.sleep(0.05)
    new = await parties.tokens(sub=parties.u1)
    other = await parties.tokens(sub=parties.u2)
    result = ok(await authgate("token", "revoke", "--user", parties.u1, "--before", cut, "--json"))
    assert result["tokens"] == 2 and result["grants"] == 1
    assert await active(client, parties, old.access_token, old.refresh_token) == [False, False]
    tokens = (new.access_token, new.refresh_token, other.access_token, other.refresh_token)
    assert await active(client, parties, *tokens) == [True] * 4


async def test_revoke_every_token_of_a_user_by_username(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    a, b = await parties.tokens(sub=parties.u1), await parties.tokens(parties.c2, parties.u1)
    other = await parties.tokens(sub=parties.u2)
    result = ok(await authgate("token", "revoke", "--user", "u1", "--json"))
    assert result["tokens"] == 4 and result["grants"] == 2
    assert not any(await active(client, parties, a.access_token, b.refresh_token))
    assert await is_active(client, parties.r1, other.access_token)


async def test_revoke_every_token_of_a_client(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    a, b = await parties.tokens(sub=parties.u1), await parties.tokens(sub=parties.u2)
    machine = await client_credentials(client, parties.c1)
    other = await parties.tokens(parties.c2)
    dry = ok(
        await authgate(
            "token", "revoke", "--client-id", parties.c1.client_id, "--dry-run", "--json"
        )
    )
    assert (dry["tokens"], dry["grants"], dry["dry_run"]) == (5, 2, True)
    assert await active(client, parties, a.access_token, machine) == [True, True]
    result = ok(
        await authgate(
            "token", "revoke", "--client-id", parties.c1.client_id, "--reason", "leak", "--json"
        )
    )
    assert (result["tokens"], result["grants"]) == (5, 2)
    assert not any(await active(client, parties, a.access_token, b.refresh_token, machine))
    assert await is_active(client, parties.r1, other.access_token)
    # and a bulk revocation is an operator revocation: approval can undo it token by token
    ok(await authgate("token", "approve", "--", a.refresh_token))
    assert await active(client, parties, a.access_token, b.access_token) == [True, False]


async def test_bulk_usage_errors(authgate: Cli, parties: Parties) -> None:
    assert (await authgate("token", "revoke")).exit_code == 2
    both = await authgate("token", "revoke", "--user", parties.u1, "--", "x")
    assert both.exit_code == 2
    assert (await authgate("token", "revoke", "--user", "u1", "--no-cascade")).exit_code == 2
    bad = await authgate("token", "revoke", "--user", "u1", "--before", "last week")
    assert bad.exit_code == 1 and "ISO 8601" in bad.output
    assert (await authgate("token", "revoke", "--client-id", "nope")).exit_code == 1
    assert (await authgate("token", "revoke", "--user", "nobody")).exit_code == 1


# --- client retirement -------------------------------------------------------------------------


@pytest.mark.spec("SEC-83")
async def test_client_revoke_rejects_its_tokens_and_client_approve_restores_them(
    authgate: Cli, client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    ok(await authgate("client", "revoke", parties.c1.client_id, "--json"))
    assert await active(client, parties, t.access_token, t.refresh_token) == [False, False]
    denied = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=parties.c1.auth
    )
    assert denied.status_code == 401  # nothing new is issued to it
    ok(await authgate("client", "approve", parties.c1.client_id, "--json"))
    assert await active(client, parties, t.access_token, t.refresh_token) == [True, True]


# --- audit -------------------------------------------------------------------------------------


async def test_every_revoke_and_approve_is_in_the_audit_log(
    authgate: Cli, parties: Parties
) -> None:
    t = await parties.tokens()
    ok(await authgate("token", "revoke", "--reason", "lost laptop", "--", t.refresh_token))
    ok(
        await authgate(
            "token", "approve", "--no-cascade", "--reason", "found", "--", t.access_token
        )
    )
    ok(await authgate("token", "revoke", "--user", parties.u2, "--dry-run", "--json"))
    ok(await authgate("token", "revoke", "--user", parties.u2, "--json"))
    entries = await audit.list_entries(parties.app.store)
    assert [(e.action, e.target_type, e.cascade, e.reason, e.count) for e in entries] == [
        ("token.revoke", "user", True, None, 0),
        ("token.approve", "access_token", False, "found", 1),
        ("token.revoke", "refresh_token", True, "lost laptop", 2),
    ]
    assert all(e.actor == "cli" for e in entries)
    assert t.refresh_token not in str(entries)  # only the hash is recorded
    listed = await authgate("audit", "list")
    assert "token.approve access_token=sha256:" in listed.output and "reason=found" in listed.output
