"""CLI tests run the real commands against the `db` fixture's database (both backends)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from authgate.cli import main

Invoke = Callable[..., Result]


@pytest.fixture
def cli(db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Invoke:
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", db)
    monkeypatch.delenv("AUTHGATE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def as_json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
