"""`authgate device-login` against a live `authgate serve` while the test, playing the
person, approves (or denies) on the verification page (issue 6 "Done when").
"""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest

from tests.http.device.pages import USER_CODE, seed_live, verify_live
from tests.live import cli_env, live_server

pytestmark = pytest.mark.slow


def device_login(issuer: str, client_id: str, db: str) -> subprocess.Popen[str]:
    args = ("--issuer", issuer, "--client-id", client_id, "--scope", "openid offline_access")
    return subprocess.Popen(
        [sys.executable, "-m", "authgate", "device-login", *args],
        env={**cli_env(db), "PYTHONIOENCODING": "utf-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def shown_code(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Read standard error until the CLI waits; the user code and what it printed."""
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("Waiting for approval"):
            break
    text = "".join(lines)
    code = next((s.strip() for s in lines if USER_CODE.match(s.strip())), None)
    assert code is not None, text
    return code, text


def test_device_login_prints_the_tokens_once_approved_on_the_page(db: str) -> None:
    client_id = anyio.run(seed_live, db)
    with live_server(db, env={"AUTHGATE_DEVICE_POLL_INTERVAL": "1"}) as server:
        proc = device_login(server.base_url, client_id, db)
        try:
            code, shown = shown_code(proc)
            assert f"To sign in, open {server.base_url}/device" in shown
            assert "▀" in shown or "█" in shown  # the QR code, drawn in half blocks
            assert f"{server.base_url}/device?user_code={code}" in shown
            assert "You can return to your device" in verify_live(server.base_url, code)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        tokens = json.loads(out)
        assert tokens["token_type"] == "Bearer"
        assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
        assert tokens["scope"] == "offline_access openid"

        denied = device_login(server.base_url, client_id, db)
        try:
            code, _ = shown_code(denied)
            verify_live(server.base_url, code, decision="deny")
            out, err = denied.communicate(timeout=60)
        finally:
            if denied.poll() is None:
                denied.kill()
        assert denied.returncode == 1 and out == ""
        assert "Error: the request was denied on the verification page" in err
