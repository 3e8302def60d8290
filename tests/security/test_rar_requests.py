"""SECURITY.md 1.J, requests: SEC-70 (every object validated against its declared type),
SEC-71 (a client uses only its registered types), SEC-75 (bounded parsing).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from authgate.config import Settings
from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, Browsers, pkce
from tests.http.rar.support import (
    Rar,
    as_param,
    authorization,
    make_rar,
    payment,
    rar_settings,
    redirect_error,
)


@pytest.fixture
def settings(db: str, tmp_path: Path) -> Settings:
    return rar_settings(db, tmp_path)


@pytest.fixture
async def rar(app: ASGIApp) -> Rar:
    return await make_rar(app)


@pytest.fixture
async def browser(app: ASGIApp) -> AsyncIterator[Browser]:
    pool = Browsers(app)
    yield pool()
    await pool.aclose()


def _amount_as_number() -> str:
    details = payment()
    details["instructedAmount"]["amount"] = 123.50
    return as_param([details])


INVALID = {
    "unknown type": (as_param([{"type": "unknown_type"}]), "[0].type: unknown_type is not"),
    "missing instructedAmount": (
        as_param([{"type": "payment_initiation"}]),
        "[0].instructedAmount: is required",
    ),
    "amount as number": (_amount_as_number(), "[0].instructedAmount.amount: must be of type"),
    "extra unknown field": (
        as_param([payment(unknownField="x")]),
        "[0].unknownField: is not a known field of this type",
    ),
    "not an array": (as_param(payment()), " must be a JSON array"),
    "invalid JSON": ('[{"type": "payment_initiation"', " is not valid JSON"),
}


@pytest.mark.spec("SEC-70")
@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
async def test_sec70_each_invalid_object_is_a_redirect_error(
    rar: Rar, browser: Browser, case: str
) -> None:
    value, description = INVALID[case]
    _, challenge = pkce()
    response = await browser.authorize(**authorization(rar.c1.client_id, challenge, value))
    params = redirect_error(response)
    assert params["error"] == "invalid_authorization_details"
    assert params["error_description"].startswith("authorization_details" + description)


@pytest.mark.spec("SEC-71")
async def test_sec71_c2_may_not_use_payment_initiation(rar: Rar, browser: Browser) -> None:
    _, challenge = pkce()
    request = authorization(rar.c2.client_id, challenge, [payment()])
    request["redirect_uri"] = "https://c2.test/cb"
    params = redirect_error(await browser.authorize(**request), "https://c2.test/cb")
    assert params["error"] == "invalid_authorization_details"
    assert params["error_description"] == (
        "authorization_details[0].type: this client may not use type payment_initiation"
    )


@pytest.mark.spec("SEC-75")
async def test_sec75_a_100kb_parameter_is_refused_and_the_server_keeps_serving(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    _, challenge = pkce()
    huge = as_param([payment(remittanceInformationUnstructured="x" * 100_000)])
    posted = await browser.http.post(
        "/authorize", data=authorization(rar.c1.client_id, challenge, huge)
    )
    # A GET is capped by the client library's URL limit (64 KiB): send what it allows.
    large = as_param([payment(remittanceInformationUnstructured="x" * 60_000)])
    got = await browser.authorize(**authorization(rar.c1.client_id, challenge, large))
    for response in (posted, got):
        assert response.status_code in (400, 413, 414)
        assert "location" not in response.headers
        assert "text/html" in response.headers["content-type"]  # an error page
    token = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "authorization_details": huge},
        auth=rar.c1.auth,
    )
    assert token.status_code in (400, 413)
    assert (await client.get("/.well-known/openid-configuration")).status_code == 200
    ok = await browser.authorize(**authorization(rar.c1.client_id, challenge, [payment()]))
    assert ok.status_code == 303  # on to sign in


@pytest.mark.spec("SEC-75")
@pytest.mark.parametrize("depth", [11, 4000, 10_000])
async def test_sec75_deep_nesting_is_a_400_not_a_crash(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    token = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "authorization_details": nested},
        auth=rar.c1.auth,
    )
    assert token.status_code == 400
    assert token.json()["error"] in ("invalid_authorization_details", "invalid_request")
    _, challenge = pkce()
    page = await browser.authorize(**authorization(rar.c1.client_id, challenge, nested))
    if len(nested) <= 8192:  # within max_param_length: our depth bound answers
        assert redirect_error(page)["error"] == "invalid_authorization_details"
        assert token.json()["error_description"].endswith("nested deeper than 10 levels")
    else:  # the parameter length bound answers first, with an error page
        assert page.status_code == 400 and "location" not in page.headers
    device = await client.post(
        "/device_authorization",
        data={"client_id": rar.d1.client_id, "authorization_details": nested},
    )
    assert device.status_code == 400
    still = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "authorization_details": as_param([payment()])},
        auth=rar.c1.auth,
    )
    assert still.status_code == 200, still.text
    assert json.loads(json.dumps(still.json()["authorization_details"])) == [payment()]
