"""OIDC Core §3.1.2.1–§3.1.2.6: what an authorization request needs next, given the
browser's signed-in accounts and what happened so far in this interaction: a login, the
account chooser, the consent page, or nothing (issue the code).

`prompt=none` never shows a page: each missing step becomes its §3.1.2.6 error
(`login_required`, `account_selection_required`, `consent_required`,
`interaction_required`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum

from authgate.core import consent
from authgate.core.authorize import AuthorizationRequest
from authgate.core.errors import AccountSelectionRequiredError, LoginRequiredError
from authgate.core.models import Client
from authgate.core.types import Prompt, Subject


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in session of this browser and its user."""

    sid: str
    sub: Subject
    username: str
    auth_time: datetime
    acr: str | None = None
    amr: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Progress:
    """What the user did in this interaction so far (stored with it)."""

    sid: str | None = None  # the account this interaction goes on with
    authenticated: bool = False  # that account signed in during this interaction
    selected: bool = False  # the user answered the account chooser
    another: bool = False  # the user chose "use another account"
    consented: bool = False  # the user approved on this interaction's consent page
    hint_sub: str | None = None  # the End-User named by id_token_hint or claims sub value

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Progress:
        return cls(**json.loads(text))


class Step(StrEnum):
    LOGIN = "login"
    SELECT_ACCOUNT = "select_account"
    CONSENT = "consent"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Decision:
    step: Step
    account: Account | None = None
    scope: frozenset[str] = frozenset()


_AMBIGUOUS = object()


def decide(
    req: AuthorizationRequest,
    client: Client,
    *,
    accounts: Sequence[Account],
    progress: Progress,
    consents: Mapping[str, frozenset[str]],
    now: datetime,
) -> Decision:
    """The next step; raises the §3.1.2.6 error instead when `prompt=none`."""
    silent = Prompt.NONE in req.prompt
    if Prompt.SELECT_ACCOUNT in req.prompt and not progress.selected and accounts:
        return Decision(Step.SELECT_ACCOUNT)
    if progress.another and not progress.authenticated:
        return Decision(Step.LOGIN)
    chosen = _choose(req, accounts, progress)
    if chosen is _AMBIGUOUS:
        if silent:
            raise AccountSelectionRequiredError("several accounts are signed in; choose one")
        return Decision(Step.SELECT_ACCOUNT)
    if not isinstance(chosen, Account):
        if silent:
            raise LoginRequiredError("the user is not signed in")
        return Decision(Step.LOGIN)
    if _needs_login(req, chosen, progress, now):
        if silent:
            raise LoginRequiredError("the user must sign in again")
        return Decision(Step.LOGIN, chosen)
    remembered = consents.get(chosen.sub)
    scope = consent.effective_scope(req.scope, client, prompt=req.prompt, remembered=remembered)
    details = req.authorization_details is not None
    if not progress.consented and consent.needs_consent(
        scope, client, prompt=req.prompt, remembered=remembered, details=details
    ):
        if silent:
            raise consent.consent_error(scope, remembered, details)
        return Decision(Step.CONSENT, chosen, scope)
    return Decision(Step.DONE, chosen, scope)


def _choose(
    req: AuthorizationRequest,
    accounts: Sequence[Account],
    progress: Progress,
) -> object:
    if progress.sid is not None:
        return next((a for a in accounts if a.sid == progress.sid), None)
    candidates = list(accounts)
    if progress.hint_sub is not None:
        # id_token_hint / claims sub value: only that End-User will do (§3.1.2.1, §5.5.1).
        candidates = [a for a in candidates if a.sub == progress.hint_sub]
    elif req.login_hint is not None:
        candidates = [a for a in candidates if a.username == req.login_hint]
    if len(candidates) > 1:
        return _AMBIGUOUS
    return candidates[0] if candidates else None


def _needs_login(
    req: AuthorizationRequest, account: Account, progress: Progress, now: datetime
) -> bool:
    if progress.authenticated:
        return False
    if Prompt.LOGIN in req.prompt:
        return True
    # §3.1.2.1 max_age: "If the elapsed time is greater than this value, the OP MUST
    # attempt to actively re-authenticate the End-User."
    return req.max_age is not None and (now - account.auth_time).total_seconds() > req.max_age
