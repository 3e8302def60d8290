"""OIDC Core §9 / RFC 7523 private_key_jwt: inline jwks and a fetched jwks_uri, jti replay."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from authgate.core.client_auth import JWT_BEARER_ASSERTION
from authgate.core.tokens import new_id
from tests.helpers import ASGIApp, make_client

ISSUER = "http://127.0.0.1:8000"


def _key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256"}, private=True)


def _jwks(*keys: ECKey) -> str:
    return json.dumps({"keys": [k.as_dict(private=False) for k in keys]})


def _assertion(key: ECKey, client_id: str, **overrides: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": new_id(),
    }
    claims.update(overrides)
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def _form(client_id: str | None, assertion: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER_ASSERTION,
        "client_assertion": assertion,
    }
    if client_id:
        form["client_id"] = client_id
    return form


async def test_inline_jwks_authenticates_and_jti_is_single_use(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    key = _key("k1")
    reg = await make_client(app, scope="api:read", jwks=_jwks(key))
    assertion = _assertion(key, reg.client_id)
    first = await client.post("/token", data=_form(reg.client_id, assertion))
    assert first.status_code == 200, first.text
    replay = await client.post("/token", data=_form(reg.client_id, assertion))
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"
    without_id = await client.post("/token", data=_form(None, _assertion(key, reg.client_id)))
    assert without_id.status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://other.test"},
        {"iss": "someone-else"},
        {"exp": -120},
        {"exp": 3600},
        {"iat": 120},
        {"jti": None},
    ],
    ids=["aud", "iss", "expired", "too-long", "future-iat", "no-jti"],
)
async def test_bad_assertions_are_refused(
    client: httpx2.AsyncClient, app: ASGIApp, overrides: dict[str, object]
) -> None:
    key = _key("k1")
    reg = await make_client(app, scope="api:read", jwks=_jwks(key))
    now = int(time.time())
    claims = {
        k: now + v if k in {"exp", "iat"} and isinstance(v, int) else v
        for k, v in overrides.items()
        if v is not None
    }
    assertion = _assertion(key, reg.client_id, **claims)
    if "jti" in overrides:
        payload = {"iss": reg.client_id, "sub": reg.client_id, "aud": ISSUER, "exp": now + 60}
        assertion = jwt.encode({"alg": "ES256", "kid": key.kid}, payload, key)
    response = await client.post("/token", data=_form(reg.client_id, assertion))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.spec("RFC 7523 §3")
async def test_an_assertion_is_spent_even_when_the_request_fails(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    key = _key("k1")
    reg = await make_client(app, scope="api:read", jwks=_jwks(key))
    assertion = _assertion(key, reg.client_id)
    failed = await client.post("/token", data={**_form(reg.client_id, assertion), "scope": "admin"})
    assert failed.json()["error"] == "invalid_scope"
    replay = await client.post("/token", data=_form(reg.client_id, assertion))
    assert replay.status_code == 401


async def test_a_key_the_client_does_not_own_is_refused(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    reg = await make_client(app, scope="api:read", jwks=_jwks(_key("k1")))
    response = await client.post(
        "/token", data=_form(reg.client_id, _assertion(_key("k1"), reg.client_id))
    )
    assert response.status_code == 401


async def test_token_endpoint_audience_is_accepted(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    key = _key("k1")
    reg = await make_client(app, scope="api:read", jwks=_jwks(key))
    assertion = _assertion(key, reg.client_id, aud=f"{ISSUER}/token")
    response = await client.post("/token", data=_form(reg.client_id, assertion))
    assert response.status_code == 200


class _JwksServer:
    def __init__(self) -> None:
        self.document = ""
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = outer.document.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    server = _JwksServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


async def test_jwks_uri_is_fetched_once_and_cached(
    client: httpx2.AsyncClient, app: ASGIApp, jwks_server: _JwksServer
) -> None:
    key = _key("k1")
    jwks_server.document = _jwks(key)
    reg = await make_client(app, scope="api:read", jwks_uri=jwks_server.uri)
    for _ in range(3):
        response = await client.post(
            "/token", data=_form(reg.client_id, _assertion(key, reg.client_id))
        )
        assert response.status_code == 200, response.text
    assert jwks_server.fetches == 1


async def test_unreachable_jwks_uri_is_invalid_client(
    client: httpx2.AsyncClient, app: ASGIApp
) -> None:
    key = _key("k1")
    reg = await make_client(app, scope="api:read", jwks_uri="http://127.0.0.1:9/jwks.json")
    response = await client.post(
        "/token", data=_form(reg.client_id, _assertion(key, reg.client_id))
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_jwks_uri_document_with_private_keys_is_refused(
    client: httpx2.AsyncClient, app: ASGIApp, jwks_server: _JwksServer
) -> None:
    key = _key("k1")
    jwks_server.document = json.dumps({"keys": [key.as_dict(private=True)]})
    reg = await make_client(app, scope="api:read", jwks_uri=jwks_server.uri)
    response = await client.post(
        "/token", data=_form(reg.client_id, _assertion(key, reg.client_id))
    )
    assert response.status_code == 401


def test_keyset_helper_sanity() -> None:
    key = _key("k1")
    assert KeySet.import_key_set(json.loads(_jwks(key))).keys[0].kid == "k1"
