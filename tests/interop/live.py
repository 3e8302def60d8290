"""A real `authgate serve` on a free loopback port, seeded with a client and a user, and a
scripted browser (sync httpx2) that completes login and consent on it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

import anyio
import httpx2

from authgate.config import Settings
from authgate.core.client_metadata import ClientRegistration
from authgate.flows import clients, users
from authgate.server import open_store
from tests.http.authorize.browser import form_with

USERNAME = "interop-user"
PASSWORD = "interop password 1"


@dataclass
class Live:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(database_url: str, issuer: str, redirect_uri: str) -> tuple[str, str]:
    settings = Settings(issuer=issuer, database_url=database_url)

    async def work() -> tuple[str, str]:
        store = open_store(settings)
        try:
            now = datetime.now(UTC)
            reg = ClientRegistration(
                name="Interop app",
                redirect_uris=(redirect_uri,),
                scope="openid profile email offline_access",
            )
            client, secret = await clients.create_client(store, settings, reg, now=now)
            await users.create_user(
                store,
                username=USERNAME,
                password=PASSWORD,
                email="interop@example.test",
                name="Interop User",
                now=now,
            )
            assert secret is not None
            return client.client_id, secret
        finally:
            await store.close()

    return anyio.run(work)


@contextlib.contextmanager
def live_server(database_url: str) -> Iterator[Live]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    redirect_uri = "http://127.0.0.1/callback"  # never contacted: the test reads Location
    client_id, secret = seed(database_url, issuer, redirect_uri)
    env = {**os.environ, "AUTHGATE_ISSUER": issuer, "AUTHGATE_DATABASE_URL": database_url}
    env.pop("AUTHGATE_CONFIG", None)
    cmd = [sys.executable, "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(issuer, proc, log)
            yield Live(issuer, client_id, secret, redirect_uri)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(issuer: str, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"authgate serve exited: {log.read().decode()[-2000:]}")
        try:
            if httpx2.get(f"{issuer}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("authgate serve did not become ready in 30 s")


def sign_in_and_consent(authorization_url: str, issuer: str) -> str:
    """Play the user in a browser: follow to the login page, sign in, approve; return the
    URL authgate sends the browser back to (the client's callback with code, state, iss).
    """
    with httpx2.Client(base_url=issuer, timeout=10) as browser:
        response = browser.get(authorization_url)
        for _ in range(6):
            location = response.headers.get("location")
            if location and not location.startswith(issuer):
                return str(location)
            if location:
                response = browser.get(location)
                continue
            assert response.status_code == 200, response.text
            if 'name="username"' in response.text:
                form = form_with(response.text, "username")
                data = {**form.fields, "username": USERNAME, "password": PASSWORD}
            else:
                form = form_with(response.text, "decision")
                data = {**form.fields, "decision": "approve"}
            url = urllib.parse.urljoin(issuer, form.action)
            response = browser.post(url, data=data, headers={"Origin": issuer})
    raise AssertionError("the authorization did not finish")
