"""JWT access tokens (RFC 9068) at introspection and revocation: SECURITY.md 1.M, SEC-87."""

from __future__ import annotations

import httpx2
import pytest

from authgate.config import Settings
from authgate.core import jose
from authgate.flows import resources
from tests.conftest import ISSUER
from tests.helpers import now
from tests.parties import Parties, client_credentials, introspect, refresh, revoke


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, access_token_format="jwt")


async def _verify(client: httpx2.AsyncClient, token: str) -> jose.JwtContent:
    jwks = (await client.get("/jwks")).text
    return jose.verify_jwt(token, jose.parse_jwks(jwks), ("RS256", "ES256"))


@pytest.mark.spec("SEC-87")
async def test_a_revoked_jwt_is_inactive_though_its_signature_still_verifies(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    content = await _verify(client, t.access_token)
    assert content.header["typ"] == "at+jwt"
    body = (await introspect(client, parties.r1, t.access_token)).json()
    assert body["active"] is True
    for claim in ("iss", "sub", "client_id", "jti", "exp", "iat", "scope"):
        assert body[claim] == content.claims[claim], claim
    assert body["aud"] == content.claims["aud"]
    assert (await revoke(client, parties.c1, t.access_token)).status_code == 200
    await _verify(client, t.access_token)  # still a valid signature offline...
    assert (await introspect(client, parties.r1, t.access_token)).json() == {"active": False}


@pytest.mark.spec("SEC-94")
async def test_refreshed_jwts_carry_the_resource_as_audience(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    await resources.create_resource(
        parties.app.store, uri="https://api.test", alg="ES256", ttl=120, now=now()
    )
    t = await parties.tokens()
    body = (await refresh(client, parties.c1, t.refresh_token, resource="https://api.test")).json()
    content = await _verify(client, body["access_token"])
    assert content.header["alg"] == "ES256"
    assert content.claims["aud"] == "https://api.test"
    assert content.claims["exp"] - content.claims["iat"] == 120 == body["expires_in"]
    info = (await introspect(client, parties.r1, body["access_token"])).json()
    assert info["aud"] == "https://api.test" and info["jti"] == content.claims["jti"]


async def test_client_credentials_jwt_introspection(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    token = await client_credentials(client, parties.c1)
    content = await _verify(client, token)
    body = (await introspect(client, parties.c1, token)).json()
    assert body["sub"] == content.claims["sub"] == parties.c1.client_id
