"""The RFC 7662 introspection endpoint: SECURITY.md 1.L (SEC-88 to SEC-93)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx2
import pytest

from authgate.core.models import Grant
from authgate.core.tokens import new_id
from authgate.core.types import ClientId, GrantId, Subject
from authgate.flows import clients, users
from authgate.flows.tokens import issue_access_token
from tests.helpers import now
from tests.parties import Parties, client_credentials, introspect, refresh, revoke

DETAILS = [{"type": "payment_initiation", "instructedAmount": {"currency": "EUR", "amount": "9"}}]


async def test_discovery_advertises_introspection(client: httpx2.AsyncClient) -> None:
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert md["introspection_endpoint"] == "http://127.0.0.1:8000/introspect"
    assert "none" not in md["introspection_endpoint_auth_methods_supported"]


@pytest.mark.spec("SEC-88")
async def test_callers_must_authenticate(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens()
    bare = await client.post("/introspect", data={"token": t.access_token})
    assert bare.status_code == 401 and bare.json()["error"] == "invalid_client"
    wrong = await client.post(
        "/introspect", data={"token": t.access_token}, auth=(parties.r1.client_id, "x")
    )
    assert wrong.status_code == 401


@pytest.mark.spec("SEC-92")
async def test_public_clients_get_401(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens(parties.p1)
    response = await client.post(
        "/introspect", data={"token": t.access_token, "client_id": parties.p1.client_id}
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.spec("SEC-90")
@pytest.mark.spec("SEC-93")
async def test_active_access_token_members(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens(scope="openid profile")
    response = await introspect(client, parties.r1, t.access_token)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"  # SEC-93
    body = response.json()
    assert body["active"] is True
    assert body["scope"] == "openid profile"
    assert body["client_id"] == parties.c1.client_id
    assert body["sub"] == parties.u1
    assert body["username"] == "u1"
    assert body["token_type"] == "Bearer"
    assert body["iss"] == "http://127.0.0.1:8000"
    assert body["exp"] - body["iat"] == 3600  # SEC-101: access_token_ttl
    assert body["nbf"] == body["iat"]
    assert isinstance(body["jti"], str) and body["aud"] == "http://127.0.0.1:8000"


@pytest.mark.spec("SEC-91")
async def test_the_hint_is_only_an_optimisation(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    body = (
        await introspect(client, parties.c1, t.refresh_token, token_type_hint="access_token")
    ).json()
    assert body["active"] is True and body["client_id"] == parties.c1.client_id
    body = (
        await introspect(client, parties.c1, t.access_token, token_type_hint="refresh_token")
    ).json()
    assert body["active"] is True and body["token_type"] == "Bearer"


@pytest.mark.spec("SEC-89")
async def test_inactive_tokens_are_exactly_active_false(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    rotated = await parties.tokens(parties.p1)
    assert (await refresh(client, parties.p1, rotated.refresh_token)).status_code == 200
    revoked = await parties.tokens()
    await revoke(client, parties.c1, revoked.refresh_token)
    for token in ("unknown", rotated.refresh_token, revoked.access_token, revoked.refresh_token):
        response = await introspect(client, parties.r1, token)
        assert response.status_code == 200 and response.json() == {"active": False}


async def test_a_client_sees_its_own_tokens_and_only_those(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    assert (await introspect(client, parties.c1, t.access_token)).json()["active"] is True
    assert (await introspect(client, parties.c2, t.access_token)).json() == {"active": False}
    assert (await introspect(client, parties.c2, t.refresh_token)).json() == {"active": False}


async def test_client_credentials_token(client: httpx2.AsyncClient, parties: Parties) -> None:
    token = await client_credentials(client, parties.c1, scope="api:read")
    body = (await introspect(client, parties.r1, token)).json()
    assert body["active"] is True and body["sub"] == parties.c1.client_id
    assert body["scope"] == "api:read" and "username" not in body


@pytest.mark.spec("SEC-83")
async def test_retired_client_tokens_are_inactive_and_it_cannot_introspect(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    store = parties.app.store
    await clients.set_retired(store, parties.c1.client_id, retired=True, actor="t", now=now())
    assert (await introspect(client, parties.r1, t.access_token)).json() == {"active": False}
    assert (await introspect(client, parties.c1, t.access_token)).status_code == 401
    await clients.set_retired(store, parties.c1.client_id, retired=False, actor="t", now=now())
    assert (await introspect(client, parties.r1, t.access_token)).json()["active"] is True


async def test_disabled_user_tokens_are_inactive(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    await users.set_disabled(parties.app.store, parties.u1, disabled=True, now=now())
    for token in (t.access_token, t.refresh_token):
        assert (await introspect(client, parties.r1, token)).json() == {"active": False}


@pytest.mark.spec("SEC-72")
async def test_authorization_details_are_a_top_level_member(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    ctx = parties.app.state["ctx"]
    when = now()
    grant = Grant(
        grant_id=GrantId(new_id()),
        client_id=ClientId(parties.c1.client_id),
        sub=Subject(parties.u1),
        scope=frozenset({"openid"}),
        created_at=when,
        expires_at=when + timedelta(days=1),
        authorization_details=json.dumps(DETAILS),
    )
    async with parties.app.store.transaction() as tx:
        c1 = await tx.find_client(ClientId(parties.c1.client_id))
        assert c1 is not None
        await tx.add_grant(grant)
        issued = await issue_access_token(
            tx,
            ctx,
            client=c1,
            sub=grant.sub,
            scope=grant.scope,
            resource=None,
            now=when,
            grant_id=grant.grant_id,
            authorization_details=grant.authorization_details,
        )
    body = (await introspect(client, parties.r1, issued.token)).json()
    assert body["authorization_details"] == DETAILS
