"""A pending authorization request while the user signs in and consents.

The validated request is stored server-side as an Interaction (SEC-39: consent acts on it,
never on form fields) together with the user's progress. The browser that started it holds
a random secret in a cookie; only its hash is stored, so the interaction cannot be driven
from another browser. Finishing it is a conditional UPDATE, so a consent form submitted
twice yields one code (SEC-38).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from authgate.core import prompt
from authgate.core.authorize import AuthorizationRequest
from authgate.core.errors import InvalidRequestError
from authgate.core.models import Client, Interaction
from authgate.core.prompt import Account, Decision, Progress, Step
from authgate.core.tokens import expiry, hash_token, new_id, new_token, same_hash
from authgate.core.types import ClientId, ResponseMode, Subject
from authgate.flows.context import Context
from authgate.flows.sessions import SignedIn
from authgate.store.base import StoreTx

KIND = "authorize"


@dataclass(frozen=True, slots=True)
class ClientRedirect:
    """An authorization response to deliver to the client (success or error)."""

    redirect_uri: str
    response_mode: ResponseMode
    params: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PageView:
    """What a step's page shows."""

    step: Step
    interaction_id: str
    client: Client
    request: AuthorizationRequest
    accounts: tuple[Account, ...] = ()
    account: Account | None = None
    scope: frozenset[str] = frozenset()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one interaction request: a page or a redirect to the client, and the
    browser's new session secrets when they changed.
    """

    page: PageView | None = None
    redirect: ClientRedirect | None = None
    session_secrets: tuple[str, ...] | None = field(default=None, repr=False)
    status_code: int = 200


@dataclass(frozen=True, slots=True)
class Started:
    """A new interaction: the browser gets its secret and is sent to its page."""

    interaction_id: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Pending:
    interaction: Interaction
    request: AuthorizationRequest
    progress: Progress

    @property
    def interaction_id(self) -> str:
        return self.interaction.interaction_id


def _pack(request: AuthorizationRequest, progress: Progress) -> str:
    return json.dumps({"request": request.to_json(), "progress": progress.to_json()})


async def start(
    tx: StoreTx,
    ctx: Context,
    request: AuthorizationRequest,
    *,
    hint_sub: str | None,
    now: datetime,
) -> Started:
    secret = new_token()
    interaction = Interaction(
        interaction_id=new_id(),
        secret_hash=hash_token(secret),
        kind=KIND,
        client_id=request.client_id,
        request=_pack(request, Progress(hint_sub=hint_sub)),
        created_at=now,
        expires_at=expiry(now, ctx.settings.interaction_ttl),
    )
    await tx.add_interaction(interaction)
    return Started(interaction.interaction_id, secret)


async def load(tx: StoreTx, interaction_id: str, secret: str | None, *, now: datetime) -> Pending:
    """The live interaction this browser started; an error page otherwise."""
    found = await tx.find_interaction(interaction_id)
    if (
        found is None
        or found.kind != KIND
        or secret is None
        or not same_hash(found.secret_hash, hash_token(secret))
    ):
        raise InvalidRequestError("this sign-in request is unknown in this browser")
    if found.consumed_at is not None:
        raise InvalidRequestError("this sign-in request was already completed")
    if found.expires_at <= now:
        raise InvalidRequestError("this sign-in request has expired; start again from the app")
    data = json.loads(found.request)
    request = AuthorizationRequest.from_json(data["request"])
    return Pending(found, request, Progress.from_json(data["progress"]))


async def save(
    tx: StoreTx, pending: Pending, progress: Progress, *, sub: Subject | None, now: datetime
) -> Pending:
    """Record the user's progress; fails if the interaction finished meanwhile."""
    if not await tx.update_interaction(
        pending.interaction_id, request=_pack(pending.request, progress), sub=sub, now=now
    ):
        raise InvalidRequestError("this sign-in request was already completed")
    return Pending(pending.interaction, pending.request, progress)


async def find_client(tx: StoreTx, client_id: ClientId) -> Client:
    client = await tx.find_client(client_id)
    if client is None or client.is_retired:
        raise InvalidRequestError("the application is no longer available")
    return client


async def consents_of(
    tx: StoreTx, client: Client, signed: Sequence[SignedIn]
) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for s in signed:
        c = await tx.find_consent(s.user.sub, client.client_id)
        if c is not None:
            found[s.user.sub] = c.scope
    return found


async def decide(
    tx: StoreTx,
    request: AuthorizationRequest,
    client: Client,
    signed: Sequence[SignedIn],
    progress: Progress,
    *,
    now: datetime,
) -> Decision:
    return prompt.decide(
        request,
        client,
        accounts=[s.account for s in signed],
        progress=progress,
        consents=await consents_of(tx, client, signed),
        now=now,
    )


def page(
    pending: Pending,
    client: Client,
    signed: Sequence[SignedIn],
    decision: Decision,
    *,
    error: str | None = None,
) -> PageView:
    return PageView(
        step=decision.step,
        interaction_id=pending.interaction_id,
        client=client,
        request=pending.request,
        accounts=tuple(s.account for s in signed),
        account=decision.account,
        scope=decision.scope,
        error=error,
    )
