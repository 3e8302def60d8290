"""OIDC Core §3.1.2.1 prompt, max_age, hints; §3.1.2.6 errors for prompt=none."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authgate.core.errors import (
    AccountSelectionRequiredError,
    ConsentRequiredError,
    LoginRequiredError,
)
from authgate.core.prompt import Account, Decision, Progress, Step, decide
from authgate.core.types import Prompt, Subject
from tests.unit.authz_fixtures import C1, NOW, request

ALICE = Account("s1", Subject("u1"), "alice", NOW - timedelta(seconds=100), "1", ("pwd",))
BOB = Account("s2", Subject("u2"), "bob", NOW - timedelta(seconds=10))
OPENID = frozenset({"openid"})


FRESH = Progress()


def run(accounts=(ALICE,), progress=FRESH, consents=None, **req):  # type: ignore[no-untyped-def]
    return decide(
        request(**req),
        C1,
        accounts=list(accounts),
        progress=progress,
        consents={"u1": OPENID, "u2": OPENID} if consents is None else consents,
        now=NOW,
    )


def test_signed_in_with_consent_is_done() -> None:
    assert run() == Decision(Step.DONE, ALICE, OPENID)


def test_progress_round_trips() -> None:
    p = Progress(sid="s1", authenticated=True, hint_sub="u1")
    assert Progress.from_json(p.to_json()) == p


@pytest.mark.spec("SEC-28")
def test_no_session() -> None:
    assert run(accounts=()).step is Step.LOGIN
    with pytest.raises(LoginRequiredError):
        run(accounts=(), prompt=frozenset({Prompt.NONE}))


@pytest.mark.spec("SEC-28")
def test_consent_missing() -> None:
    assert run(consents={}).step is Step.CONSENT
    with pytest.raises(ConsentRequiredError):
        run(consents={}, prompt=frozenset({Prompt.NONE}))


@pytest.mark.spec("SEC-29")
def test_prompt_login_until_authenticated_in_this_interaction() -> None:
    assert run(prompt=frozenset({Prompt.LOGIN})).step is Step.LOGIN
    done = Progress(sid="s1", authenticated=True)
    assert run(progress=done, prompt=frozenset({Prompt.LOGIN})).step is Step.DONE


@pytest.mark.spec("SEC-29")
def test_max_age() -> None:
    assert run(max_age=1000).step is Step.DONE
    assert run(max_age=50).step is Step.LOGIN
    assert run(max_age=0).step is Step.LOGIN
    with pytest.raises(LoginRequiredError):
        run(max_age=50, prompt=frozenset({Prompt.NONE}))


def test_select_account() -> None:
    ask = frozenset({Prompt.SELECT_ACCOUNT})
    assert run(prompt=ask).step is Step.SELECT_ACCOUNT
    assert run(accounts=(), prompt=ask).step is Step.LOGIN
    chosen = Progress(sid="s2", selected=True)
    assert run(accounts=(ALICE, BOB), progress=chosen, prompt=ask).account == BOB
    another = Progress(selected=True, another=True)
    assert run(progress=another).step is Step.LOGIN


def test_several_accounts_need_a_choice() -> None:
    assert run(accounts=(ALICE, BOB)).step is Step.SELECT_ACCOUNT
    with pytest.raises(AccountSelectionRequiredError):
        run(accounts=(ALICE, BOB), prompt=frozenset({Prompt.NONE}))


def test_hints_pick_the_account() -> None:
    assert run(accounts=(ALICE, BOB), login_hint="bob").account == BOB
    assert run(accounts=(ALICE, BOB), login_hint="carol").step is Step.LOGIN
    by_sub = Progress(hint_sub="u2")
    assert run(accounts=(ALICE, BOB), progress=by_sub).account == BOB
    assert run(accounts=(ALICE,), progress=by_sub).step is Step.LOGIN


def test_chosen_session_that_ended_means_login() -> None:
    assert run(progress=Progress(sid="gone")).step is Step.LOGIN


def test_consented_in_this_interaction() -> None:
    done = Progress(sid="s1", consented=True)
    assert run(consents={}, progress=done).step is Step.DONE
