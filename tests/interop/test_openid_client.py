"""Interop: node openid-client v6 (a certified OpenID relying party library) completes the
authorization code flow with PKCE against a live `authgate serve`, validates the ID token
itself and fetches UserInfo (issue 3, "Done when"); then refreshes with rotation, introspects
and revokes (`refreshTokenGrant`, `tokenIntrospection`, `tokenRevocation`; issue 5).
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


def _drive(proc: subprocess.Popen[str], issuer: str) -> dict[str, object]:
    """Answer every authorization URL the script prints with a signed-in, consented
    callback; return its last line (the result).
    """
    assert proc.stdout is not None and proc.stdin is not None
    while True:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        message = json.loads(line)
        if "authorization_url" not in message:
            return dict(message)
        url = message["authorization_url"]
        assert url.startswith(issuer + "/authorize?")
        proc.stdin.write(sign_in_and_consent(url, issuer) + "\n")
        proc.stdin.flush()


@pytest.mark.spec("RFC 9700 §4.14.2")
@pytest.mark.spec("RFC 7662 §2.2")
@pytest.mark.spec("RFC 7009 §2.1")
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
            result = _drive(proc, live.issuer)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
    claims, userinfo = result["claims"], result["userinfo"]
    assert isinstance(claims, dict) and isinstance(userinfo, dict)
    assert str(result["token_type"]).lower() == "bearer"
    assert claims["iss"] == live.issuer and claims["aud"] == live.client_id
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["email"] == "interop@example.test"
    assert userinfo["name"] == "Interop User"
    assert result["has_refresh_token"] is True
    # refreshTokenGrant: rotation, and the spent refresh token is a replay that ends the family.
    assert result["rotation"] == {
        "new_refresh_token": True,
        "refreshed_claims_sub": claims["sub"],
        "new_access_token_active": True,
        "new_refresh_token_active": True,
        "old_refresh_token_error": "invalid_grant",
        "after_replay_active": False,
    }
    # tokenIntrospection of a live access token, then tokenRevocation of its refresh token.
    introspection = result["introspection"]
    assert isinstance(introspection, dict)
    assert introspection["active"] is True
    assert introspection["client_id"] == live.client_id
    assert introspection["sub"] == claims["sub"]
    assert set(str(introspection["scope"]).split()) >= {"openid", "offline_access"}
    assert result["revocation"] == {
        "access_token_active_after": False,
        "refresh_token_active_after": False,
        "refresh_error_after": "invalid_grant",
    }
