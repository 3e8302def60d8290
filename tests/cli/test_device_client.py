"""The RFC 8628 device client of `authgate device-login` (src/authgate/device_client.py)
against a scripted server that is not authgate (an httpx2 MockTransport playing another
vendor's server: issuer with a path, RFC 8414 metadata only, client_secret_post,
`verification_url`, no `interval`), with a fake clock.
"""

from __future__ import annotations

import base64
import io
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner

from authgate.cli import main
from authgate.device_client import (
    DeviceAuthorization,
    DeviceClient,
    DeviceLoginError,
    Endpoints,
    metadata_urls,
    show_code,
)

ISSUER = "https://as.example/tenant"
Handler = Callable[[httpx2.Request], httpx2.Response]


class FakeServer:
    """Another vendor's RFC 8628 server: answers scripted token responses in order."""

    def __init__(self, polls: list[tuple[int, dict[str, Any]]], **metadata: Any) -> None:
        self.polls = list(polls)
        self.requests: list[httpx2.Request] = []
        self.metadata = {
            "issuer": ISSUER,
            "device_authorization_endpoint": "https://as.example/tenant/device/code",
            "token_endpoint": "https://as.example/tenant/oauth/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            **metadata,
        }
        self.device: dict[str, Any] = {
            "device_code": "dc-123",
            "user_code": "WDJB-MJHT",
            "verification_url": "https://as.example/activate",
            "expires_in": 900,
        }

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/oauth-authorization-server/tenant":
            return httpx2.Response(200, json=self.metadata)
        if path == "/tenant/device/code":
            return httpx2.Response(400 if "error" in self.device else 200, json=self.device)
        if path == "/tenant/oauth/token":
            status, body = self.polls.pop(0)
            if status == 599:
                raise httpx2.ConnectError("connection reset")
            if status == 503:
                return httpx2.Response(503, text="busy")
            return httpx2.Response(status, json=body)
        return httpx2.Response(404, text="not found")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def run(
    server: FakeServer, secret: str | None = "s3cr3t&+", scope: str | None = "openid"
) -> tuple[dict[str, Any], Clock]:
    clock = Clock()
    with httpx2.Client(transport=httpx2.MockTransport(server)) as http:
        client = DeviceClient(http, "tv client", secret, sleep=clock.sleep, clock=clock)
        endpoints = client.discover(ISSUER)
        device = client.authorize(endpoints, scope)
        return client.poll(endpoints, device), clock


def form(request: httpx2.Request) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(request.content.decode()))


TOKENS = {"access_token": "at", "token_type": "Bearer", "expires_in": 60}
PENDING = (400, {"error": "authorization_pending"})
SLOW = (400, {"error": "slow_down"})


@pytest.mark.spec("RFC 8628 §3.5")
def test_polls_with_the_default_interval_and_slows_down_by_five_seconds() -> None:
    server = FakeServer([PENDING, SLOW, PENDING, (503, {}), (599, {}), (200, TOKENS)])
    tokens, clock = run(server)
    assert tokens == TOKENS
    assert clock.sleeps == [5, 5, 10, 10, 20, 40]  # 5 by default, +5, then backing off
    paths = [r.url.path for r in server.requests]
    assert paths[:2] == ["/tenant/.well-known/openid-configuration", paths[1]]
    assert paths[1] == "/.well-known/oauth-authorization-server/tenant"
    device_request = form(server.requests[2])
    assert device_request == {
        "scope": "openid",
        "client_id": "tv client",
        "client_secret": "s3cr3t&+",
    }
    poll = form(server.requests[3])
    assert poll["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert poll["device_code"] == "dc-123"


def test_a_secret_goes_in_basic_auth_when_the_server_supports_it() -> None:
    server = FakeServer([(200, TOKENS)], token_endpoint_auth_methods_supported=None)
    run(server)
    header = server.requests[-1].headers["authorization"]
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "tv+client:s3cr3t%26%2B"  # RFC 6749 §2.3.1: form-urlencoded first
    assert "client_secret" not in form(server.requests[-1])


def test_a_public_client_sends_its_client_id() -> None:
    server = FakeServer([(200, TOKENS)])
    run(server, secret=None, scope=None)
    assert form(server.requests[2]) == {"client_id": "tv client"}
    assert "authorization" not in server.requests[-1].headers


@pytest.mark.parametrize(
    ("polls", "message"),
    [
        ([PENDING, (400, {"error": "access_denied"})], "denied"),
        ([(400, {"error": "expired_token"})], "expired"),
        (
            [(400, {"error": "invalid_grant", "error_description": "gone"})],
            r"invalid_grant \(gone\)",
        ),
        ([(401, {"error": "invalid_client"})], "token request failed: invalid_client"),
        ([(200, {"token_type": "Bearer"})], "lacks access_token"),
    ],
)
def test_terminal_answers(polls: list[tuple[int, dict[str, Any]]], message: str) -> None:
    with pytest.raises(DeviceLoginError, match=message):
        run(FakeServer(polls))


def test_gives_up_when_the_code_has_expired_locally() -> None:
    server = FakeServer([PENDING] * 200)
    server.device["expires_in"] = 12
    with pytest.raises(DeviceLoginError, match="expired before it was approved"):
        run(server)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuer": "https://evil.example"}, "another issuer"),
        ({"device_authorization_endpoint": None}, "no device authorization endpoint"),
        ({"token_endpoint": "http://as.example/token"}, "must be an https URL"),
    ],
)
def test_metadata_is_checked(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DeviceLoginError, match=message):
        run(FakeServer([], **change))


def test_device_authorization_errors() -> None:
    bad = FakeServer([])
    bad.device = {"error": "invalid_scope", "error_description": "no such scope"}
    with pytest.raises(DeviceLoginError, match="invalid_scope"):
        run(bad)
    missing = FakeServer([])
    del missing.device["device_code"]
    with pytest.raises(DeviceLoginError, match="lacks a required member"):
        run(missing)
    zero = FakeServer([])
    zero.device["expires_in"] = 0
    with pytest.raises(DeviceLoginError, match="invalid number"):
        run(zero)


def test_no_metadata_and_not_json() -> None:
    def nothing(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(404)

    def html(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, text="<html>")

    for handler, message in ((nothing, "no authorization server metadata"), (html, "not JSON")):
        transport = httpx2.MockTransport(handler)
        with (
            httpx2.Client(transport=transport) as http,
            pytest.raises(DeviceLoginError, match=message),
        ):
            DeviceClient(http, "c").discover(ISSUER)


def test_metadata_urls_and_insecure_issuers() -> None:
    assert metadata_urls("https://a.example") == [
        "https://a.example/.well-known/openid-configuration",
        "https://a.example/.well-known/oauth-authorization-server",
    ]
    with httpx2.Client() as http:
        for issuer in ("http://a.example", "ftp://a.example"):
            with pytest.raises(DeviceLoginError, match="https"):
                DeviceClient(http, "c").discover(issuer)


def test_unreachable_server() -> None:
    def down(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused")

    with httpx2.Client(transport=httpx2.MockTransport(down)) as http:
        with pytest.raises(DeviceLoginError, match="cannot reach"):
            DeviceClient(http, "c").discover("http://127.0.0.1:9")
        endpoints = Endpoints("http://[::1]:9", "http://localhost:9/d", "http://127.0.0.1:9/t")
        with pytest.raises(DeviceLoginError, match="device authorization request failed"):
            DeviceClient(http, "c").authorize(endpoints, None)


def test_the_code_and_qr_are_shown() -> None:
    device = DeviceAuthorization("dc", "WDJB-MJHT", "https://as.example/a", None, 600, 5)
    out = io.StringIO()
    show_code(device, out)
    text = out.getvalue()
    assert "https://as.example/a" in text and "    WDJB-MJHT" in text and "10 min" in text
    assert "█" in text or "▀" in text
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    show_code(device, ascii_out)  # no half blocks: ANSI colours instead
    ascii_out.flush()
    plain = io.StringIO()
    show_code(device, plain, qr=False)
    assert "scan" not in plain.getvalue()


def test_the_cli_reports_errors_in_one_line() -> None:
    result = CliRunner().invoke(
        main, ["device-login", "--issuer", "http://as.example", "--client-id", "c"]
    )
    assert result.exit_code == 1
    assert "Error: the issuer must be an https URL" in result.output
