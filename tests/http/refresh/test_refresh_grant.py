"""The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
SECURITY.md 1.H.
"""

from __future__ import annotations

import httpx2
import pytest

from authgate.core.types import ClientId
from authgate.flows import clients, users
from tests.helpers import make_client, metric, now
from tests.parties import Parties, client_credentials, introspect, is_active, refresh

pytestmark = pytest.mark.spec("RFC 6749 §6")


async def test_discovery_lists_the_refresh_grant(client: httpx2.AsyncClient) -> None:
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert "refresh_token" in md["grant_types_supported"]


@pytest.mark.spec("SEC-52")
async def test_public_client_rotates_and_a_replay_revokes_the_family(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(parties.p1)
    first = await refresh(client, parties.p1, t.refresh_token)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"] != t.refresh_token
    at1, rt1 = body["access_token"], body["refresh_token"]
    assert await is_active(client, parties.r1, at1)

    assert await metric(client, "authgate_reuse_detected_total", reason="replay") == 0
    replay = await refresh(client, parties.p1, t.refresh_token)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert await metric(client, "authgate_reuse_detected_total", reason="replay") == 1
    after = await refresh(client, parties.p1, rt1)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    for token in (at1, rt1, t.access_token):
        assert not await is_active(client, parties.r1, token)


@pytest.mark.spec("SEC-53")
async def test_replay_detection_does_not_depend_on_timestamps(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(parties.p1)
    rt = t.refresh_token
    chain = [rt]
    for _ in range(2):
        response = await refresh(client, parties.p1, rt)
        assert response.status_code == 200
        rt = response.json()["refresh_token"]
        chain.append(rt)
    assert (await refresh(client, parties.p1, chain[0])).json()["error"] == "invalid_grant"
    assert (await refresh(client, parties.p1, chain[2])).json()["error"] == "invalid_grant"


async def test_confidential_client_rotates_by_default(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    body = (await refresh(client, parties.c1, t.refresh_token)).json()
    assert body["refresh_token"] != t.refresh_token
    assert (await refresh(client, parties.c1, body["refresh_token"])).status_code == 200


async def test_confidential_client_without_rotation_keeps_its_token(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    c3 = await make_client(
        parties.app,
        name="C3",
        redirect_uris=("https://c3.test/cb",),
        grant_types=("authorization_code", "refresh_token"),
        rotate_refresh_tokens=False,
    )
    t = await parties.tokens(c3)
    for _ in range(3):
        response = await refresh(client, c3, t.refresh_token)
        assert response.status_code == 200, response.text
        assert "refresh_token" not in response.json()
    assert await is_active(client, c3, t.refresh_token)


@pytest.mark.spec("SEC-51")
async def test_refresh_token_is_bound_to_its_client(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    stolen = await refresh(client, parties.c2, t.refresh_token)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert (await refresh(client, parties.c1, t.refresh_token)).status_code == 200


@pytest.mark.spec("SEC-54")
async def test_scope_may_narrow_but_never_widen(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(scope="openid offline_access")
    wider = await refresh(client, parties.c1, t.refresh_token, scope="openid email")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrow = await refresh(client, parties.c1, t.refresh_token, scope="openid")
    assert narrow.status_code == 200, narrow.text
    assert narrow.json()["scope"] == "openid"
    rt = narrow.json()["refresh_token"]
    info = (await introspect(client, parties.c1, rt)).json()
    assert info["scope"] == "offline_access openid"  # the new refresh token keeps the grant's
    again = await refresh(client, parties.c1, rt)
    assert again.json()["scope"] == "offline_access openid"


@pytest.mark.spec("SEC-57")
async def test_retired_client_cannot_refresh(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens()
    await clients.set_retired(
        parties.app.store, parties.c1.client_id, retired=True, actor="test", now=now()
    )
    response = await refresh(client, parties.c1, t.refresh_token)
    # The client cannot authenticate any more (SEC-83): 401 before the token is looked at.
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert not await is_active(client, parties.r1, t.refresh_token)
    await clients.set_retired(
        parties.app.store, parties.c1.client_id, retired=False, actor="test", now=now()
    )
    assert (await refresh(client, parties.c1, t.refresh_token)).status_code == 200


@pytest.mark.spec("SEC-57")
async def test_disabled_user_cannot_refresh(client: httpx2.AsyncClient, parties: Parties) -> None:
    t = await parties.tokens()
    await users.set_disabled(parties.app.store, parties.u1, disabled=True, now=now())
    response = await refresh(client, parties.c1, t.refresh_token)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert not await is_active(client, parties.r1, t.access_token)


async def test_deleted_client_takes_its_grants(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(parties.p1)
    await clients.delete_client(parties.app.store, parties.p1.client_id, actor="t", now=now())
    assert not await is_active(client, parties.r1, t.refresh_token)
    async with parties.app.store.transaction() as tx:
        assert await tx.find_client(ClientId(parties.p1.client_id)) is None


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
    ],
)
async def test_malformed_requests(
    client: httpx2.AsyncClient, parties: Parties, data: dict[str, str], error: str
) -> None:
    response = await client.post("/token", data=data, auth=parties.c1.auth)
    assert response.status_code == 400 and response.json()["error"] == error


async def test_client_not_registered_for_refresh_is_unauthorized(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    c4 = await make_client(
        parties.app, name="C4", grant_types=("client_credentials",), scope="api:read"
    )
    t = await parties.tokens()
    response = await client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": t.refresh_token},
        auth=c4.auth,
    )
    assert response.json()["error"] == "unauthorized_client"


async def test_client_credentials_tokens_are_not_refresh_tokens(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    at = await client_credentials(client, parties.c1)
    response = await refresh(client, parties.c1, at)
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.spec("RFC 8707 §2.2")
async def test_resource_at_refresh_sets_the_audience(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    from authgate.flows import resources

    await resources.create_resource(
        parties.app.store, uri="https://api.test", token_format="opaque", now=now()
    )
    t = await parties.tokens()
    unknown = await refresh(client, parties.c1, t.refresh_token, resource="https://nope.test")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_target"
    bad = await refresh(client, parties.c1, t.refresh_token, resource="https://api.test/#x")
    assert bad.json()["error"] == "invalid_target"
    ok = await refresh(client, parties.c1, t.refresh_token, resource="https://api.test")
    assert ok.status_code == 200, ok.text
    info = (await introspect(client, parties.r1, ok.json()["access_token"])).json()
    assert info["aud"] == "https://api.test"


@pytest.mark.spec("RFC 9396 §6")
async def test_authorization_details_cannot_be_added_at_refresh(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    response = await refresh(
        client, parties.c1, t.refresh_token, authorization_details='[{"type":"x"}]'
    )
    assert response.json()["error"] == "invalid_authorization_details"
