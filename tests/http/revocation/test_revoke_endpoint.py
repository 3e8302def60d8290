"""The RFC 7009 revocation endpoint: SECURITY.md 1.K (SEC-76 to SEC-82)."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from authgate.core.models import AuthorizationCode
from authgate.core.tokens import hash_token, new_token
from authgate.core.types import ClientId, GrantId
from tests.helpers import make_client, now
from tests.http.device.pages import DEVICE_GRANT
from tests.parties import Parties, client_credentials, is_active, refresh, revoke


async def test_discovery_advertises_revocation(client: httpx2.AsyncClient) -> None:
    md = (await client.get("/.well-known/openid-configuration")).json()
    assert md["revocation_endpoint"] == "http://127.0.0.1:8000/revoke"
    assert "client_secret_basic" in md["revocation_endpoint_auth_methods_supported"]


@pytest.mark.spec("SEC-76")
async def test_revoking_a_refresh_token_revokes_the_access_tokens_of_its_grant(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    response = await revoke(client, parties.c1, t.refresh_token)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert (await refresh(client, parties.c1, t.refresh_token)).json()["error"] == "invalid_grant"
    assert not await is_active(client, parties.r1, t.access_token)


@pytest.mark.spec("SEC-77")
async def test_revoking_an_access_token_also_makes_its_refresh_token_unusable(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    # SECURITY.md "Decisions": revoking an access token never leaves its refresh token alive.
    t = await parties.tokens()
    assert (await revoke(client, parties.c1, t.access_token)).status_code == 200
    assert not await is_active(client, parties.r1, t.access_token)
    assert not await is_active(client, parties.r1, t.refresh_token)
    assert (await refresh(client, parties.c1, t.refresh_token)).json()["error"] == "invalid_grant"


async def test_another_grant_of_the_same_client_and_user_is_untouched(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    a, b = await parties.tokens(), await parties.tokens()
    await revoke(client, parties.c1, a.refresh_token)
    assert await is_active(client, parties.r1, b.access_token)
    assert (await refresh(client, parties.c1, b.refresh_token)).status_code == 200


@pytest.mark.spec("SEC-78")
@pytest.mark.parametrize("hint", ["refresh_token", "access_token", "foo"])
async def test_a_wrong_or_unknown_hint_does_not_stop_the_search(
    client: httpx2.AsyncClient, parties: Parties, hint: str
) -> None:
    t = await parties.tokens()
    target = t.access_token if hint != "access_token" else t.refresh_token
    response = await revoke(client, parties.c1, target, token_type_hint=hint)
    assert response.status_code == 200
    assert not await is_active(client, parties.r1, target)


@pytest.mark.spec("SEC-79")
async def test_unknown_expired_or_already_revoked_tokens_get_200(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    assert (await revoke(client, parties.c1, "garbage")).status_code == 200
    t = await parties.tokens()
    assert (await revoke(client, parties.c1, t.refresh_token)).status_code == 200
    assert (await revoke(client, parties.c1, t.refresh_token)).status_code == 200
    assert (await revoke(client, parties.c1, t.access_token)).status_code == 200


@pytest.mark.spec("SEC-80")
async def test_a_client_cannot_revoke_another_clients_token(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    response = await revoke(client, parties.c2, t.refresh_token)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert (await revoke(client, parties.p1, t.access_token)).status_code == 400
    assert (await refresh(client, parties.c1, t.refresh_token)).status_code == 200


@pytest.mark.spec("SEC-81")
async def test_revocation_requires_client_authentication(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    bare = await client.post("/revoke", data={"token": t.refresh_token})
    assert bare.status_code == 401 and bare.json()["error"] == "invalid_client"
    assert "www-authenticate" in bare.headers
    wrong = await client.post(
        "/revoke", data={"token": t.refresh_token}, auth=(parties.c1.client_id, "wrong")
    )
    assert wrong.status_code == 401
    assert (await refresh(client, parties.c1, t.refresh_token)).status_code == 200


@pytest.mark.spec("SEC-81")
async def test_a_public_client_revokes_with_its_client_id(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(parties.p1)
    assert (await revoke(client, parties.p1, t.refresh_token)).status_code == 200
    assert not await is_active(client, parties.r1, t.refresh_token)


@pytest.mark.spec("SEC-82")
async def test_revoking_a_rotated_out_member_revokes_the_family(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens(parties.p1)
    rt1 = (await refresh(client, parties.p1, t.refresh_token)).json()["refresh_token"]
    rt2 = (await refresh(client, parties.p1, rt1)).json()["refresh_token"]
    assert (await revoke(client, parties.p1, rt1)).status_code == 200
    assert (await refresh(client, parties.p1, rt2)).json()["error"] == "invalid_grant"


async def test_client_credentials_token_is_revoked_alone(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    a, b = (
        await client_credentials(client, parties.c1),
        await client_credentials(client, parties.c1),
    )
    assert (await revoke(client, parties.c1, a)).status_code == 200
    assert not await is_active(client, parties.c1, a)
    assert await is_active(client, parties.c1, b)


async def test_missing_token_is_invalid_request(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    response = await client.post("/revoke", data={}, auth=parties.c1.auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.spec("RFC 7009 §2.2.1")
async def test_an_authorization_code_is_an_unsupported_token_type(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    t = await parties.tokens()
    code = new_token()
    async with parties.app.store.transaction() as tx:
        await tx.add_authorization_code(
            AuthorizationCode(
                code_hash=hash_token(code),
                grant_id=GrantId(t.grant_id),
                client_id=ClientId(parties.c1.client_id),
                redirect_uri="https://c1.test/cb",
                created_at=now(),
                expires_at=now() + timedelta(seconds=60),
            )
        )
    response = await revoke(client, parties.c1, code)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_token_type"


@pytest.mark.spec("RFC 7009 §2.2.1")
async def test_a_device_code_is_an_unsupported_token_type(
    client: httpx2.AsyncClient, parties: Parties
) -> None:
    tv = await make_client(parties.app, grant_types=(DEVICE_GRANT,), scope="openid")
    started = await client.post("/device_authorization", data={"scope": "openid"}, auth=tv.auth)
    device_code = started.json()["device_code"]
    response = await client.post("/revoke", data={"token": device_code}, auth=tv.auth)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_token_type"
    assert "device_code" in response.json()["error_description"]


async def test_get_is_not_allowed(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/revoke")).status_code == 405
