"""RFC 8628 device authorization endpoint and device_code grant (SECURITY.md 1.I, REL-04)."""

from __future__ import annotations

from datetime import timedelta

import anyio
import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authgate.core.client_auth import ClientCredentials
from authgate.core.device import CodeProblem
from authgate.core.errors import OAuthError, TooManyRequestsError
from authgate.core.params import from_mapping
from authgate.core.tokens import hash_token
from authgate.core.types import ClientAuthMethod
from authgate.flows import token as token_flow
from authgate.flows.user_codes import find_user_code
from authgate.flows.users import set_disabled
from tests.helpers import ASGIApp, RegisteredClient, make_client, make_user, metric, now
from tests.http.authorize.browser import Browsers
from tests.http.device.pages import DEVICE_GRANT, USER_CODE, poll, start, verify


async def approve(
    browsers: Browsers, user_code: object, username: str = "alice", *, yes: bool = True
) -> httpx2.Response:
    """A person approves (or denies) on the verification page, in a browser of their own."""
    decision = "approve" if yes else "deny"
    page = await verify(browsers(), str(user_code), username=username, decision=decision)
    assert page.status_code == 200, page.text
    return page


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
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp, browsers: Browsers
) -> None:
    body = await start(client, d1)
    sub = await make_user(app)
    await approve(browsers, body["user_code"])
    tokens = await poll(client, d1, body["device_code"])
    assert tokens.status_code == 200, tokens.text
    data = tokens.json()
    assert data["scope"] == "offline_access openid"
    assert "refresh_token" in data
    keys = KeySet.import_key_set((await client.get("/jwks")).json())
    id_claims = jwt.decode(data["id_token"], keys, algorithms=["RS256"]).claims
    assert (id_claims["sub"], id_claims["aud"]) == (sub, d1.client_id)
    assert "nonce" not in id_claims
    assert await metric(client, "authgate_reuse_detected_total", reason="device_code_reuse") == 0
    again = await poll(client, d1, body["device_code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    async with app.store.transaction(readonly=True) as tx:
        found = await tx.find_access_token(hash_token(data["access_token"]))
    assert found is not None
    assert found[1].grant_revoked
    assert await metric(client, "authgate_reuse_detected_total", reason="device_code_reuse") == 1


@pytest.mark.spec("SEC-61")
async def test_denied_code_gives_access_denied_and_cannot_be_approved(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browsers: Browsers
) -> None:
    body = await start(client, d1)
    page = await approve(browsers, body["user_code"], yes=False)
    assert 'data-result="denied"' in page.text
    denied = await poll(client, d1, body["device_code"])
    assert denied.status_code == 400
    assert denied.json()["error"] == "access_denied"
    again = await verify(browsers(), body["user_code"])  # the same user_code, later
    assert again.status_code == 400
    assert 'name="decision"' not in again.text
    assert "already been used" in again.text
    assert (await poll(client, d1, body["device_code"])).json()["error"] == "access_denied"
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
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp, browsers: Browsers
) -> None:
    body = await start(client, d1)
    sub = await make_user(app)
    await approve(browsers, body["user_code"])
    await set_disabled(app.store, sub, disabled=True, now=now())
    response = await poll(client, d1, body["device_code"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.spec("REL-04")
async def test_concurrent_polls_of_an_approved_code_issue_once(
    client: httpx2.AsyncClient, d1: RegisteredClient, u1: str, browsers: Browsers
) -> None:
    for _ in range(3):
        body = await start(client, d1)
        await approve(browsers, body["user_code"])
        statuses: list[int] = []

        async def one(code: object = body["device_code"], out: list[int] = statuses) -> None:
            out.append((await poll(client, d1, code)).status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(one)
        assert sorted(statuses) == [200] + [400] * 9


@pytest.mark.spec("SEC-64")
@pytest.mark.spec("SEC-65")
async def test_wrong_codes_are_limited_per_ip_and_a_valid_code_is_refused_at_the_limit(
    client: httpx2.AsyncClient, d1: RegisteredClient, app: ASGIApp
) -> None:
    """The counters over time (explicit clock): the window, and what counts."""
    ctx = app.state["ctx"]
    body = await start(client, d1)
    code = str(body["user_code"])
    wrong = ["BBBB-BBBB", "bbbb bbbb", "CCCC-CCCC", "DDDD-DDDD", "FFFF-FFFF", "GGGG-GGGG"]

    async def find(raw: str, ip: str = "10.9.9.9", when: timedelta = timedelta()) -> object:
        return await find_user_code(ctx, raw, ip=ip, browser=None, now=now() + when)

    for raw in wrong[:-1]:  # variants of BBBBBBBB count once: 4 distinct failures
        assert await find(raw) is CodeProblem.UNKNOWN
    assert await find("not a code") is CodeProblem.MALFORMED  # not counted
    found = await find(code)
    assert getattr(found, "user_code", None) == code.replace("-", "")  # success: no reset
    assert await find(wrong[-1]) is CodeProblem.UNKNOWN  # the 5th failure
    with pytest.raises(TooManyRequestsError) as limited:
        await find(code)
    assert 0 < limited.value.retry_after <= app.settings.user_code_failure_window
    assert getattr(await find(code, ip="10.1.1.1"), "client_id", None) == d1.client_id
    later = timedelta(seconds=app.settings.user_code_failure_window + 1)
    assert await find("BBBB-BBBB", when=later) is CodeProblem.UNKNOWN  # a new window


@pytest.mark.spec("RFC 8628 §3.3.1")
async def test_qr_code_of_the_verification_uri(client: httpx2.AsyncClient) -> None:
    svg = await client.get("/device/qr", params={"user_code": "bcdf-ghjk"})
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg")
    png = await client.get("/device/qr", params={"user_code": "BCDFGHJK", "format": "png"})
    assert png.content.startswith(b"\x89PNG")
    bad = await client.get("/device/qr", params={"user_code": "<script>"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_request"  # for devices: JSON, not a page
    gif = await client.get("/device/qr", params={"user_code": "BCDFGHJK", "format": "gif"})
    assert gif.status_code == 400


@pytest.mark.spec("SEC-32")
async def test_refresh_tokens_follow_the_offline_access_rules(
    client: httpx2.AsyncClient, app: ASGIApp, d1: RegisteredClient, u1: str, browsers: Browsers
) -> None:
    plain = await start(client, d1, "openid profile")
    await approve(browsers, plain["user_code"])
    tokens = (await poll(client, d1, plain["device_code"])).json()
    assert "refresh_token" not in tokens and tokens["scope"] == "openid profile"
    oauth = await start(client, d1, "profile")  # plain OAuth: the grant itself is long-lived
    await approve(browsers, oauth["user_code"])
    tokens = (await poll(client, d1, oauth["device_code"])).json()
    assert "refresh_token" in tokens and "id_token" not in tokens
    no_refresh = await make_client(
        app, public=True, grant_types=(DEVICE_GRANT,), scope="openid offline_access"
    )
    asked = await start(client, no_refresh, "openid offline_access")
    await approve(browsers, asked["user_code"])
    tokens = (await poll(client, no_refresh, asked["device_code"])).json()
    assert "refresh_token" not in tokens and tokens["scope"] == "openid"


async def test_a_confidential_device_client_authenticates_when_polling(
    client: httpx2.AsyncClient, app: ASGIApp, u1: str, browsers: Browsers
) -> None:
    conf = await make_client(app, grant_types=(DEVICE_GRANT,), scope="openid")
    body = (
        await client.post("/device_authorization", data={"scope": "openid"}, auth=conf.auth)
    ).json()
    await approve(browsers, body["user_code"])
    data = {"grant_type": DEVICE_GRANT, "device_code": body["device_code"]}
    anonymous = await client.post("/token", data={**data, "client_id": conf.client_id})
    assert anonymous.status_code == 401
    tokens = await client.post("/token", data=data, auth=conf.auth)
    assert tokens.status_code == 200 and tokens.headers["cache-control"] == "no-store"
