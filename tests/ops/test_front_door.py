"""The front door (web/front_door.py): the hot routes are served without Starlette's
Router and error middlewares, with the same answers, headers, logs and metrics; everything
else still goes through Starlette.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from authgate.core.errors import InvalidGrantError
from authgate.web.app import HOT_ENDPOINTS
from authgate.web.front_door import FrontDoor, hot_routes
from authgate.web.metrics import Metrics
from authgate.web.observability import JsonFormatter, RequestObserver
from tests.conftest import ISSUER
from tests.helpers import ASGIApp


class Boom(RuntimeError):
    pass


async def _boom(request: Request) -> Response:
    raise Boom("the endpoint failed")


async def _invalid_grant(request: Request) -> Response:
    raise InvalidGrantError("no such grant")


async def _teapot(request: Request) -> Response:
    raise HTTPException(418)


async def _fallback(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("fallback")(scope, receive, send)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def door(metrics: Metrics) -> httpx2.AsyncClient:
    routes = [
        Route("/boom", _boom, methods=["POST"]),
        Route("/grant", _invalid_grant, methods=["POST"]),
        Route("/teapot", _teapot, methods=["GET"]),
    ]
    table = hot_routes(routes, [_boom, _invalid_grant, _teapot])
    app = RequestObserver(FrontDoor(_fallback, table), metrics)
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx2.AsyncClient(transport=transport, base_url=ISSUER)


def _count(metrics: Metrics, route: str, status: str) -> float:
    from prometheus_client import generate_latest

    metrics.flush()  # as a scrape does
    text = generate_latest(metrics.registry).decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = (sample.labels.get("route"), sample.labels.get("status"))
            if sample.name == "authgate_http_requests_total" and labels == (route, status):
                return sample.value
    return 0.0


async def test_the_hot_set_comes_from_the_route_table(app: ASGIApp) -> None:
    table = hot_routes(app.app.routes, HOT_ENDPOINTS)
    assert set(table) == {
        ("POST", "/token"),
        ("POST", "/introspect"),
        ("POST", "/revoke"),
        ("POST", "/device_authorization"),
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/.well-known/oauth-authorization-server"),
        ("GET", "/jwks"),
    }


async def test_an_unhandled_error_answers_500_logs_and_counts_it(
    door: httpx2.AsyncClient, metrics: Metrics, logs: io.StringIO
) -> None:
    response = await door.post("/boom", headers={"X-Request-Id": "boom-1"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "error_description": "the server could not complete the request",
    }
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-request-id"] == "boom-1"
    lines = [e for e in _lines(logs) if e.get("request_id") == "boom-1"]
    unhandled = next(e for e in lines if e["logger"] == "authgate.web.errors")
    assert unhandled["message"] == "unhandled error on POST /boom"
    assert "Boom: the endpoint failed" in str(unhandled["exception"])
    access = next(e for e in lines if e["logger"] == "authgate.access")
    assert (access["level"], access["status"], access["error"]) == ("error", 500, "server_error")
    assert _count(metrics, "/boom", "500") == 1


async def test_the_error_is_raised_on_to_the_server(metrics: Metrics) -> None:
    table = hot_routes([Route("/boom", _boom, methods=["POST"])], [_boom])
    app = RequestObserver(FrontDoor(_fallback, table), metrics)
    transport = httpx2.ASGITransport(app=app)  # raises what the app raises, as uvicorn logs it
    async with httpx2.AsyncClient(transport=transport, base_url=ISSUER) as http:
        with pytest.raises(Boom):
            await http.post("/boom")


async def test_oauth_and_http_errors_go_to_their_handlers(
    door: httpx2.AsyncClient, metrics: Metrics
) -> None:
    grant = await door.post("/grant")
    assert grant.status_code == 400
    assert grant.json() == {"error": "invalid_grant", "error_description": "no such grant"}
    assert grant.headers["pragma"] == "no-cache"
    teapot = await door.get("/teapot")
    assert (teapot.status_code, teapot.json()) == (418, {"error": "invalid_request"})
    assert _count(metrics, "/grant", "400") == 1


async def test_other_methods_and_paths_go_to_the_app(door: httpx2.AsyncClient) -> None:
    for response in (
        await door.get("/boom"),
        await door.head("/teapot"),
        await door.post("/boom/"),
        await door.get("/elsewhere"),
    ):
        assert response.status_code == 200
    assert (await door.get("/boom")).text == "fallback"


async def test_hot_routes_answer_as_before(client: httpx2.AsyncClient) -> None:
    head = await client.head("/jwks")  # HEAD: Starlette's GET route
    assert head.status_code == 200 and head.content == b""
    wrong = await client.post("/jwks")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "invalid_request"
    assert wrong.headers["x-content-type-options"] == "nosniff"
    metadata = await client.get("/.well-known/openid-configuration")
    assert metadata.json()["issuer"] == ISSUER
    assert metadata.headers["cache-control"] == "public, max-age=300"
    assert metadata.headers["content-security-policy"].startswith("default-src 'none'")
    assert len(metadata.headers["x-request-id"]) >= 8
    token = await client.post("/token", data={"grant_type": "client_credentials"})
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
