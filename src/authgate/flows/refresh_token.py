"""RFC 6749 §6: the refresh_token grant, with rotation and reuse detection (RFC 9700 §4.14.2).

The rules are core/refresh.py's; this flow applies them under the grant's row lock, which
every revocation path takes too (SECURITY.md REL-03: a revocation racing a refresh wins).
Rotation consumes the presented token with one conditional UPDATE, so of two concurrent
refreshes exactly one gets a successor (REL-01). The loser presents a spent token: a replay,
which revokes the grant, unless `refresh_token_reuse_grace` seconds have not yet passed, in
which case it gets the same successor pair, kept sealed with the presented token (core/crypto).
The two cases are distinct log events: `refresh_token.retry` and `refresh_token.reuse`.

Not here yet: a new ID token when `openid` was granted (OIDC Core §12.2) needs the ID token
builder of the authorization code flow.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime

from authgate.core import authorization_details, refresh
from authgate.core.crypto import seal, unseal
from authgate.core.errors import InvalidGrantError
from authgate.core.models import Client, Grant
from authgate.core.params import Params
from authgate.core.refresh import Outcome, RefreshState
from authgate.core.resource_indicators import single_resource, validate_refresh_resource
from authgate.core.scopes import OPENID
from authgate.core.token_request import TokenResponse, build_token_response, validate_client_grant
from authgate.core.tokens import hash_prefix, hash_token
from authgate.core.types import GrantType, RevokedBy
from authgate.flows import audit
from authgate.flows.context import Context
from authgate.flows.id_tokens import issue_id_token
from authgate.flows.outcomes import reuse_refused
from authgate.flows.tokens import find_resource, issue_access_token, issue_refresh_token
from authgate.store.base import StoreTx

log = logging.getLogger(__name__)
SWEEP_INTERVAL = 60.0  # seconds between sweeps of closed grace windows, per process
_next_sweep = 0.0


async def load(tx: StoreTx, token_hash: bytes) -> RefreshState | None:
    """A refresh token with its grant, status and SEC-77 block, read in this transaction."""
    found = await tx.find_refresh_token(token_hash)
    if found is None:
        return None
    rt, grant, status = found
    blocked = await tx.access_token_revoked_for(grant.grant_id, token_hash)
    return RefreshState(rt, grant, status, blocked)


async def exchange(
    tx: StoreTx, ctx: Context, client: Client, params: Params, *, now: datetime
) -> TokenResponse:
    """Refresh: a new access token (and refresh token when rotating), or invalid_grant."""
    validate_client_grant(client, GrantType.REFRESH_TOKEN)
    token = params.require("refresh_token")
    token_hash = hash_token(token)
    state = await load(tx, token_hash)
    if state is not None:
        await tx.lock_grant(state.grant.grant_id)
        state = await load(tx, token_hash)  # read again under the lock (REL-03)
    if state is None:
        raise InvalidGrantError("unknown refresh token")
    outcome = refresh.decide(state, client=client, now=now)
    request = _fingerprint(params)
    if outcome is Outcome.RETRY:
        body = await _repeat(tx, state, token, request, now=now)
        if body is not None:
            log.info(
                "refresh_token.retry grant=%s token=%s: answered with the kept successor pair",
                state.grant.grant_id,
                hash_prefix(token_hash),
            )
            return body
    if outcome is not Outcome.USE:
        await _revoke_replayed(tx, ctx, state, now=now)
    body = await _use(tx, ctx, client, state, token, params, request, now=now)
    await _sweep(tx, ctx, now=now)
    return body


async def _use(
    tx: StoreTx,
    ctx: Context,
    client: Client,
    state: RefreshState,
    token: str,
    params: Params,
    request: str,
    *,
    now: datetime,
) -> TokenResponse:
    rt, grant = state.token, state.grant
    scope = refresh.validate_scope(params.get("scope"), rt.scope)
    uri = validate_refresh_resource(single_resource(params.get_all("resource")), grant.resource)
    resource = await find_resource(tx, uri)
    # RFC 9396 §6: a refresh may narrow the granted details, never widen them.
    details = authorization_details.narrow(
        params.get("authorization_details"),
        grant.authorization_details,
        ctx.settings.details_types,
        allowed=client.authorization_details_types,
    )
    rotate = refresh.must_rotate(client)
    successor = None
    if rotate:
        # SEC-54: the new refresh token keeps the scope originally granted.
        successor = await issue_refresh_token(
            tx, ctx, grant=grant, scope=rt.scope, now=now, parent_hash=rt.token_hash
        )
    issued = await issue_access_token(
        tx,
        ctx,
        client=client,
        sub=grant.sub,
        scope=scope,
        resource=resource,
        now=now,
        grant_id=grant.grant_id,
        refresh_token_hash=successor.record.token_hash if successor else rt.token_hash,
        authorization_details=details,
        auth_time=grant.auth_time,
    )
    body = build_token_response(
        access_token=issued.token,
        expires_in=issued.expires_in,
        scope=scope,
        refresh_token=successor.token if successor else None,
        id_token=await _id_token(tx, ctx, client, grant, scope, issued.token, now=now),
        authorization_details=authorization_details.load(details),
    )
    if rotate:
        await _consume(tx, ctx, state, token, request, body, now=now)
    else:
        idle = refresh.slid_idle_expiry(rt, now=now, idle=ctx.settings.refresh_token_idle_ttl)
        await tx.set_refresh_idle_expiry(rt.token_hash, idle)
    await tx.touch_grant(grant.grant_id, now=now)
    return body


async def _id_token(
    tx: StoreTx,
    ctx: Context,
    client: Client,
    grant: Grant,
    scope: frozenset[str],
    access_token: str,
    *,
    now: datetime,
) -> str | None:
    """OIDC Core §12.2: a new ID token when `openid` is in the refreshed scope; same `sub`,
    the original `auth_time`, no `nonce`.
    """
    user = await tx.find_user(grant.sub) if grant.sub and OPENID in scope else None
    if user is None:
        return None
    return await issue_id_token(
        ctx, client, grant, user, access_token=access_token, now=now, with_nonce=False
    )


async def _consume(
    tx: StoreTx,
    ctx: Context,
    state: RefreshState,
    token: str,
    request: str,
    body: TokenResponse,
    *,
    now: datetime,
) -> None:
    rt = state.token
    until = refresh.replay_until(now=now, grace=ctx.settings.refresh_token_reuse_grace)
    payload = None
    if until is not None:
        kept = json.dumps({"request": request, "body": body}).encode()
        payload = seal(token, kept, aad=rt.token_hash)
    if not await tx.consume_refresh_token(
        rt.token_hash, now=now, replay_payload=payload, replay_until=until
    ):
        # Unreachable while the grant lock is held; if it happens, issue nothing (rollback).
        raise InvalidGrantError("refresh token was already used")
    # The parent's successor (the token just presented) is in use: its repeat is no retry.
    await tx.forget_replay_payloads(rt.grant_id, now=now, parent_hash=rt.parent_hash)


async def _repeat(
    tx: StoreTx, state: RefreshState, token: str, request: str, *, now: datetime
) -> TokenResponse | None:
    """The kept answer for a repeat inside the grace window, or None if this is no retry."""
    assert state.token.replay_payload is not None  # noqa: S101 - Outcome.RETRY says so
    plain = unseal(token, state.token.replay_payload, aad=state.token.token_hash)
    if plain is None:
        return None
    kept = json.loads(plain)
    if kept["request"] != request:
        return None  # not the same request: a spent token used for something else
    body: TokenResponse = kept["body"]
    successor = await load(tx, hash_token(str(body["refresh_token"])))
    if successor is None or not refresh.repeat_allowed(successor, now=now):
        return None
    return body


async def _revoke_replayed(
    tx: StoreTx, ctx: Context, state: RefreshState, *, now: datetime
) -> None:
    """RFC 9700 §4.14.2: a replayed refresh token revokes the whole grant; the client gets
    invalid_grant once the revocation is committed.
    """
    grant_id = state.grant.grant_id
    log.warning(
        "refresh_token.reuse grant=%s token=%s client=%s: spent refresh token presented "
        "again; grant revoked",
        grant_id,
        hash_prefix(state.token.token_hash),
        state.token.client_id,
    )
    if await tx.mark_grant_replayed(grant_id, now=now):
        await audit.record(
            tx,
            now=now,
            actor="authgate",
            action="grant.revoke",
            target_type="grant",
            target=grant_id,
            cascade=True,
            reason="refresh token reuse detected (RFC 9700 4.14.2)",
        )
    raise reuse_refused(
        ctx.metrics,
        InvalidGrantError("refresh token was already used; the grant has been revoked"),
        RevokedBy.REPLAY,
    )


def _fingerprint(params: Params) -> str:
    """What makes two refresh requests "the same request" for the grace window."""
    return json.dumps(
        [params.get("scope"), list(params.get_all("resource")), params.get("authorization_details")]
    )


async def _sweep(tx: StoreTx, ctx: Context, *, now: datetime) -> None:
    """Keep successor pairs only for their window: drop closed ones of any grant, at most
    every SWEEP_INTERVAL seconds per process, last in the transaction (it never waits on a
    row lock, so it cannot deadlock with the refreshes and revocations in flight).
    """
    global _next_sweep
    if ctx.settings.refresh_token_reuse_grace <= 0 or time.monotonic() < _next_sweep:
        return
    _next_sweep = time.monotonic() + SWEEP_INTERVAL
    await tx.sweep_replay_payloads(now=now, limit=500)
