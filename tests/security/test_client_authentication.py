"""SECURITY.md 1.G: client authentication and token-endpoint hygiene (SEC-45 … SEC-50)."""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import time
import urllib.parse

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from authgate.core.client_auth import ClientCredentials, validate_secret
from authgate.core.errors import InvalidClientError, is_error_charset
from authgate.core.types import ClientAuthMethod, ClientId
from authgate.store.sql import tables
from tests.helpers import ASGIApp, RegisteredClient, basic, make_client

RFC_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
}


@pytest.fixture
async def c1(app: ASGIApp) -> RegisteredClient:
    return await make_client(app, name="C1", scope="api:read")


@pytest.fixture
async def c_post(app: ASGIApp) -> RegisteredClient:
    return await make_client(app, name="Cpost", scope="api:read", auth_method="client_secret_post")


@pytest.mark.spec("SEC-45")
async def test_no_credentials_is_401_invalid_client(
    client: httpx2.AsyncClient, c1: RegisteredClient
) -> None:
    response = await client.post("/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.spec("SEC-45")
async def test_wrong_secret_via_basic_is_401_with_www_authenticate(
    client: httpx2.AsyncClient, c1: RegisteredClient
) -> None:
    response = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(c1.client_id, "wrong")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.spec("SEC-45")
async def test_a_basic_client_may_not_use_client_secret_post(
    client: httpx2.AsyncClient, c1: RegisteredClient, c_post: RegisteredClient
) -> None:
    as_post = await client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": c1.client_id,
            "client_secret": c1.secret,
        },
    )
    assert as_post.status_code == 401
    assert as_post.json()["error"] == "invalid_client"
    ok = await client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": c_post.client_id,
            "client_secret": c_post.secret,
        },
    )
    assert ok.status_code == 200
    as_basic = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=c_post.auth
    )
    assert as_basic.status_code == 401


@pytest.mark.spec("SEC-45")
async def test_unknown_client_is_401(client: httpx2.AsyncClient, c1: RegisteredClient) -> None:
    response = await client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=("nobody", "secret")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.spec("RFC 6749 §2.3.1")
async def test_basic_credentials_are_form_urlencoded(
    client: httpx2.AsyncClient, c1: RegisteredClient
) -> None:
    assert c1.secret is not None
    encoded = (urllib.parse.quote_plus(c1.client_id), urllib.parse.quote_plus(c1.secret))
    response = await client.post(
        "/token", data={"grant_type": "client_credentials"}, headers=basic(*encoded)
    )
    assert response.status_code == 200


@pytest.mark.spec("RFC 6749 §2.3")
async def test_two_authentication_methods_are_refused(
    client: httpx2.AsyncClient, c1: RegisteredClient
) -> None:
    response = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "client_secret": c1.secret},
        auth=c1.auth,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.spec("SEC-46")
async def test_body_client_id_must_match_basic(
    client: httpx2.AsyncClient, c1: RegisteredClient, app: ASGIApp
) -> None:
    c2 = await make_client(app, name="C2", scope="api:read")
    response = await client.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": c2.client_id},
        auth=c1.auth,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.spec("SEC-47")
async def test_credentials_in_the_query_are_ignored(
    client: httpx2.AsyncClient, c_post: RegisteredClient
) -> None:
    query = urllib.parse.urlencode(
        {
            "client_id": c_post.client_id,
            "client_secret": c_post.secret,
            "grant_type": "client_credentials",
        }
    )
    response = await client.post(f"/token?{query}", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.spec("SEC-47")
async def test_get_is_not_allowed_at_the_token_endpoint(
    client: httpx2.AsyncClient, c1: RegisteredClient
) -> None:
    response = await client.get("/token", params={"grant_type": "client_credentials"}, auth=c1.auth)
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


@pytest.mark.spec("SEC-48")
async def test_client_secrets_are_long_and_never_stored(app: ASGIApp, c1: RegisteredClient) -> None:
    assert c1.secret is not None
    assert len(c1.secret) >= 43
    engine = create_async_engine(app.settings.database_url)
    try:
        async with engine.connect() as conn:
            for table in tables.metadata.sorted_tables:
                for row in await conn.execute(sa.select(table)):
                    for value in row:
                        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                        assert c1.secret not in text, table.name
    finally:
        await engine.dispose()


def _bodies() -> list[tuple[str, bytes | str]]:
    rnd = random.Random(4242)  # noqa: S311 - reproducible fuzz cases
    cases: list[tuple[str, bytes | str]] = [
        ("application/x-www-form-urlencoded", ""),
        ("application/x-www-form-urlencoded", "grant_type="),
        ("application/x-www-form-urlencoded", "grant_type=client_credentials&grant_type=password"),
        ("application/x-www-form-urlencoded", "grant_type=%ff%fe"),
        ("application/x-www-form-urlencoded", b"grant_type=\xff\xfe"),
        ("application/x-www-form-urlencoded", "grant_type=" + "x" * 10_000),
        ("application/x-www-form-urlencoded", "scope=%0d%0a&grant_type=client_credentials"),
        ("application/json", json.dumps({"grant_type": "client_credentials"})),
        ("multipart/form-data; boundary=x", "--x\r\n\r\n"),
        ("text/plain", "hello"),
        ("", "grant_type=client_credentials"),
    ]
    alphabet = "abc=&%\"\\\r\n\t<>{}' \x00é中"
    for _ in range(190):
        body = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        if rnd.random() < 0.5:
            body = (
                "grant_type=" + rnd.choice(["client_credentials", "password", "", "x"]) + "&" + body
            )
        cases.append(("application/x-www-form-urlencoded", body))
    return cases


@pytest.mark.spec("SEC-49")
async def test_malformed_bodies_get_rfc_errors_never_500(
    client: httpx2.AsyncClient, c1: RegisteredClient
) -> None:
    for content_type, body in _bodies():
        headers = {"Content-Type": content_type} if content_type else {}
        response = await client.post("/token", content=body, headers={**headers, **basic(*c1.auth)})
        assert response.status_code in {200, 400, 401, 413}, (body, response.text)
        if response.status_code != 200:
            data = response.json()
            assert data["error"] in RFC_ERRORS
            assert is_error_charset(data["error"])
            assert is_error_charset(data.get("error_description", "x")), data
            assert "Traceback" not in response.text


@pytest.mark.spec("SEC-49")
async def test_oversized_body_is_refused(client: httpx2.AsyncClient, c1: RegisteredClient) -> None:
    response = await client.post(
        "/token",
        content="grant_type=client_credentials&x=" + "a" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded", **basic(*c1.auth)},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


@pytest.mark.spec("SEC-50")
def test_secret_comparison_time_does_not_depend_on_where_the_secret_differs() -> None:
    """The stored value is a SHA-256 digest compared with hmac.compare_digest: a secret
    wrong in its first byte and one wrong in its last take the same time to refuse.
    """
    from datetime import UTC, datetime

    from authgate.core.models import Client
    from authgate.core.tokens import hash_token, new_token

    secret = new_token()
    client = Client(
        client_id=ClientId("c"),
        name="c",
        auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
        redirect_uris=(),
        grant_types=frozenset(),
        scope=frozenset(),
        created_at=datetime.now(UTC),
        secret_hash=hash_token(secret),
    )
    first = ("X" if secret[0] != "X" else "Y") + secret[1:]
    last = secret[:-1] + ("X" if secret[-1] != "X" else "Y")

    def sample(wrong: str) -> float:
        creds = ClientCredentials("c", ClientAuthMethod.CLIENT_SECRET_BASIC, secret=wrong)
        start = time.perf_counter_ns()
        with contextlib.suppress(InvalidClientError):
            validate_secret(client, creds)
        return time.perf_counter_ns() - start

    a, b = [], []
    for _ in range(10_000):
        a.append(sample(first))
        b.append(sample(last))
    ratio = statistics.median(a) / statistics.median(b)
    assert 0.8 < ratio < 1.25
