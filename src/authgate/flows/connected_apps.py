"""Connected apps (issue 5): the signed-in user sees the apps that hold offline access to
their account (a live grant with a live refresh token, OIDC Core §11) and ends one.

Ending one revokes the whole grant with the same cascade as an RFC 7009 or operator grant
revocation (`revoke_grant_tree`, under the grant's row lock, REL-03), recorded as revoked
by the user (RevokedBy.USER), which operator approval never undoes (SEC-86). A grant that
is not the signed-in user's is answered exactly like an unknown one (NotFoundError).
Signing in on the page goes through the login flow's password check and its limits (SEC-43).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from authgate.core.errors import NotFoundError
from authgate.core.models import Client, Grant
from authgate.core.types import GrantId, RevokedBy
from authgate.flows import audit, login as login_flow, sessions
from authgate.flows.context import Context
from authgate.store.base import StoreTx

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    """One app holding offline access: its client and the grant's scope, details, times."""

    grant: Grant
    client: Client


@dataclass(frozen=True, slots=True)
class AppsView:
    """The page of a signed-in user."""

    username: str
    apps: list[ConnectedApp]


@dataclass(frozen=True, slots=True)
class SignedInto:
    """A successful sign-in on the page: the browser's new session secrets."""

    session_secrets: tuple[str, ...] = field(repr=False)


async def show(ctx: Context, cookie_secrets: Sequence[str], *, now: datetime) -> AppsView | None:
    """The connected apps of the browser's current account; None if nobody is signed in."""
    async with ctx.store.transaction(readonly=True) as tx:
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        if not signed:
            return None
        user = signed[0].user
        apps: list[ConnectedApp] = []
        clients: dict[str, Client | None] = {}
        for grant in await tx.list_offline_grants(user.sub, now=now):
            if grant.client_id not in clients:
                clients[grant.client_id] = await tx.find_client(grant.client_id)
            client = clients[grant.client_id]
            if client is not None:
                apps.append(ConnectedApp(grant, client))
        return AppsView(user.username, apps)


async def _no_page(tx: StoreTx) -> None:
    """The apps page has no pending request to check before counting an attempt."""
    return None


async def login(
    ctx: Context,
    *,
    username: str,
    password: str,
    ip: str | None,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> SignedInto | None:
    """Sign in on the apps page; None for bad credentials (one answer for every kind,
    SEC-43). Raises TooManyRequestsError past the login limits.
    """
    attempt = await login_flow.check_password(
        ctx, username=username, password=password, ip=ip, guard=_no_page, now=now
    )
    if attempt.user is None:
        return None
    async with ctx.store.transaction() as tx:
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        await login_flow.count_success(tx, ctx, attempt, ip, now=now)
        _, secrets = await sessions.start_session(
            tx, attempt.user, current=signed, ttl=ctx.settings.session_ttl, now=now
        )
    return SignedInto(secrets)


async def revoke(
    ctx: Context, cookie_secrets: Sequence[str], grant_id: str, *, now: datetime
) -> int:
    """End one connected app of the signed-in user: its grant and every token of it;
    returns the tokens revoked. NotFoundError when nobody is signed in or the grant is not
    this user's (the same answer, so other users' grant ids reveal nothing).
    """
    async with ctx.store.transaction() as tx:
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        grant = await tx.lock_grant(GrantId(grant_id[:64])) if signed else None
        if grant is None or grant.sub != signed[0].user.sub:
            raise NotFoundError("no such connected app")
        user = signed[0].user
        tokens, grants = await tx.revoke_grant_tree(grant.grant_id, now=now, by=RevokedBy.USER)
        await audit.record(
            tx,
            now=now,
            actor="user:" + user.sub,
            action="grant.revoke",
            target_type="grant",
            target=grant.grant_id,
            cascade=True,
            reason="revoked by the user (connected apps)",
            count=tokens,
        )
    log.info(
        "grant.revoke by=user grant=%s client=%s tokens=%d grants=%d",
        grant.grant_id,
        grant.client_id,
        tokens,
        grants,
    )
    ctx.metrics.tokens_revoked(RevokedBy.USER.value, tokens)
    return tokens
