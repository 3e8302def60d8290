"""RFC 9396 §6 at the token endpoint: refresh requests that narrow the granted details,
the client_credentials policy, and the device_code grant.
"""

from __future__ import annotations

import httpx2
import pytest

from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser
from tests.http.device.pages import enter, finish
from tests.http.rar.support import (
    DEVICE_GRANT,
    Rar,
    approved_code,
    as_param,
    payment,
    redeem,
)
from tests.parties import introspect, refresh

ACCOUNTS = {"type": "account_information", "actions": ["read", "list"]}


async def granted_tokens(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser, details: list[object]
) -> dict[str, object]:
    response = await redeem(client, rar.c1, await approved_code(browser, rar.c1.client_id, details))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.spec("RFC 9396 §6")
async def test_refresh_may_narrow_and_the_grant_keeps_the_rest(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    tokens = await granted_tokens(client, rar, browser, [payment(), ACCOUNTS])
    lower = [payment("100.00")]
    narrowed = await refresh(
        client, rar.c1, str(tokens["refresh_token"]), authorization_details=as_param(lower)
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["authorization_details"] == lower
    seen = await introspect(client, rar.r1, narrowed.json()["access_token"])
    assert seen.json()["authorization_details"] == lower
    # The rotated refresh token still holds everything granted.
    rt = narrowed.json()["refresh_token"]
    assert (await introspect(client, rar.r1, rt)).json()["authorization_details"] == [
        payment(),
        ACCOUNTS,
    ]
    full = await refresh(client, rar.c1, rt)
    assert full.json()["authorization_details"] == [payment(), ACCOUNTS]


@pytest.mark.parametrize(
    ("details", "description"),
    [
        ([payment("123.51")], "[0].instructedAmount.amount: is more than granted"),
        ([payment(), payment()], "[1]: repeats a granted entry that another entry already uses"),
        (
            [{"type": "account_information", "actions": ["read", "delete"]}],
            "[0].actions: asks for delete, which was not granted",
        ),
        ([{"type": "account_information"}], "[0].actions: is required"),
        ([payment(creditorName="Mallory")], "[0].creditorName: differs from the granted value"),
        ([{"type": "unknown_type"}], "[0].type: unknown_type is not a known type"),
        ("[{", " is not valid JSON"),
    ],
)
async def test_refresh_may_not_widen(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser, details: object, description: str
) -> None:
    tokens = await granted_tokens(client, rar, browser, [payment(), ACCOUNTS])
    value = details if isinstance(details, str) else as_param(details)
    response = await refresh(
        client, rar.c1, str(tokens["refresh_token"]), authorization_details=value
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_authorization_details"
    assert response.json()["error_description"] == "authorization_details" + description
    assert response.headers["cache-control"] == "no-store"
    # Nothing was rotated: the refresh token still works.
    assert (await refresh(client, rar.c1, str(tokens["refresh_token"]))).status_code == 200


async def test_details_cannot_be_asked_of_a_grant_without_them(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    plain = await granted_tokens(client, rar, browser, [])
    assert "authorization_details" not in plain
    response = await refresh(
        client, rar.c1, str(plain["refresh_token"]), authorization_details=as_param([payment()])
    )
    assert response.json()["error_description"] == (
        "authorization_details[0].type: no authorization details of this type were granted"
    )


async def test_client_credentials_get_details_of_the_registered_types(
    client: httpx2.AsyncClient, rar: Rar
) -> None:
    """authgate's policy: a client acting for itself may ask for objects of the types it
    is registered for, each valid against its schema; it gets them as asked.
    """
    form = {"grant_type": "client_credentials", "scope": "payments"}
    asked = [payment()]
    ok = await client.post(
        "/token", data={**form, "authorization_details": as_param(asked)}, auth=rar.c1.auth
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["authorization_details"] == asked
    seen = await introspect(client, rar.r1, ok.json()["access_token"])
    assert seen.json()["authorization_details"] == asked and seen.json()["sub"] == rar.c1.client_id
    plain = await client.post("/token", data=form, auth=rar.c1.auth)
    assert "authorization_details" not in plain.json()
    for who, value, description in [
        (rar.c2, as_param(asked), "[0].type: this client may not use type payment_initiation"),
        (rar.c1, as_param([payment(amount=1)]), "[0].instructedAmount.amount: must be of type"),
        (rar.c1, as_param([{"type": "nope"}]), "[0].type: nope is not a known type"),
    ]:
        refused = await client.post(
            "/token", data={**form, "authorization_details": value}, auth=who.auth
        )
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_authorization_details"
        assert refused.json()["error_description"].startswith("authorization_details" + description)


async def device_approved(
    client: httpx2.AsyncClient, app: ASGIApp, rar: Rar, details: object
) -> str:
    started = await client.post(
        "/device_authorization",
        data={
            "client_id": rar.d1.client_id,
            "scope": "payments offline_access",
            "authorization_details": as_param(details),
        },
    )
    assert started.status_code == 200, started.text
    body = started.json()
    browser = Browser(app)
    entered = await enter(browser, body["user_code"])
    consent = await finish(browser, entered, username="alice", decision=None)
    # RFC 9396 §3: the device consent page shows what the device asks for, in words.
    assert "123.50 EUR" in consent.text
    done = await browser.follow(await browser.decide(consent, "approve"))
    assert done.status_code == 200, done.text
    return str(body["device_code"])


async def poll(client: httpx2.AsyncClient, rar: Rar, code: str, **extra: str) -> httpx2.Response:
    data = {"grant_type": DEVICE_GRANT, "device_code": code, "client_id": rar.d1.client_id}
    return await client.post("/token", data={**data, **extra})


async def test_device_grant_compares_with_what_the_user_approved(
    client: httpx2.AsyncClient, app: ASGIApp, rar: Rar
) -> None:
    code = await device_approved(client, app, rar, [payment()])
    more = await poll(client, rar, code, authorization_details=as_param([payment("200.00")]))
    assert more.status_code == 400
    assert more.json()["error"] == "invalid_authorization_details"
    ok = await poll(client, rar, code)
    assert ok.status_code == 200, ok.text
    assert ok.json()["authorization_details"] == [payment()]
    seen = await introspect(client, rar.r1, ok.json()["access_token"])
    assert seen.json()["authorization_details"] == [payment()]


async def test_device_grant_may_narrow(client: httpx2.AsyncClient, app: ASGIApp, rar: Rar) -> None:
    code = await device_approved(client, app, rar, [payment(), ACCOUNTS])
    response = await poll(client, rar, code, authorization_details=as_param([ACCOUNTS]))
    assert response.status_code == 200, response.text
    assert response.json()["authorization_details"] == [ACCOUNTS]


@pytest.mark.parametrize(
    ("value", "description"),
    [
        (as_param([{"type": "unknown_type"}]), "[0].type: unknown_type is not a known type"),
        (as_param([{"type": "payment_initiation"}]), "[0].instructedAmount: is required"),
        ("{}", " must be a JSON array"),
    ],
)
async def test_device_authorization_validates_details(
    client: httpx2.AsyncClient, rar: Rar, value: str, description: str
) -> None:
    response = await client.post(
        "/device_authorization",
        data={"client_id": rar.d1.client_id, "authorization_details": value},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_authorization_details"
    assert response.json()["error_description"] == "authorization_details" + description
