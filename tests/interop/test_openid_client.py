"""Interop: node openid-client v6 (a certified OpenID relying party library) completes the
authorization code flow with PKCE against a live `authgate serve`, validates the ID token
itself and fetches UserInfo (issue 3, "Done when").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.interop.live import live_server, sign_in_and_consent

NODE_DIR = Path(__file__).parent / "node"
pytestmark = pytest.mark.interop


def _node() -> str:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required for the interop tests under CI=true")
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )
    return node


def test_openid_client_completes_the_code_flow(db: str) -> None:
    node = _node()
    with live_server(db) as live:
        proc = subprocess.Popen(
            [
                node,
                "code_flow.mjs",
                live.issuer,
                live.client_id,
                live.client_secret,
                live.redirect_uri,
            ],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None and proc.stdin is not None
            first = proc.stdout.readline()
            assert first, proc.stderr.read() if proc.stderr else ""
            url = json.loads(first)["authorization_url"]
            assert url.startswith(live.issuer + "/authorize?")
            callback = sign_in_and_consent(url, live.issuer)
            proc.stdin.write(callback + "\n")
            proc.stdin.flush()
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        result = json.loads(out.strip().splitlines()[-1])
    claims, userinfo = result["claims"], result["userinfo"]
    assert result["token_type"].lower() == "bearer"
    assert claims["iss"] == live.issuer and claims["aud"] == live.client_id
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["email"] == "interop@example.test"
    assert userinfo["name"] == "Interop User"
