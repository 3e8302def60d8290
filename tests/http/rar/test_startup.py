"""RFC 9396 types at start: declared in the TOML file, compiled once; a bad schema stops
`authgate serve` with one line naming the type. Discovery lists the declared types, and a
client may only be registered for declared ones (`--authorization-details-type`).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner

from authgate.cli import main
from tests.http.rar.support import TOML

BAD = """
[authorization_details_types.payment_initiation]
schema = '{"type": "object", "properties": {"amount": {"type": "money"}}}'
"""


def test_a_bad_schema_stops_serve_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "authgate.toml"
    path.write_text(BAD)
    monkeypatch.setenv("AUTHGATE_CONFIG", str(path))
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", f"sqlite:///{tmp_path}/authgate.db")
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "Error: AUTHGATE_AUTHORIZATION_DETAILS_TYPES (authorization_details_types): "
        "authorization details type 'payment_initiation': invalid JSON Schema at "
        "properties/amount/type: "
    )


async def test_discovery_lists_the_declared_types(client: httpx2.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/openid-configuration")).json()
    assert metadata["authorization_details_types_supported"] == [
        "account_information",
        "payment_initiation",
    ]


def test_cli_registers_clients_for_declared_types_only(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "authgate.toml"
    path.write_text(TOML)
    monkeypatch.setenv("AUTHGATE_CONFIG", str(path))
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", db)
    runner = CliRunner()
    base = ["client", "create", "--name", "Bank app", "--redirect-uri", "https://c1.test/cb"]
    ok = runner.invoke(
        main, [*base, "--authorization-details-type", "payment_initiation", "--json"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["client_id"]
    refused = runner.invoke(main, [*base, "--authorization-details-type", "payment"])
    assert refused.exit_code == 1
    assert "authorization details type not declared in the configuration: payment" in (
        refused.stderr
    )
