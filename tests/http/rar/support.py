"""What the RAR tests share: settings declaring INTERFACE.md's `payment_initiation` type
(read from a TOML file through config.load, as `authgate serve` reads it), the SECURITY.md
§0 parties with their authorization details types, and small HTTP helpers.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from authgate import config
from authgate.config import Settings
from tests.helpers import ASGIApp, RegisteredClient, make_client, make_user
from tests.http.authorize.browser import C1_URI, Browser, location_params, pkce

ISSUER = "http://127.0.0.1:8000"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# INTERFACE.md's example, plus the payee fields of the RFC 9396 §2 example (an object
# schema listing `properties` is closed: other fields are refused, RFC 9396 §5) and the
# rule that the amount may be lowered in a token request (§6.1).
TOML = """
[authorization_details_types.payment_initiation]
schema = '''{"type":"object","required":["instructedAmount"],
  "properties":{"instructedAmount":{"type":"object",
    "required":["currency","amount"],
    "properties":{"currency":{"type":"string"},"amount":{"type":"string"}}},
  "creditorName":{"type":"string"},
  "creditorAccount":{"type":"object","properties":{"iban":{"type":"string"}}},
  "remittanceInformationUnstructured":{"type":"string"}}}'''
may_lower = ["instructedAmount.amount"]

[authorization_details_types.account_information]
schema = '''{"type":"object","required":["actions"]}'''
"""


def rar_settings(db: str, tmp_path: Path, **env: str) -> Settings:
    path = tmp_path / "authgate.toml"
    path.write_text(TOML)
    return config.load(
        {
            "AUTHGATE_CONFIG": str(path),
            "AUTHGATE_ISSUER": ISSUER,
            "AUTHGATE_DATABASE_URL": db,
            **{f"AUTHGATE_{k.upper()}": v for k, v in env.items()},
        }
    )


def payment(amount: str = "123.50", currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    """The RFC 9396 §2 example: pay 123.50 EUR to Merchant A."""
    return {
        "type": "payment_initiation",
        "instructedAmount": {"currency": currency, "amount": amount},
        "creditorName": "Merchant A",
        "creditorAccount": {"iban": "DE02100100109307118603"},
        "remittanceInformationUnstructured": "Ref Number Merchant",
        **extra,
    }


def as_param(details: object) -> str:
    return json.dumps(details)


@dataclass
class Rar:
    """C1 may use both types, C2 none; R1 introspects; D1 is a device client; U1 signs in."""

    app: ASGIApp
    c1: RegisteredClient
    c2: RegisteredClient
    r1: RegisteredClient
    d1: RegisteredClient
    u1: str


async def make_rar(app: ASGIApp) -> Rar:
    grants = ("authorization_code", "refresh_token", "client_credentials")
    scope = "openid offline_access payments"
    both = ("payment_initiation", "account_information")
    return Rar(
        app=app,
        c1=await make_client(
            app,
            name="C1",
            redirect_uris=(C1_URI,),
            grant_types=grants,
            scope=scope,
            authorization_details_types=both,
        ),
        c2=await make_client(
            app, name="C2", redirect_uris=("https://c2.test/cb",), grant_types=grants, scope=scope
        ),
        r1=await make_client(
            app, name="R1", grant_types=("client_credentials",), scope="api", can_introspect=True
        ),
        d1=await make_client(
            app,
            name="TV app",
            public=True,
            grant_types=(DEVICE_GRANT, "refresh_token"),
            scope="openid offline_access payments",
            authorization_details_types=both,
        ),
        u1=await make_user(app, "alice"),
    )


def authorization(client_id: str, challenge: str, details: object, **extra: str) -> dict[str, str]:
    """An authorization request of C1 for `details` (a JSON string or a value to encode)."""
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": C1_URI,
        "scope": "payments offline_access",
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "authorization_details": details if isinstance(details, str) else as_param(details),
        **extra,
    }


@dataclass
class Granted:
    code: str
    verifier: str


async def approved_code(browser: Browser, client_id: str, details: object) -> Granted:
    """Sign in as U1 and approve `details` on the consent page; the code C1 receives."""
    verifier, challenge = pkce()
    response = await browser.flow(**authorization(client_id, challenge, details))
    assert response.status_code in (302, 303), response.text
    params = location_params(response)
    assert "code" in params, params
    return Granted(params["code"], verifier)


async def redeem(
    http: httpx2.AsyncClient, client: RegisteredClient, granted: Granted, **extra: str
) -> httpx2.Response:
    data = {
        "grant_type": "authorization_code",
        "code": granted.code,
        "redirect_uri": C1_URI,
        "code_verifier": granted.verifier,
        **extra,
    }
    return await http.post("/token", data=data, auth=client.auth)


def redirect_error(response: httpx2.Response, redirect_uri: str = C1_URI) -> dict[str, str]:
    """SECURITY.md §0 redirect-error: to the registered URI with error, state and iss."""
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"].startswith(redirect_uri + "?")
    params = location_params(response)
    assert params["state"] == "st-1" and params["iss"] == ISSUER
    return params


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims
