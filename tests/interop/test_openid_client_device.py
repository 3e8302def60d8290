"""Interop: node openid-client v6 runs the device authorization grant against a live
`authgate serve` (`initiateDeviceAuthorization` + `pollDeviceAuthorizationGrant`, with its
own handling of `interval` and `slow_down`) while the test approves or denies on the
verification page (issue 6 "Done when").
"""

from __future__ import annotations

import json
import subprocess

import anyio
import pytest

from tests.http.device.pages import seed_live, verify_live
from tests.interop.test_openid_client import NODE_DIR, _node
from tests.live import live_server

pytestmark = pytest.mark.interop


def _run(
    node: str, issuer: str, client_id: str, decision: str
) -> tuple[dict[str, object], dict[str, object]]:
    proc = subprocess.Popen(
        [node, "device_flow.mjs", issuer, client_id, "openid offline_access"],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first, proc.stderr.read() if proc.stderr else ""
        device = json.loads(first)
        page = verify_live(issuer, device["user_code"], decision=decision)
        assert 'data-result="' + ("approved" if decision == "approve" else "denied") in page
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    return device, json.loads(out.strip().splitlines()[-1])


@pytest.mark.spec("RFC 8628 §3.4")
def test_openid_client_gets_tokens_for_a_device_approved_on_the_page(db: str) -> None:
    node = _node()
    client_id = anyio.run(seed_live, db)
    with live_server(db, env={"AUTHGATE_DEVICE_POLL_INTERVAL": "1"}) as server:
        device, result = _run(node, server.base_url, client_id, "approve")
        assert device["verification_uri"] == f"{server.base_url}/device"
        assert device["interval"] == 1 and device["expires_in"] == 600
        claims = result["claims"]
        assert isinstance(claims, dict)
        assert claims["iss"] == server.base_url and claims["aud"] == client_id
        assert result["has_refresh_token"] is True
        assert str(result["token_type"]).lower() == "bearer"

        _, denied = _run(node, server.base_url, client_id, "deny")
        assert denied == {"error": "access_denied"}
