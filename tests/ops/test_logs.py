"""Structured logs (issue 8): one JSON object per line with the request's id, method, path,
status, duration, client and error code; never a token, code, secret or password.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from authgate.config import Settings
from authgate.core.client_auth import JWT_BEARER_ASSERTION
from authgate.core.tokens import new_id
from authgate.web.observability import JsonFormatter, TextFormatter, log_config
from tests.conftest import ISSUER
from tests.helpers import ASGIApp

ADMIN = "admin-token-ops-0123456789"
METRICS = "metrics-token-ops-0123456789"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(issuer=ISSUER, database_url=db, admin_token=ADMIN, metrics_token=METRICS)


class Captured:
    def __init__(self) -> None:
        self.json = io.StringIO()
        self.text = io.StringIO()

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.json.getvalue().splitlines()]

    def access(self) -> list[dict[str, object]]:
        return [e for e in self.lines() if e["logger"] == "authgate.access"]

    def everything(self) -> str:
        return self.json.getvalue() + self.text.getvalue()


@pytest.fixture
def logs() -> Iterator[Captured]:
    """Every log record at DEBUG, formatted both ways as `authgate serve` would."""
    captured = Captured()
    handlers = [logging.StreamHandler(captured.json), logging.StreamHandler(captured.text)]
    handlers[0].setFormatter(JsonFormatter())
    handlers[1].setFormatter(TextFormatter())
    root, sql = logging.getLogger(), logging.getLogger("sqlalchemy")
    levels = root.level, sql.level
    root.setLevel(logging.DEBUG)
    sql.setLevel(logging.DEBUG)  # SQL statements and their parameters too
    for handler in handlers:
        handler.addFilter(_server_side)
        root.addHandler(handler)
    try:
        yield captured
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(levels[0])
        sql.setLevel(levels[1])


def _server_side(record: logging.LogRecord) -> bool:
    """The test's own HTTP client logs the URLs it calls; that is not the server's log."""
    return not record.name.startswith(("httpx2", "httpcore"))


async def _client(client: httpx2.AsyncClient, **fields: object) -> dict[str, str]:
    body = {"name": "Svc", "scope": "api:read", "grant_types": ["client_credentials"], **fields}
    created = await client.post("/admin/clients", json=body, headers=ADMIN_AUTH)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def test_each_request_logs_one_json_line(client: httpx2.AsyncClient, logs: Captured) -> None:
    registered = await _client(client)
    form = {"grant_type": "client_credentials"}
    auth = (registered["client_id"], registered["client_secret"])
    ok = await client.post("/token", data=form, auth=auth, headers={"X-Request-Id": "trace-42"})
    assert ok.headers["x-request-id"] == "trace-42"
    bad = await client.post("/token", data=form, auth=(registered["client_id"], "wrong"))
    entries = logs.access()
    first = next(e for e in entries if e["request_id"] == "trace-42")
    assert first["level"] == "info"
    assert (first["method"], first["path"], first["status"]) == ("POST", "/token", 200)
    assert first["client_id"] == registered["client_id"]
    assert isinstance(first["duration_ms"], float)
    assert str(first["time"]).endswith("+00:00")
    failed = next(e for e in entries if e["request_id"] == bad.headers["x-request-id"])
    assert (failed["status"], failed["error"]) == (401, "invalid_client")
    assert "client_id" not in failed  # authentication failed: the client is not known
    # every line written during a request carries its id, not only the access line
    during = [e for e in logs.lines() if e["logger"] != "authgate.access" and "request_id" in e]
    assert any(e["request_id"] == failed["request_id"] for e in during)


@pytest.mark.parametrize("incoming", ["has space", "x" * 65, "bad\x7f", "é"])
async def test_an_unsafe_request_id_is_replaced(
    client: httpx2.AsyncClient, incoming: str, logs: Captured
) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": incoming.encode("latin-1")})
    assert response.headers["x-request-id"] != incoming
    assert len(response.headers["x-request-id"]) >= 8
    assert incoming not in logs.everything()


def test_log_config_is_accepted_by_dictconfig() -> None:
    import logging.config

    for fmt in ("json", "text"):
        config = log_config(fmt, "info")
        logging.config.dictConfig(config)
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, (JsonFormatter, TextFormatter)):
            root.removeHandler(handler)


def _assertion(key: ECKey, client_id: str) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": new_id(),
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


@pytest.mark.spec("SEC-16")
async def test_no_secret_reaches_the_logs(
    client: httpx2.AsyncClient, app: ASGIApp, logs: Captured
) -> None:
    secrets: list[str] = [ADMIN, METRICS]
    # admin API: a client (its secret), a new secret, a user and two passwords
    basic = await _client(client)
    secrets.append(basic["client_secret"])
    rotated = await client.patch(
        f"/admin/clients/{basic['client_id']}", json={"new_secret": True}, headers=ADMIN_AUTH
    )
    new_secret = rotated.json()["client_secret"]
    secrets.append(new_secret)
    passwords = ["first password 0192837465", "second password 5647382910"]
    secrets += passwords
    user = await client.post(
        "/admin/users", json={"username": "ops-user", "password": passwords[0]}, headers=ADMIN_AUTH
    )
    assert user.status_code == 201
    changed = await client.post(
        "/admin/users/ops-user/password", json={"password": passwords[1]}, headers=ADMIN_AUTH
    )
    assert changed.status_code == 200
    # client_credentials: Basic, form post, a wrong secret, secrets in a query string
    form = {"grant_type": "client_credentials"}
    ok = await client.post("/token", data=form, auth=(basic["client_id"], new_secret))
    secrets.append(ok.json()["access_token"])
    wrong = "wrong-secret-8877665544"
    secrets.append(wrong)
    await client.post("/token", data=form, auth=(basic["client_id"], wrong))
    await client.post(
        f"/token?client_secret={new_secret}&code=abcdefghijklmnop", data=form
    )  # query strings are never read (SEC-47), nor logged
    post = await _client(client, auth_method="client_secret_post", access_token_format="jwt")
    secrets.append(post["client_secret"])
    jwt_token = await client.post(
        "/token",
        data={**form, "client_id": post["client_id"], "client_secret": post["client_secret"]},
    )
    secrets.append(jwt_token.json()["access_token"])
    # private_key_jwt: the assertion, then its replay (refused)
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "alg": "ES256"}, private=True)
    jwks = json.dumps({"keys": [key.as_dict(private=False)]})
    pkj = await _client(client, auth_method="private_key_jwt", jwks=jwks)
    assertion = _assertion(key, pkj["client_id"])
    secrets.append(assertion)
    assertion_form = {
        **form,
        "client_assertion_type": JWT_BEARER_ASSERTION,
        "client_assertion": assertion,
    }
    assert (await client.post("/token", data=assertion_form)).status_code == 200
    assert (await client.post("/token", data=assertion_form)).status_code == 401
    # the operator's and the monitoring's bearer tokens
    await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS}"})
    await client.get("/admin/clients", headers={"Authorization": f"Bearer {ADMIN}x"})

    everything = logs.everything()
    assert len(logs.access()) >= 12  # the test saw the requests it made
    if app.settings.database_url.startswith("sqlite"):
        # DEBUG really was on, SQL included (on PostgreSQL every statement goes to asyncpg
        # directly, store/sql/pg_pool.py: nothing logs SQL there)
        assert "sqlalchemy.engine" in everything
    for secret in secrets:
        assert secret not in everything
        assert secret[:16] not in everything


def test_timestamps_are_iso8601_utc_with_milliseconds() -> None:
    from authgate.web.observability import _timestamp

    assert _timestamp(0.0) == "1970-01-01T00:00:00.000+00:00"
    assert _timestamp(1_700_000_000.25) == "2023-11-14T22:13:20.250+00:00"
    assert _timestamp(1_700_000_000.999) == "2023-11-14T22:13:20.999+00:00"
    assert _timestamp(1_700_000_001.0) == "2023-11-14T22:13:21.000+00:00"


async def test_access_log_off_keeps_only_server_errors(db: str, logs: Captured) -> None:
    from authgate.server import build_app
    from tests.helpers import lifespan_app

    quiet = Settings(issuer=ISSUER, database_url=db, admin_token=ADMIN, access_log=False)
    async with lifespan_app(build_app(quiet)) as app:
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url=ISSUER) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.post("/token", data={"grant_type": "password"})).status_code == 400
    assert logs.access() == []


def _encoded_whole(record: logging.LogRecord, fields: dict[str, object]) -> str:
    """The line as json.dumps of the whole entry would write it."""
    from authgate.web.observability import _timestamp

    entry: dict[str, object] = {
        "time": _timestamp(record.created),
        "level": logging.getLevelName(record.levelno).lower(),
        "logger": record.name,
        "message": record.getMessage(),
    }
    entry.update(fields)
    return json.dumps(entry, ensure_ascii=False, default=str)


@pytest.mark.parametrize("with_context", [False, True])
def test_the_json_line_is_the_whole_entry_encoded(with_context: bool) -> None:
    """JsonFormatter writes each value on its own: the text must equal json.dumps of the
    entry, for every kind of value, escapes, levels and a traceback.
    """
    from authgate.web import observability

    context = observability.RequestContext('id-"\\x', "POST", "/t\u00e9\n\x00", "svc")
    token = observability._current.set(context) if with_context else None
    extra: dict[str, object] = {
        "status": 200,
        "duration_ms": 0.25,
        "flag": True,
        "none": None,
        "list": [1, "\u2028", {"k": "v"}],
        "when": time,  # not JSON: default=str
        "text": 'quote " backslash \\ tab \t é',
    }
    try:
        for level in (logging.DEBUG, logging.INFO, 25, logging.ERROR):
            record = logging.makeLogRecord(
                {"name": "authgate.x", "levelno": level, "msg": "a %s", "args": ("b\u00e9",)}
            )
            record.authgate = extra
            fields = observability._fields(record)
            assert JsonFormatter().format(record) == _encoded_whole(record, fields)
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            record = logging.makeLogRecord({"name": "n", "msg": "m", "exc_info": sys.exc_info()})
        line = JsonFormatter().format(record)
        fields = {**observability._fields(record), "exception": json.loads(line)["exception"]}
        assert "ValueError: boom" in str(fields["exception"])
        assert line == _encoded_whole(record, fields)
        record = logging.makeLogRecord({"name": "n", "msg": "m"})
        record.authgate = {"message": "replaced", "level": "custom"}
        assert json.loads(JsonFormatter().format(record))["message"] == "replaced"
        assert JsonFormatter().format(record) == _encoded_whole(
            record, observability._fields(record)
        )
    finally:
        if token is not None:
            observability._current.reset(token)


@pytest.mark.parametrize("client_id", [None, "svc-1"])
def test_the_serve_handler_gets_access_lines_equal_to_the_formatters(
    client_id: str | None,
) -> None:
    """With the serve handler (JSON) as the only one, an access line skips the LogRecord:
    the line is the one JsonFormatter writes for the record, field for field.
    """
    from authgate.web import observability
    from authgate.web.log_stream import LoopBufferedStreamHandler

    context = observability.RequestContext('id-"\\x', "POST", "/t\u00e9\n", client_id)
    outputs = []
    token = observability._current.set(context)  # as RequestObserver has it while it logs
    for fast in (True, False):
        stream = io.StringIO()
        handler: logging.Handler = (
            LoopBufferedStreamHandler(stream) if fast else logging.StreamHandler(stream)
        )
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        saved, level = root.handlers[:], root.level
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
        try:
            assert (observability._json_sink(logging.INFO) is handler) is fast
            observability._log_access(context, 503, 0.012345, "temporarily_unavailable")
            observability._log_access(context, 200, 0.5, None)
        finally:
            root.handlers[:] = saved
            root.setLevel(level)
        outputs.append([json.loads(line) for line in stream.getvalue().splitlines()])
    observability._current.reset(token)
    for line in (*outputs[0], *outputs[1]):
        line.pop("time")
    assert outputs[0] == outputs[1]
    assert outputs[0][0]["level"] == "warning"
    assert outputs[0][0]["path"] == "/t\u00e9\n"
    assert ("client_id" in outputs[0][1]) is (client_id is not None)


def test_a_filter_or_a_second_handler_takes_access_lines_the_long_way() -> None:
    from authgate.web import observability
    from authgate.web.log_stream import LoopBufferedStreamHandler

    handler = LoopBufferedStreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        root.handlers[:] = [handler, logging.StreamHandler(io.StringIO())]
        assert observability._json_sink(logging.INFO) is None
        root.handlers[:] = [handler]
        handler.addFilter(lambda record: True)
        assert observability._json_sink(logging.INFO) is None
        handler.filters.clear()
        handler.setLevel(logging.ERROR)
        assert observability._json_sink(logging.INFO) is None
        handler.setFormatter(TextFormatter())
        assert observability._json_sink(logging.ERROR) is None
    finally:
        root.handlers[:] = saved


def test_request_ids_are_a_process_prefix_and_a_counter_redrawn_after_fork() -> None:
    import os

    from authgate.web.observability import _next_request_id

    first, second = _next_request_id(), _next_request_id()
    assert first != second and first[:8] == second[:8] and len(first) >= 9
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a new prefix, so two workers never share ids
        os.write(write, _next_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child[:8] != first[:8]
