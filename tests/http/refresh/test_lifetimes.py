"""Refresh token lifetimes: the grant's absolute lifetime (`refresh_token_ttl`, never
extended by rotation) and the idle timeout (`refresh_token_idle_ttl`).

The refresh requests run through the token flow with explicit times, so the tests are exact
and do not depend on how fast a busy machine answers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from authgate.config import Settings
from authgate.core.client_auth import ClientCredentials
from authgate.core.errors import OAuthError
from authgate.core.params import from_mapping
from authgate.core.types import ClientAuthMethod
from authgate.flows import token as token_flow
from tests.conftest import ISSUER
from tests.helpers import RegisteredClient, make_client, now
from tests.parties import Parties

TTL, IDLE = 100, 40


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(
        issuer=ISSUER, database_url=db, refresh_token_ttl=TTL, refresh_token_idle_ttl=IDLE
    )


class Clock:
    def __init__(self) -> None:
        self.t0 = now()

    def at(self, seconds: float):
        return self.t0 + timedelta(seconds=seconds)


async def refresh_at(
    parties: Parties, client: RegisteredClient, token: str, when: object
) -> dict[str, object] | OAuthError:
    creds = (
        ClientCredentials(
            client.client_id, ClientAuthMethod.CLIENT_SECRET_BASIC, secret=client.secret
        )
        if client.secret
        else ClientCredentials(client.client_id, ClientAuthMethod.NONE)
    )
    params = from_mapping({"grant_type": "refresh_token", "refresh_token": token})
    try:
        return await token_flow.token(parties.app.state["ctx"], creds, params, now=when)  # type: ignore[arg-type]
    except OAuthError as exc:
        return exc


@pytest.mark.spec("SEC-55")
async def test_rotation_never_extends_the_absolute_lifetime(parties: Parties) -> None:
    clock = Clock()
    t = await parties.tokens(parties.p1)
    first = await refresh_at(parties, parties.p1, t.refresh_token, clock.at(35))
    assert isinstance(first, dict)
    second = await refresh_at(parties, parties.p1, str(first["refresh_token"]), clock.at(70))
    assert isinstance(second, dict)  # used within the idle window: still fine
    late = await refresh_at(parties, parties.p1, str(second["refresh_token"]), clock.at(TTL + 1))
    assert isinstance(late, OAuthError)
    assert late.error == "invalid_grant"
    assert "absolute lifetime" in (late.description or "")


async def test_idle_timeout(parties: Parties) -> None:
    clock = Clock()
    t = await parties.tokens(parties.p1)
    response = await refresh_at(parties, parties.p1, t.refresh_token, clock.at(IDLE + 1))
    assert isinstance(response, OAuthError)
    assert response.error == "invalid_grant"
    assert "unused for too long" in (response.description or "")


async def test_idle_deadline_slides_without_rotation(parties: Parties) -> None:
    c3 = await make_client(
        parties.app,
        name="C3",
        redirect_uris=("https://c3.test/cb",),
        grant_types=("authorization_code", "refresh_token"),
        rotate_refresh_tokens=False,
    )
    clock = Clock()
    t = await parties.tokens(c3)
    for when in (25, 50):  # each within IDLE of the previous use; 50 s is past the first IDLE
        response = await refresh_at(parties, c3, t.refresh_token, clock.at(when))
        assert isinstance(response, dict), response
        assert "refresh_token" not in response  # not rotating: the same token goes on
    idle = await refresh_at(parties, c3, t.refresh_token, clock.at(50 + IDLE + 1))
    assert isinstance(idle, OAuthError)
    assert idle.error == "invalid_grant"
    assert "unused for too long" in (idle.description or "")
