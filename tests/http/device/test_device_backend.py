"""RFC 8628 device authorization endpoint and device_code grant (SECURITY.md 1.I, REL-04)."""

from __future__ import annotations

import re
from datetime import timedelta

import anyio
import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authgate.core.client_auth import ClientCredentials
from authgate.core.errors import InvalidGrantError, OAuthError, TooManyRequestsError
from authgate.core.params import from_mapping
from authgate.core.tokens import hash_token
from authgate.core.types import ClientAuthMethod, Subject
from authgate.flows import device as device_flow, token as token_flow
from authgate.flows.users import set_disabled
from tests.helpers import ASGIApp, RegisteredClient, make_client, make_user, now

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


@pytest.fixture
async def d1(app: ASGIApp) -> RegisteredClient:
    return await make_client(
        app,
        name="TV app",
        public=True,
        grant_types=(DEVICE_GRANT, "refresh_token"),
        scope="openid profile offline_access",
    )


async def start(
    client: httpx2.AsyncClient, d1: RegisteredClient, scope: str = "openid offline_access"
) -> dict[str, object]:
    response = await client.post(
        "/device_authorization", data={"client_id": d1.client_id, "scope": scope}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def poll(
    client: httpx2.AsyncClient, d1: RegisteredClient, device_code: object
) -> httpx2.Response:
    return await client.post(
        "/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": d1.client_id},
    )


async def approve(app: ASGIApp, user_code: object, sub: str, *, yes: bool = True) -> bool:
    ctx = app.state["ctx"]
    found = await device_flow.find_user_code(
        ctx, str(user_code), ip="10.0.0.1", browser="b1", now=now()
    )
    return await device_flow.decide(
        ctx, found, sub=Subject(sub), approve=yes, auth_time=now(), now=now()
    )


@pytest.mark.spec("SEC-58")
async def test_device_authorization_response(
    client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    response = await client.post(
        "/device_authorization", data={"client_id": d1.client_id, "scope": "openid offline_access"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert USER_CODE.match(body["user_code"])
    assert len(body["device_code"]) >= 43
    assert body["verification_uri"] == "http://127.0.0.1:8000/device"
    assert (
        body["verification_uri_complete"]
        == f"http://127.0.0.1:8000/device?user_code={body['user_code']}"
    )
    assert (body["expires_in"], body["interval"]) == (600, 5)
    codes = {(await start(client, d1))["device_code"] for _ in range(50)}
    assert len(codes) == 50


@pytest.mark.spec("SEC-11")
async def test_client_without_the_device_grant_is_unauthorized(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    web = await make_client(app, redirect_uris=("https://a.test/cb",))
    response = await client.post("/device_authorization", data={"scope": "openid"}, auth=web.auth)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


async def test_confidential_device_clients_authenticate(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    conf = await make_client(app, grant_types=(DEVICE_GRANT,), scope="openid")
    missing = await client.post("/device_authorization", data={"client_id": conf.client_id})
    assert missing.status_code == 401
    ok = await client.post("/device_authorization", data={"scope": "openid"}, auth=conf.auth)
    assert ok.status_code == 200


async def test_scope_beyond_the_registration_is_invalid_scope(
    client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    response = await client.post(
        "/device_authorization", data={"client_id": d1.client_id, "scope": "openid admin"}
    )
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.spec("SEC-59")
async def test_pending_then_slow_down_over_http(
    client: httpx2.AsyncClient, d1: RegisteredClient
) -> None:
    body = await start(client, d1)
    first = await poll(client, d1, body["device_code"])
    assert first.status_code == 400
    assert first.json()["error"] == "authorization_pending"
    second = await poll(client, d1, body["device_code"])
    assert second.json()["error"] == "slow_down"
    assert second.headers["cache-control"] == "no-store"


@pytest.mark.spec("SEC-60")
async def test_the_grown_interval_is_stored(
    app: ASGIApp, d1: RegisteredClient, client: httpx2.AsyncClient
) -> None:
    """Through the flow with explicit times: the state lives in the database, so a second
    process (or a restart) sees the grown interval."""
    body = await start(client, d1)
    ctx = app.state["ctx"]
    creds = ClientCredentials(d1.client_id, ClientAuthMethod.NONE)
    params = from_mapping({"grant_type": DEVICE_GRANT, "device_code": str(body["device_code"])})
    t0 = now()

    async def at(seconds: int) -> str:
        try:
            await token_flow.token(ctx, creds, params, now=t0 + timedelta(seconds=seconds))
        except OAuthError as exc:
            return exc.error
        return "tokens"

    assert [await at(s) for s in (0, 1, 6, 11, 12, 27)] == [
        "authorization_pending",
        "slow_down",
        "slow_down",
        "authorization_pending",
        "slow_down",
        "authorization_pending",
    ]
    async with app.store.transaction(readonly=True) as tx:
        stored = await tx.find_device_code(hash_token(str(body["device_code"])))
    assert stored is not None
    assert stored.interval == 15


@pytest.mark.spec("SEC-62")
async def test_approved_code_yields_tokens_once_and_reuse_revokes_them(
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp
) -> None:
    body = await start(client, d1)
    sub = await make_user(app)
    assert await approve(app, body["user_code"], sub)
    tokens = await poll(client, d1, body["device_code"])
    assert tokens.status_code == 200, tokens.text
    data = tokens.json()
    assert data["scope"] == "offline_access openid"
    assert "refresh_token" in data
    keys = KeySet.import_key_set((await client.get("/jwks")).json())
    id_claims = jwt.decode(data["id_token"], keys, algorithms=["RS256"]).claims
    assert (id_claims["sub"], id_claims["aud"]) == (sub, d1.client_id)
    assert "nonce" not in id_claims
    again = await poll(client, d1, body["device_code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    async with app.store.transaction(readonly=True) as tx:
        found = await tx.find_access_token(hash_token(data["access_token"]))
    assert found is not None
    assert found[1].grant_revoked


@pytest.mark.spec("SEC-61")
async def test_denied_code_gives_access_denied_and_cannot_be_approved(
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp
) -> None:
    body = await start(client, d1)
    sub = await make_user(app)
    assert await approve(app, body["user_code"], sub, yes=False)
    denied = await poll(client, d1, body["device_code"])
    assert denied.json()["error"] == "access_denied"
    with pytest.raises(InvalidGrantError):
        await approve(app, body["user_code"], sub)
    unknown = await poll(client, d1, "not-a-device-code")
    assert unknown.json()["error"] == "invalid_grant"


@pytest.mark.spec("SEC-61")
async def test_expired_code(app: ASGIApp, d1: RegisteredClient, client: httpx2.AsyncClient) -> None:
    body = await start(client, d1)
    ctx = app.state["ctx"]
    creds = ClientCredentials(d1.client_id, ClientAuthMethod.NONE)
    params = from_mapping({"grant_type": DEVICE_GRANT, "device_code": str(body["device_code"])})
    with pytest.raises(OAuthError) as caught:
        await token_flow.token(ctx, creds, params, now=now() + timedelta(seconds=601))
    assert caught.value.error == "expired_token"


@pytest.mark.spec("SEC-63")
async def test_another_client_cannot_use_the_device_code(
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp
) -> None:
    other = await make_client(app, public=True, grant_types=(DEVICE_GRANT,), scope="openid")
    body = await start(client, d1)
    stolen = await client.post(
        "/token",
        data={
            "grant_type": DEVICE_GRANT,
            "device_code": body["device_code"],
            "client_id": other.client_id,
        },
    )
    assert stolen.json()["error"] == "invalid_grant"
    own = await poll(client, d1, body["device_code"])
    assert own.json()["error"] == "authorization_pending"  # no state change for D1


@pytest.mark.spec("SEC-68")
async def test_user_disabled_after_approval_gets_no_tokens(
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp
) -> None:
    body = await start(client, d1)
    sub = await make_user(app)
    assert await approve(app, body["user_code"], sub)
    await set_disabled(app.store, sub, disabled=True, now=now())
    response = await poll(client, d1, body["device_code"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.spec("REL-04")
async def test_concurrent_polls_of_an_approved_code_issue_once(
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp
) -> None:
    for _ in range(3):
        body = await start(client, d1)
        assert await approve(
            app, body["user_code"], await make_user(app, username=f"u{body['user_code']}")
        )
        statuses: list[int] = []

        async def one(code: object = body["device_code"], out: list[int] = statuses) -> None:
            out.append((await poll(client, d1, code)).status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(one)
        assert sorted(statuses) == [200] + [400] * 9


@pytest.mark.spec("SEC-64")
async def test_wrong_codes_are_limited_per_ip_and_a_valid_code_is_refused_at_the_limit(
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp
) -> None:
    ctx = app.state["ctx"]
    body = await start(client, d1)
    wrong = ["BBBB-BBBB", "bbbb bbbb", "CCCC-CCCC", "DDDD-DDDD", "FFFF-FFFF", "GGGG-GGGG"]
    for raw in wrong[:-1]:  # variants of BBBBBBBB count once: 4 distinct failures
        with pytest.raises(InvalidGrantError):
            await device_flow.find_user_code(ctx, raw, ip="10.9.9.9", browser=None, now=now())
    found = await device_flow.find_user_code(
        ctx, str(body["user_code"]), ip="10.9.9.9", browser=None, now=now()
    )
    assert found.user_code == str(body["user_code"]).replace("-", "")  # success does not reset
    with pytest.raises(InvalidGrantError):
        await device_flow.find_user_code(ctx, wrong[-1], ip="10.9.9.9", browser=None, now=now())
    with pytest.raises(TooManyRequestsError):
        await device_flow.find_user_code(
            ctx, str(body["user_code"]), ip="10.9.9.9", browser=None, now=now()
        )
    other_ip = await device_flow.find_user_code(
        ctx, str(body["user_code"]), ip="10.1.1.1", browser=None, now=now()
    )
    assert other_ip.client_id == d1.client_id
    later = now() + timedelta(seconds=app.settings.user_code_failure_window + 1)
    with pytest.raises(InvalidGrantError):  # a new window: looked up (and not found) again
        await device_flow.find_user_code(ctx, "BBBB-BBBB", ip="10.9.9.9", browser=None, now=later)


async def test_qr_code_of_the_verification_uri(client: httpx2.AsyncClient) -> None:
    svg = await client.get("/device/qr", params={"user_code": "bcdf-ghjk"})
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg")
    png = await client.get("/device/qr", params={"user_code": "BCDFGHJK", "format": "png"})
    assert png.content.startswith(b"\x89PNG")
    bad = await client.get("/device/qr", params={"user_code": "<script>"})
    assert bad.status_code == 400
