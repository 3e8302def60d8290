"""Consent rules and the offline_access rule (OIDC Core §11, SECURITY.md SEC-32)."""

from __future__ import annotations

import pytest

from authgate.core import consent
from authgate.core.errors import ConsentRequiredError, InteractionRequiredError
from authgate.core.types import ApplicationType, ClientAuthMethod, GrantType, Prompt
from tests.unit.authz_fixtures import C1, client

NO_REFRESH = client(grant_types=frozenset({GrantType.AUTHORIZATION_CODE}))
NATIVE = client(auth_method=ClientAuthMethod.NONE, application_type=ApplicationType.NATIVE)
OFFLINE = frozenset({"openid", "offline_access"})


@pytest.mark.spec("SEC-32")
def test_offline_access_needs_prompt_consent_or_earlier_grant() -> None:
    none: frozenset[Prompt] = frozenset()
    assert consent.effective_scope(OFFLINE, C1, prompt=none, remembered=None) == {"openid"}
    with_consent = frozenset({Prompt.CONSENT})
    assert consent.effective_scope(OFFLINE, C1, prompt=with_consent, remembered=None) == OFFLINE
    assert consent.effective_scope(OFFLINE, C1, prompt=none, remembered=OFFLINE) == OFFLINE
    assert consent.effective_scope(
        OFFLINE, NO_REFRESH, prompt=with_consent, remembered=OFFLINE
    ) == {"openid"}


@pytest.mark.spec("SEC-32")
def test_plain_oauth_offline_access_follows_the_grant_type() -> None:
    scope = frozenset({"api", "offline_access"})
    assert consent.effective_scope(scope, C1, prompt=frozenset(), remembered=None) == scope
    assert consent.effective_scope(scope, NO_REFRESH, prompt=frozenset(), remembered=None) == {
        "api"
    }


@pytest.mark.spec("SEC-32")
def test_refresh_token_issuance() -> None:
    assert consent.issues_refresh_token(C1, OFFLINE)
    assert not consent.issues_refresh_token(C1, frozenset({"openid"}))
    assert consent.issues_refresh_token(C1, frozenset({"api"}))
    assert not consent.issues_refresh_token(NO_REFRESH, frozenset({"api"}))


def test_needs_consent() -> None:
    scope = frozenset({"openid", "email"})
    empty: frozenset[Prompt] = frozenset()
    assert consent.needs_consent(scope, C1, prompt=empty, remembered=None)
    assert consent.needs_consent(scope, C1, prompt=empty, remembered=frozenset({"openid"}))
    assert not consent.needs_consent(scope, C1, prompt=empty, remembered=scope)
    assert consent.needs_consent(scope, C1, prompt=frozenset({Prompt.CONSENT}), remembered=scope)
    assert consent.needs_consent(scope, NATIVE, prompt=empty, remembered=scope)  # RFC 8252 §8.6


def test_prompt_none_errors() -> None:
    scope = frozenset({"openid"})
    assert isinstance(consent.consent_error(scope, None), ConsentRequiredError)
    assert isinstance(consent.consent_error(scope, scope), InteractionRequiredError)


def test_remember_accumulates() -> None:
    assert consent.remember(None, frozenset({"a"})) == {"a"}
    assert consent.remember(frozenset({"a"}), frozenset({"b"})) == {"a", "b"}
