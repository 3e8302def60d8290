"""RFC 8628 §3.3: the person's side of the device flow, at the verification URI.

The code a person enters is looked up once, under the §5.1 limits (flows/user_codes.py),
and the request it names is bound to this browser as an Interaction of kind "device" that
holds the device code's hash; its secret is the browser's device cookie (only the hash is
stored), so no other browser can drive it. Every later step (sign in, approve or deny)
acts on the stored DeviceCode row, never on form fields (SEC-39). The decision is one
conditional UPDATE (pending → approved | denied), so of two browsers that entered the same
code, one decides; approval creates the grant the device's tokens will belong to. Nothing
is issued until the person presses approve, even with a signed-in session (SEC-67).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from authgate.core import device as rules
from authgate.core.device import CodeProblem
from authgate.core.errors import InvalidRequestError, TooManyRequestsError
from authgate.core.models import Client, DeviceCode, Interaction
from authgate.core.prompt import Account
from authgate.core.tokens import expiry, hash_token, new_id, same_hash
from authgate.core.types import Subject
from authgate.flows import device as device_flow, login as login_flow, sessions, user_codes
from authgate.flows.context import Context
from authgate.flows.sessions import SignedIn
from authgate.store.base import StoreTx

KIND = "device"
APPROVE = "approve"
DENY = "deny"


class DeviceStep(StrEnum):
    LOGIN = "login"
    CONSENT = "consent"
    APPROVED = "approved"
    DENIED = "denied"
    PROBLEM = "problem"  # the code was used or expired meanwhile (SEC-66)


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What the page of a device interaction shows."""

    step: DeviceStep
    interaction_id: str
    client: Client
    device: DeviceCode
    account: Account | None = None
    problem: CodeProblem | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Started:
    interaction_id: str


@dataclass(frozen=True, slots=True)
class SignedInto:
    """A successful sign-in: the browser's new session secrets (the page goes on)."""

    session_secrets: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Progress:
    sid: str | None = None  # the signed-in session the decision will be made as
    decision: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> _Progress:
        return cls(**json.loads(text))


@dataclass(frozen=True, slots=True)
class _Loaded:
    interaction: Interaction
    progress: _Progress
    device: DeviceCode
    client: Client

    def view(
        self,
        step: DeviceStep,
        *,
        account: Account | None = None,
        problem: CodeProblem | None = None,
        error: str | None = None,
    ) -> DeviceView:
        iid = self.interaction.interaction_id
        return DeviceView(step, iid, self.client, self.device, account, problem, error)


async def start(
    ctx: Context,
    raw_code: str,
    *,
    secret: str,
    cookie_secrets: Sequence[str],
    ip: str | None,
    now: datetime,
) -> Started | CodeProblem:
    """The code a person entered: bind the request it names to this browser, or say why
    it names none. Raises TooManyRequestsError at a §5.1 limit (after recording).
    """
    started: Started | None = None
    async with ctx.store.transaction() as tx:
        browser = user_codes.browser_key(secret)
        found = await user_codes.lookup(tx, ctx, raw_code, ip=ip, browser=browser, now=now)
        if isinstance(found, DeviceCode):
            signed = await sessions.signed_in(tx, cookie_secrets, now=now)
            progress = _Progress(sid=signed[0].session.sid if signed else None)
            started = Started(new_id())
            await tx.add_interaction(
                Interaction(
                    interaction_id=started.interaction_id,
                    secret_hash=hash_token(secret),
                    kind=KIND,
                    client_id=found.client_id,
                    request=progress.to_json(),
                    created_at=now,
                    expires_at=expiry(now, ctx.settings.interaction_ttl),
                    sub=signed[0].user.sub if signed else None,
                    device_code_hash=found.device_code_hash,
                )
            )
    if isinstance(found, TooManyRequestsError):
        raise found
    if isinstance(found, CodeProblem):
        return found
    assert started is not None  # noqa: S101 - a code was found
    return started


async def _load(tx: StoreTx, interaction_id: str, secret: str | None, now: datetime) -> _Loaded:
    found = await tx.find_interaction(interaction_id)
    if (
        found is None
        or found.kind != KIND
        or found.device_code_hash is None
        or secret is None
        or not same_hash(found.secret_hash, hash_token(secret))
    ):
        raise InvalidRequestError("this device request is unknown in this browser")
    if found.consumed_at is None and found.expires_at <= now:
        raise InvalidRequestError("this page has expired; enter the code again")
    device = await tx.find_device_code(found.device_code_hash)
    client = await tx.find_client(found.client_id)
    if device is None or client is None or client.is_retired:
        raise InvalidRequestError("this device request is no longer available")
    return _Loaded(found, _Progress.from_json(found.request), device, client)


def _account(progress: _Progress, signed: Sequence[SignedIn]) -> SignedIn | None:
    return next((s for s in signed if s.session.sid == progress.sid), None)


async def _page(
    tx: StoreTx, loaded: _Loaded, cookie_secrets: Sequence[str], now: datetime
) -> tuple[DeviceView, SignedIn | None]:
    """The page this browser sees now, and the account a decision would be made as."""
    if loaded.interaction.consumed_at is not None:
        approved = loaded.progress.decision == APPROVE
        return loaded.view(DeviceStep.APPROVED if approved else DeviceStep.DENIED), None
    problem = rules.check_user_code(loaded.device, now=now)
    if problem is not None:
        return loaded.view(DeviceStep.PROBLEM, problem=problem), None
    signed = await sessions.signed_in(tx, cookie_secrets, now=now)
    chosen = _account(loaded.progress, signed)
    if chosen is None:
        return loaded.view(DeviceStep.LOGIN), None
    return loaded.view(DeviceStep.CONSENT, account=chosen.account), chosen


async def show(
    ctx: Context,
    interaction_id: str,
    secret: str | None,
    *,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> DeviceView:
    """The current step: sign in, the consent page, the result, or why the code is gone."""
    async with ctx.store.transaction(readonly=True) as tx:
        loaded = await _load(tx, interaction_id, secret, now)
        view, _ = await _page(tx, loaded, cookie_secrets, now)
        return view


async def _save(
    tx: StoreTx, loaded: _Loaded, progress: _Progress, sub: Subject | None, now: datetime
) -> None:
    iid = loaded.interaction.interaction_id
    if not await tx.update_interaction(iid, request=progress.to_json(), sub=sub, now=now):
        raise InvalidRequestError("this device request was already completed")


async def _live(tx: StoreTx, interaction_id: str, secret: str | None, now: datetime) -> _Loaded:
    loaded = await _load(tx, interaction_id, secret, now)
    if loaded.interaction.consumed_at is not None:
        raise InvalidRequestError("this device request was already completed")
    return loaded


async def login(
    ctx: Context,
    interaction_id: str,
    secret: str | None,
    *,
    username: str,
    password: str,
    ip: str | None,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> DeviceView | SignedInto:
    """The login form of a device interaction, with the limits of every login (SEC-43)."""

    async def guard(tx: StoreTx) -> object:
        return await _live(tx, interaction_id, secret, now)

    attempt = await login_flow.check_password(
        ctx, username=username, password=password, ip=ip, guard=guard, now=now
    )
    async with ctx.store.transaction() as tx:
        loaded = await _live(tx, interaction_id, secret, now)
        if attempt.user is None:
            return loaded.view(DeviceStep.LOGIN, error=login_flow.BAD_CREDENTIALS)
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        await login_flow.count_success(tx, ctx, attempt, ip, now=now)
        new, secrets = await sessions.start_session(
            tx, attempt.user, current=signed, ttl=ctx.settings.session_ttl, now=now
        )
        progress = dataclasses.replace(loaded.progress, sid=new.session.sid)
        await _save(tx, loaded, progress, attempt.user.sub, now)
    return SignedInto(secrets)


async def use_another_account(
    ctx: Context, interaction_id: str, secret: str | None, *, now: datetime
) -> None:
    """ "Not you?": the next step is the login form."""
    async with ctx.store.transaction() as tx:
        loaded = await _live(tx, interaction_id, secret, now)
        await _save(tx, loaded, dataclasses.replace(loaded.progress, sid=None), None, now)


async def decide(
    ctx: Context,
    interaction_id: str,
    secret: str | None,
    decision: str | None,
    *,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> None:
    """The consent form's answer, for the account the page showed. Does nothing when the
    page shows something else by now (signed out, code used or expired): the next GET says so.
    """
    if decision not in (APPROVE, DENY):
        raise InvalidRequestError("decision must be approve or deny")
    async with ctx.store.transaction() as tx:
        loaded = await _load(tx, interaction_id, secret, now)
        _, chosen = await _page(tx, loaded, cookie_secrets, now)
        if chosen is None:  # not the consent page any more
            return
        progress = dataclasses.replace(loaded.progress, decision=decision)
        await _save(tx, loaded, progress, chosen.user.sub, now)
        if not await tx.consume_interaction(interaction_id, now=now):
            raise InvalidRequestError("this device request was already completed")
        approve = decision == APPROVE
        await device_flow.record_decision(
            tx, ctx, loaded.device, chosen.session, approve=approve, now=now
        )
