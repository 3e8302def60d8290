"""The authorization endpoint's use cases (RFC 6749 §4.1.1–§4.1.2, OIDC Core §3.1.2).

`authorize` validates a request in two phases (core/authorize.py), then either answers at
once (a code, or a `prompt=none` error) or starts an interaction for login, account choice
and consent. `show` and `select_account` drive that interaction; when nothing is left to
ask, `proceed` finishes it and issues the code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from authgate.core import authorize as rules
from authgate.core.authorize import AuthorizationRequest
from authgate.core.claims import load_claims
from authgate.core.errors import InvalidRequestError, OAuthError
from authgate.core.id_token import parse_hint
from authgate.core.jose import KeyRing
from authgate.core.models import AuthorizationCode, Client, Grant
from authgate.core.params import Params
from authgate.core.prompt import Decision, Progress, Step
from authgate.core.tokens import expiry, hash_token, new_id, new_token
from authgate.core.types import ClientId, GrantId
from authgate.flows import interaction, sessions
from authgate.flows.context import Context
from authgate.flows.interaction import ClientRedirect, Outcome, Pending, Started
from authgate.flows.sessions import SignedIn
from authgate.store.base import StoreTx

ANOTHER_ACCOUNT = "another"


async def authorize(
    ctx: Context, params: Params, *, cookie_secrets: Sequence[str], now: datetime
) -> ClientRedirect | Started:
    """One authorization request; raises OAuthError (with `redirect` once phase 1 passed)."""
    ring = await ctx.keys.ring(now)
    async with ctx.store.transaction() as tx:
        client_id = params.get("client_id")
        found = await tx.find_client(ClientId(client_id)) if client_id else None
        client = rules.validate_client(client_id, found)
        redirect_uri = rules.validate_redirect_uri(params, client)
        try:
            request = rules.validate_request(
                params, client, redirect_uri, ctx.settings.details_types
            )
            hint_sub = _hint_sub(request, ring, ctx.issuer)
            signed = await sessions.signed_in(tx, cookie_secrets, now=now)
            progress = Progress(hint_sub=hint_sub)
            decision = await interaction.decide(tx, request, client, signed, progress, now=now)
        except OAuthError as exc:
            exc.redirect = rules.error_redirect(params, redirect_uri)
            raise
        if decision.step is Step.DONE:
            return await issue_code(tx, ctx, request, client, decision, now=now)
        return await interaction.start(tx, ctx, request, hint_sub=hint_sub, now=now)


def _hint_sub(request: AuthorizationRequest, ring: KeyRing, issuer: str) -> str | None:
    """OIDC Core §3.1.2.1 `id_token_hint` and §5.5.1 `claims` sub value: the End-User the
    client expects. Both must agree when both are sent.
    """
    claimed = load_claims(request.claims).requested_sub()
    if request.id_token_hint is None:
        return claimed
    hinted = parse_hint(ring, request.id_token_hint, issuer=issuer).sub
    if claimed is not None and claimed != hinted:
        raise InvalidRequestError("id_token_hint and the claims sub value name different users")
    return hinted


async def issue_code(
    tx: StoreTx,
    ctx: Context,
    request: AuthorizationRequest,
    client: Client,
    decision: Decision,
    *,
    now: datetime,
) -> ClientRedirect:
    """RFC 6749 §4.1.2: a grant for what the user agreed to, and a single-use code for it."""
    account = decision.account
    assert account is not None  # noqa: S101 - DONE always names the account
    settings = ctx.settings
    grant = Grant(
        grant_id=GrantId(new_id()),
        client_id=client.client_id,
        sub=account.sub,
        scope=decision.scope,
        created_at=now,
        expires_at=expiry(now, settings.refresh_token_ttl),
        claims=request.claims,
        authorization_details=request.authorization_details,  # as the user approved it
        auth_time=account.auth_time,
        acr=account.acr,
        amr=account.amr,
        sid=account.sid,
        nonce=request.nonce,
    )
    await tx.add_grant(grant)
    code = new_token()
    await tx.add_authorization_code(
        AuthorizationCode(
            code_hash=hash_token(code),
            grant_id=grant.grant_id,
            client_id=client.client_id,
            redirect_uri=request.redirect_uri,
            created_at=now,
            expires_at=expiry(now, settings.authorization_code_ttl),
            code_challenge=request.code_challenge,
        )
    )
    return response(request, ctx.issuer, {"code": code})


def response(request: AuthorizationRequest, issuer: str, values: dict[str, str]) -> ClientRedirect:
    """RFC 6749 §4.1.2 with `state` echoed exactly, and RFC 9207 §2 `iss`."""
    params = dict(values)
    if request.state is not None:
        params["state"] = request.state
    params["iss"] = issuer
    return ClientRedirect(request.redirect_uri, request.response_mode, params)


async def proceed(
    tx: StoreTx,
    ctx: Context,
    pending: Pending,
    signed: Sequence[SignedIn],
    *,
    now: datetime,
    session_secrets: tuple[str, ...] | None = None,
) -> Outcome:
    """Show the next step's page, or finish the interaction and issue the code."""
    client = await interaction.find_client(tx, pending.request.client_id)
    decision = await interaction.decide(
        tx, pending.request, client, signed, pending.progress, now=now
    )
    if decision.step is not Step.DONE:
        view = interaction.page(pending, client, signed, decision)
        return Outcome(page=view, session_secrets=session_secrets)
    if not await tx.consume_interaction(pending.interaction_id, now=now):
        raise InvalidRequestError("this sign-in request was already completed")  # SEC-38
    redirect = await issue_code(tx, ctx, pending.request, client, decision, now=now)
    return Outcome(redirect=redirect, session_secrets=session_secrets)


async def show(
    ctx: Context,
    interaction_id: str,
    secret: str | None,
    *,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> Outcome:
    """The current step of an interaction (or its end, if a step was done elsewhere)."""
    async with ctx.store.transaction() as tx:
        pending = await interaction.load(tx, interaction_id, secret, now=now)
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        return await proceed(tx, ctx, pending, signed, now=now)


async def select_account(
    ctx: Context,
    interaction_id: str,
    secret: str | None,
    choice: str,
    *,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> Outcome:
    """The account chooser's answer: a signed-in account's `sid`, or "another"."""
    async with ctx.store.transaction() as tx:
        pending = await interaction.load(tx, interaction_id, secret, now=now)
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        old = pending.progress
        if choice == ANOTHER_ACCOUNT:
            progress = Progress(selected=True, another=True, hint_sub=old.hint_sub)
            sub = None
        else:
            chosen = next((s for s in signed if s.session.sid == choice), None)
            if chosen is None:
                raise InvalidRequestError("that account is not signed in in this browser")
            same = old.sid == choice
            progress = dataclasses.replace(
                old,
                sid=choice,
                selected=True,
                another=False,
                authenticated=old.authenticated and same,
                consented=old.consented and same,
            )
            sub = chosen.user.sub
        pending = await interaction.save(tx, pending, progress, sub=sub, now=now)
        return await proceed(tx, ctx, pending, signed, now=now)
