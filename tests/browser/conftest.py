"""Real-browser tests (issue 10): Playwright driving Debian's Chromium (/usr/bin/chromium,
never a downloaded browser) against a live `authgate serve`.

The server runs on SQLite only, one per module: these tests are about what a person sees
(the pages, their accessibility, the headers a browser enforces); the flows behind them are
tested on both SQLite and PostgreSQL in tests/http and tests/security.

Without /usr/bin/chromium (or the Python playwright package) the tests are skipped with the
reason, except under CI=true, where they fail: `.ci/run` installs Chromium.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import http.server
import os
import secrets
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.http.device.pages import DEVICE_GRANT
from tests.live import live_server

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CALLBACK = "/cb"  # path of the client's redirect URI on its own loopback port (another origin)
PASSWORD = "browser password 1"
# locale of the browser (Accept-Language) -> the page's lang attribute
LOCALES = {"en-US": "en", "it-IT": "it", "zh-CN": "zh-CN"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true (see .ci/run)")
    pytest.skip(f"{what} is missing: the browser tests need it (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def chromium(sqlite_template: Path) -> Iterator[Any]:
    """The browser. The sync Playwright API runs an event loop in this thread, so what needs
    asyncio.run (the template database here, the seeding below: in a thread) comes first.
    """
    if not os.path.exists(CHROMIUM):
        _missing(CHROMIUM)
    if not AXE.exists():
        _missing(f"{AXE} (make browser-deps)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Server:
    issuer: str
    client_id: str  # confidential web client, redirect URI CALLBACK
    device_client_id: str  # public device client
    callback: str  # the web client's redirect URI
    client_secret: str
    screenshots: Path | None


class _Client(http.server.BaseHTTPRequestHandler):
    """The relying party's callback: a plain page, so the browser's flow ends somewhere."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>client</title><p>client"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # response_mode=form_post
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def _seed(url: str, callback: str) -> tuple[str, str, str]:
    from authgate.config import Settings
    from authgate.core.client_metadata import ClientRegistration
    from authgate.flows import clients, users
    from authgate.server import open_store
    from tests.helpers import now

    settings = Settings(database_url=url)
    store = open_store(settings)
    try:
        web, secret = await clients.create_client(
            store,
            settings,
            ClientRegistration(
                name="Photo Album",
                redirect_uris=(callback,),
                post_logout_redirect_uris=(callback,),
                scope="openid profile email offline_access",
                policy_uri="https://photos.example/privacy",
                tos_uri="https://photos.example/terms",
            ),
            now=now(),
        )
        device, _ = await clients.create_client(
            store,
            settings,
            ClientRegistration(
                name="Living-room TV",
                public=True,
                grant_types=(DEVICE_GRANT, "refresh_token"),
                scope="openid profile offline_access",
            ),
            now=now(),
        )
        for name in ("alice", "bob"):
            await users.create_user(store, username=name, password=PASSWORD, now=now())
    finally:
        await store.close()
    assert secret is not None
    return web.client_id, device.client_id, secret


@pytest.fixture(scope="module")
def server(
    chromium: Any,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Server]:
    """One live server per test module; a module may set SERVER_ENV (AUTHGATE_* settings)."""
    path = tmp_path_factory.mktemp("browser") / "authgate.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    client = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Client)
    threading.Thread(target=client.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{client.server_address[1]}{CALLBACK}"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        web, device, secret = pool.submit(anyio.run, _seed, url, callback).result()
    out = os.environ.get("AUTHGATE_SCREENSHOTS")
    shots = Path(out) if out else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    env = {
        "AUTHGATE_PRODUCT_NAME": "Example ID",
        "AUTHGATE_FOOTER_TEXT": "Example Ltd",
        **getattr(request.module, "SERVER_ENV", {}),
    }
    try:
        with live_server(url, env=env) as live:
            yield Server(live.base_url, web, device, callback, secret, shots)
    finally:
        client.shutdown()
        client.server_close()


@dataclass
class Visit:
    """One browser context (own cookies) at the live server, recording what it loads."""

    page: Any
    server: Server
    locale: str
    foreign: list[str] = field(default_factory=list)  # requests to any other origin
    callbacks: list[str] = field(default_factory=list)  # navigations to the client's callback
    document: Any = None  # the last main-frame document response
    verifier: str = ""  # PKCE code_verifier of the last authorization request

    @property
    def lang(self) -> str:
        return LOCALES[self.locale]

    def authorize(self, **extra: str) -> Any:
        verifier = self.verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        params = {
            "response_type": "code",
            "client_id": self.server.client_id,
            "redirect_uri": self.server.callback,
            "scope": "openid profile email",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            **extra,
        }
        return self.goto("/authorize?" + urllib.parse.urlencode(params))

    def goto(self, path: str) -> Any:
        return self.page.goto(self.server.issuer + path)

    def sign_in(self, username: str = "alice", password: str = PASSWORD) -> None:
        self.page.fill('input[name="username"]', username)
        self.page.fill('input[name="password"]', password)
        self.submit('form:has(input[name="username"]) button[type="submit"]')

    def submit(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def redeem(self) -> dict[str, Any]:
        """The client's side: exchange the code at the callback for tokens."""
        query = urllib.parse.urlsplit(self.page.url).query
        code = dict(urllib.parse.parse_qsl(query))["code"]
        r = httpx2.post(
            self.server.issuer + "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.server.callback,
                "code_verifier": self.verifier,
            },
            auth=(self.server.client_id, self.server.client_secret),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        tokens: dict[str, Any] = r.json()
        return tokens

    def device_code(self) -> str:
        r = httpx2.post(
            self.server.issuer + "/device_authorization",
            data={"client_id": self.server.device_client_id, "scope": "openid profile"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return str(r.json()["user_code"])


@pytest.fixture
def visit_factory(chromium: Any, server: Server) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(locale: str = "en-US") -> Visit:
        context = chromium.new_context(locale=locale, viewport=DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        visit = Visit(page, server, locale)
        issuer = urllib.parse.urlsplit(server.issuer)

        def on_request(request: Any) -> None:
            parts = urllib.parse.urlsplit(request.url)
            if parts.scheme in ("data", "about"):
                return
            if request.url.startswith(server.callback):
                visit.callbacks.append(request.url)
                return
            if (parts.scheme, parts.netloc) != (issuer.scheme, issuer.netloc):
                visit.foreign.append(request.url)

        def on_response(response: Any) -> None:
            request = response.request
            if request.resource_type == "document" and request.frame == page.main_frame:
                visit.document = response

        page.on("request", on_request)
        page.on("response", on_response)
        return visit

    yield make
    for context in contexts:
        context.close()
