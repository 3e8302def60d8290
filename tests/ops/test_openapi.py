"""/openapi.json (issue 8 "Fuzzing"): it describes exactly the routes the app serves, and a
schemathesis run over every operation finds no 5xx and no response outside the schema.

`make test` runs a modest number of examples per operation; `make soak` (AUTHGATE_SOAK=1)
runs many more.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Mount, Route

from authgate.config import Settings
from authgate.server import build_app
from authgate.web import openapi
from tests.conftest import ISSUER, _truncate

ADMIN = "admin-token-fuzz-0123456789"
EXAMPLES = 300 if os.environ.get("AUTHGATE_SOAK") else 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, admin_token=ADMIN)


def _routes(app: object) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            continue  # static files (/static): not an API
        assert isinstance(route, Route), route
        found |= {(route.path, m) for m in route.methods or () if m != "HEAD"}
    return found


def _described() -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {
        (path, method.upper())
        for path, item in openapi.paths().items()
        for method in item
        if method in methods
    }


def test_every_route_is_described_and_nothing_else(settings: Settings) -> None:
    assert _described() == _routes(build_app(settings))


async def test_the_server_publishes_its_description(client: httpx2.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": ISSUER}]
    assert set(document["paths"]) == {path for path, _ in _described()}


def test_a_path_described_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openapi, "SECTIONS", (openapi.paths_core.PATHS,) * 2)
    with pytest.raises(ValueError, match="described twice"):
        openapi.paths()


OPERATIONS = sorted(_described())
# Operations with no parameter and no body have nothing to make invalid.
_NEGATABLE = {
    (path, method.upper())
    for path, item in openapi.paths().items()
    for method, operation in item.items()
    if isinstance(operation, dict)
    and (operation.get("parameters") or operation.get("requestBody") or "parameters" in item)
}
CASES = [
    pytest.param(path, method, mode, id=f"{method} {path} {mode.value}")
    for path, method in OPERATIONS
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or (path, method) in _NEGATABLE
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BaseSchema]:
    """One app per database for the whole module (starting one per case is the slow part)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "authgate.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
    app = build_app(Settings(issuer=ISSUER, database_url=url, admin_token=ADMIN))
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        shutdown_lifespans()
        if request.param == "postgresql":
            asyncio.run(_truncate(url))


@pytest.mark.slow  # `make soak` runs it with AUTHGATE_SOAK=1: 300 examples per case
@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_fuzz_finds_no_5xx_and_no_response_outside_the_schema(
    fuzz_schema: BaseSchema, path: str, method: str, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"} if path.startswith("/admin") else {}
    operation = fuzz_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
