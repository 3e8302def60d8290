"""Revocation: the RFC 7009 endpoint, and the operator's revoke and approve by token, client
or user (CLI `authgate token …` and /admin/tokens). The cascade and approval rules are
core/revocation.py's plans; this module finds the token, takes its grant's row lock (the
refresh flow takes the same one: REL-03), applies the plan and writes the audit log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from authgate.core.client_auth import ClientCredentials
from authgate.core.errors import InvalidRequestError, NotFoundError, UnsupportedTokenTypeError
from authgate.core.models import Client, Target
from authgate.core.params import Params
from authgate.core.revocation import (
    ApprovalPlan,
    BulkSelection,
    RevocationPlan,
    lookup_order,
    parse_operator_type,
    plan_approval,
    plan_revocation,
    validate_bulk,
)
from authgate.core.tokens import hash_prefix, hash_token
from authgate.core.types import ClientId, RevokedBy, Subject, TokenTypeHint
from authgate.flows import audit
from authgate.flows.client_auth import with_authenticated_client
from authgate.flows.context import Context
from authgate.flows.refresh_token import load as load_refresh_token
from authgate.store.base import Store, StoreTx

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OperatorResult:
    """What an operator command changed (or, with dry_run, would change)."""

    action: str
    tokens: int
    grants: int
    cascade: bool
    dry_run: bool = False
    kind: str | None = None  # access_token / refresh_token for single-token commands

    @property
    def message(self) -> str:
        verb = {"revoke": "revoked", "approve": "approved"}[self.action]
        if self.dry_run:
            verb = f"would have {verb}"
        what = f"{_plural(self.tokens, 'token')} and {_plural(self.grants, 'grant')}"
        if self.tokens == 0 and self.grants == 0 and not self.dry_run:
            return "no change (already in that state)"
        return f"{verb} {what}"

    def view(self) -> dict[str, object]:
        """JSON for the CLI's --json and the admin API."""
        return {
            "action": self.action,
            "tokens": self.tokens,
            "grants": self.grants,
            "cascade": self.cascade,
            "dry_run": self.dry_run,
            "type": self.kind,
            "message": self.message,
        }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


async def _locate(
    tx: StoreTx, token_hash: bytes, order: tuple[TokenTypeHint, ...]
) -> Target | None:
    """The stored token with this hash if it is of a kind in `order` (RFC 7009 §2.1). A hash
    is in at most one table, so one read tells which kind it is.
    """
    found = await tx.identify_token(token_hash)
    if found is None:
        return None
    kind, access = found
    if access is not None:
        return access if TokenTypeHint.ACCESS_TOKEN in order else None
    if kind == TokenTypeHint.REFRESH_TOKEN and TokenTypeHint.REFRESH_TOKEN in order:
        return await _refresh_target(tx, token_hash)
    return None


async def _refresh_target(tx: StoreTx, token_hash: bytes) -> Target | None:
    state = await load_refresh_token(tx, token_hash)
    if state is None:
        return None
    return Target(
        kind=TokenTypeHint.REFRESH_TOKEN,
        client_id=state.token.client_id,
        grant_id=state.grant.grant_id,
        expires_at=state.expires_at,
        revoked_by=state.token.revoked_by,
        grant_revoked_by=state.grant.revoked_by,
        consumed=state.token.consumed_at is not None,
        blocked=state.blocked,
    )


async def _locate_locked(
    tx: StoreTx, token_hash: bytes, order: tuple[TokenTypeHint, ...]
) -> Target | None:
    """As _locate, read again once the grant's row lock is held (REL-03)."""
    target = await _locate(tx, token_hash, order)
    if target is None or target.grant_id is None:
        return target
    await tx.lock_grant(target.grant_id)
    return await _locate(tx, token_hash, (target.kind,))


async def _revoke(
    tx: StoreTx,
    target: Target,
    token_hash: bytes,
    plan: RevocationPlan,
    *,
    by: RevokedBy,
    now: datetime,
) -> tuple[int, int]:
    tokens = grants = 0
    if plan.token:
        if target.kind is TokenTypeHint.ACCESS_TOKEN:
            tokens += await tx.revoke_access_token(token_hash, now=now, by=by)
        else:
            tokens += await tx.revoke_refresh_token(token_hash, now=now, by=by)
    if plan.grant_id is not None:
        tree_tokens, grants = await tx.revoke_grant_tree(plan.grant_id, now=now, by=by)
        tokens += tree_tokens
    return tokens, grants


async def _approve(
    tx: StoreTx, target: Target, token_hash: bytes, plan: ApprovalPlan, *, now: datetime
) -> tuple[int, int]:
    tokens = grants = 0
    if plan.token:
        if target.kind is TokenTypeHint.ACCESS_TOKEN:
            tokens += await tx.approve_access_token(token_hash, now=now)
        else:
            tokens += await tx.approve_refresh_token(token_hash, now=now)
    if plan.grant_flag is not None:
        grants += await tx.approve_grant(plan.grant_flag, now=now)
    if plan.grant_tree is not None:
        tokens += await tx.approve_grant_tree(plan.grant_tree, now=now)
    return tokens, grants


async def revoke_request(
    ctx: Context, creds: ClientCredentials, params: Params, *, now: datetime
) -> None:
    """RFC 7009 §2.1: a client revokes one of its tokens (and, SEC-77/§2.1, its grant's).

    One single-write transaction authenticates the client and finds the token: a value that
    is no live token of the client is answered from there, and a token without a grant is
    revoked there by its conditional UPDATE, the transaction's one write and last statement.
    A grant's token is revoked in a second transaction, under the grant's row lock, read
    again under it (REL-03), with its cascade.
    """
    token = params.require("token")
    token_hash = hash_token(token)

    async def locate(tx: StoreTx, client: Client) -> tuple[Target, int] | None:
        # One read tells what the value is (a hash is in at most one table), so the
        # token_type_hint need not order the search: an unknown value costs that read alone.
        found = await tx.identify_token(token_hash)
        if found is None:
            return None  # RFC 7009 §2.2: an invalid token is answered with 200
        kind, access = found
        if access is not None:
            target = access
        elif kind == TokenTypeHint.REFRESH_TOKEN:
            if (refresh := await _refresh_target(tx, token_hash)) is None:
                return None  # purged between the two reads
            target = refresh
        else:
            # RFC 7009 §2.2.1: a value we know but whose type cannot be revoked here.
            raise UnsupportedTokenTypeError(f"a {kind} cannot be revoked; it is single-use")
        _check_owner(target, client.client_id)
        if target.grant_id is not None:
            return target, 0  # revoked below, under its grant's lock
        plan = plan_revocation(target, cascade=True, now=now)
        tokens, _grants = await _revoke(tx, target, token_hash, plan, by=RevokedBy.CLIENT, now=now)
        return target, tokens

    located = await with_authenticated_client(ctx, creds, locate, now=now, single_write=True)
    if located is None:
        return
    found, tokens = located
    grants = 0
    if found.grant_id is not None:
        async with ctx.store.transaction() as tx:
            target = await _locate_locked(tx, token_hash, (found.kind,))
            if target is None:  # gone meanwhile (the janitor purged it)
                return
            _check_owner(target, found.client_id)
            plan = plan_revocation(target, cascade=True, now=now)
            tokens, grants = await _revoke(
                tx, target, token_hash, plan, by=RevokedBy.CLIENT, now=now
            )
    log.info(
        "token.revoke client=%s kind=%s token=%s tokens=%d grants=%d",
        found.client_id,
        found.kind.value,
        hash_prefix(token_hash),
        tokens,
        grants,
    )
    ctx.metrics.tokens_revoked(RevokedBy.CLIENT.value, tokens)


def _check_owner(target: Target, client_id: str) -> None:
    if target.client_id != client_id:
        # RFC 7009 §2.1: the AS "verifies whether the token was issued to the client making
        # the revocation request. If this validation fails, the request is refused".
        raise InvalidRequestError("the token was not issued to this client")


async def operator_token_action(
    store: Store,
    token: str,
    *,
    approve: bool,
    token_type: str | None = None,
    cascade: bool = True,
    actor: str,
    reason: str | None = None,
    now: datetime,
) -> OperatorResult:
    """`authgate token revoke|approve TOKEN [--type access|refresh] [--no-cascade]`."""
    order = lookup_order(parse_operator_type(token_type))
    token_hash = hash_token(token)
    action = "approve" if approve else "revoke"
    async with store.transaction() as tx:
        target = await _locate_locked(tx, token_hash, order)
        if target is None:
            raise NotFoundError("no access token or refresh token has that value")
        if approve:
            approval = plan_approval(target, cascade=cascade, now=now)
            tokens, grants = await _approve(tx, target, token_hash, approval, now=now)
        else:
            plan = plan_revocation(target, cascade=cascade, now=now)
            tokens, grants = await _revoke(
                tx, target, token_hash, plan, by=RevokedBy.OPERATOR, now=now
            )
        await audit.record(
            tx,
            now=now,
            actor=actor,
            action=f"token.{action}",
            target_type=target.kind.value,
            target="sha256:" + token_hash.hex(),
            cascade=cascade,
            reason=reason,
            count=tokens,
            details=json.dumps({"grants": grants, "grant_id": target.grant_id}),
        )
    return OperatorResult(action, tokens, grants, cascade, kind=target.kind.value)


async def _bulk_target(tx: StoreTx, selection: BulkSelection) -> tuple[str, str, str | None]:
    """(target type, target, sub) of a bulk revocation; NotFoundError for an unknown one."""
    if selection.client_id is not None:
        if await tx.find_client(ClientId(selection.client_id)) is None:
            raise NotFoundError(f"no client with client_id {selection.client_id!r}")
        return "client", selection.client_id, None
    who = str(selection.sub)
    found = await tx.find_user(Subject(who)) or await tx.find_user_by_username(who)
    if found is None:
        raise NotFoundError(f"no user with sub or username {who!r}")
    return "user", found.sub, found.sub


async def operator_bulk_revoke(
    store: Store,
    *,
    client_id: str | None,
    user: str | None,
    before: str | None,
    dry_run: bool,
    actor: str,
    reason: str | None = None,
    now: datetime,
) -> OperatorResult:
    """`authgate token revoke --client-id C | --user SUB [--before T] [--dry-run]`."""
    selection = validate_bulk(client_id=client_id, sub=user, before=before)
    async with store.transaction(readonly=dry_run) as tx:
        target_type, target, sub = await _bulk_target(tx, selection)
        tokens, grants = await tx.bulk_revoke(
            client_id=selection.client_id,
            sub=sub,
            before=selection.before,
            revoke_grants=selection.revokes_grants,
            now=now,
            dry_run=dry_run,
        )
        if not dry_run:
            await audit.record(
                tx,
                now=now,
                actor=actor,
                action="token.revoke",
                target_type=target_type,
                target=target,
                cascade=selection.revokes_grants,
                reason=reason,
                count=tokens,
                details=json.dumps(
                    {
                        "grants": grants,
                        "before": selection.before.isoformat() if selection.before else None,
                    }
                ),
            )
    return OperatorResult("revoke", tokens, grants, selection.revokes_grants, dry_run)
