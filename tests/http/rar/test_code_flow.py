"""RFC 9396 through the authorization code flow: request, consent, token, introspection.
The issue's "Done when": a grant of 123.50 EUR yields no token for 200 EUR, one for exactly
what was granted, and the resource server introspecting it sees the granted details.
"""

from __future__ import annotations

import html
import json

import httpx2
import pytest

from authgate.core.tokens import hash_token
from tests.helpers import ASGIApp
from tests.http.authorize.browser import Browser, location_params, pkce
from tests.http.rar.support import (
    Rar,
    approved_code,
    as_param,
    authorization,
    payment,
    redeem,
    redirect_error,
)
from tests.parties import introspect, refresh


@pytest.mark.spec("RFC 9396 §6")
async def test_done_when_payment_of_123_50_eur(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    granted = await approved_code(browser, rar.c1.client_id, [payment()])
    more = await redeem(
        client, rar.c1, granted, authorization_details=as_param([payment("200.00")])
    )
    assert more.status_code == 400
    assert more.json() == {
        "error": "invalid_authorization_details",
        "error_description": (
            "authorization_details[0].instructedAmount.amount: is more than granted"
        ),
    }
    # The refused request spent nothing: the code still gives exactly what was granted.
    same = await redeem(client, rar.c1, granted, authorization_details=as_param([payment()]))
    assert same.status_code == 200, same.text
    assert same.json()["authorization_details"] == [payment()]
    seen = await introspect(client, rar.r1, same.json()["access_token"])
    assert seen.json()["active"] is True
    assert seen.json()["authorization_details"] == [payment()]


async def test_without_the_parameter_the_token_carries_everything_granted(
    client: httpx2.AsyncClient, app: ASGIApp, rar: Rar, browser: Browser
) -> None:
    details = [payment(), {"type": "account_information", "actions": ["read"]}]
    granted = await approved_code(browser, rar.c1.client_id, details)
    response = await redeem(client, rar.c1, granted)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["authorization_details"] == details
    # What the user approved is kept on the grant, which the refresh token belongs to.
    async with app.store.transaction() as tx:
        found = await tx.find_refresh_token(hash_token(body["refresh_token"]))
    assert found is not None
    grant = found[1]
    assert grant.authorization_details is not None
    assert json.loads(grant.authorization_details) == details


async def test_a_token_may_ask_for_less_than_the_grant(
    client: httpx2.AsyncClient, rar: Rar, browser: Browser
) -> None:
    details = [payment(), {"type": "account_information", "actions": ["read", "list"]}]
    granted = await approved_code(browser, rar.c1.client_id, details)
    fewer = [{"type": "account_information", "actions": ["list"]}]
    response = await redeem(client, rar.c1, granted, authorization_details=as_param(fewer))
    assert response.status_code == 200, response.text
    assert response.json()["authorization_details"] == fewer
    token = response.json()["access_token"]
    assert (await introspect(client, rar.r1, token)).json()["authorization_details"] == fewer
    # The refresh token keeps the whole grant; a refresh without the parameter gets it all.
    again = await refresh(client, rar.c1, response.json()["refresh_token"])
    assert again.status_code == 200, again.text
    assert again.json()["authorization_details"] == details


async def test_consent_shows_the_details_in_words(rar: Rar, browser: Browser) -> None:
    _, challenge = pkce()
    page = await browser.follow(
        await browser.authorize(**authorization(rar.c1.client_id, challenge, [payment()]))
    )
    page = await browser.follow(await browser.login(page))
    assert page.status_code == 200 and 'name="decision"' in page.text
    text = html.unescape(page.text)
    for words in ("A payment", "Amount", "123.50 EUR", "Payee", "Merchant A", "Payee account"):
        assert words in text, words
    assert "DE02100100109307118603" in text and "Ref Number Merchant" in text
    assert '"instructedAmount":' not in text and "{" not in page.text.split("<main")[1]


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("it", ("Un pagamento", "Importo", "Beneficiario", "123.50 EUR", "Azioni", "Presso")),
        ("zh-CN", ("一笔付款", "金额", "收款人", "123.50 EUR", "操作", "位置")),
        ("en", ("A payment", "Amount", "Payee", "123.50 EUR", "Actions", "At")),
    ],
)
async def test_consent_labels_are_localised(
    rar: Rar, browser: Browser, locale: str, words: tuple[str, ...]
) -> None:
    details = [
        payment(),
        {"type": "account_information", "actions": ["read"], "locations": ["https://bank.test"]},
    ]
    _, challenge = pkce()
    request = authorization(rar.c1.client_id, challenge, details, ui_locales=locale)
    page = await browser.follow(await browser.authorize(**request))
    page = await browser.follow(await browser.login(page))
    text = html.unescape(page.text)
    for word in words:
        assert word in text, (locale, word)
    assert "https://bank.test" in text and "read" in text


async def test_details_always_ask_for_consent(rar: Rar, browser: Browser) -> None:
    """Remembered consent covers scopes only; each request with details is shown again."""
    await approved_code(browser, rar.c1.client_id, [payment()])
    _, challenge = pkce()
    again = await browser.follow(
        await browser.authorize(**authorization(rar.c1.client_id, challenge, [payment("5.00")]))
    )
    assert again.status_code == 200 and 'name="decision"' in again.text
    assert "5.00 EUR" in again.text
    plain = authorization(rar.c1.client_id, challenge, [])
    del plain["authorization_details"]
    done = await browser.follow(await browser.authorize(**plain))
    assert done.status_code == 302 and "code" in location_params(done)
    silent = await browser.authorize(
        **authorization(rar.c1.client_id, challenge, [payment()], prompt="none")
    )
    assert redirect_error(silent)["error"] == "consent_required"


async def test_denied_details_give_no_code(rar: Rar, browser: Browser) -> None:
    _, challenge = pkce()
    denied = await browser.flow(
        decision="deny", **authorization(rar.c1.client_id, challenge, [payment()])
    )
    assert redirect_error(denied)["error"] == "access_denied"
