"""Structured logs and request accounting (issue 8 "operations built in").

`RequestObserver` is a pure ASGI middleware: for every HTTP request it assigns the request
id and keeps the request's context (id, method, path, client) in a context variable, so
every log line written while the request runs carries it; it adds the default security
headers (web/security.py) and X-Request-Id to the response; and when the response is done
it writes one access line (status, duration, client_id, the RFC 6749 §5.2 `error` code of an
error response) and feeds the Prometheus metrics. It never logs a query string, a body, a
header value or a cookie: tokens, codes, secrets and passwords travel there (STYLE.md §5 "Logging").

`log_config()` is the logging.config.dictConfig that `authgate serve` hands to uvicorn:
one JSON object per line (`log_format = "json"`) or plain text.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.core.tokens import new_id
from authgate.web.log_stream import LoopBufferedStreamHandler
from authgate.web.security import DEFAULT_HEADERS

if TYPE_CHECKING:
    from authgate.web.metrics import Metrics

access_log = logging.getLogger("authgate.access")

# An incoming X-Request-Id is kept only when short and printable (no spaces, no controls),
# so that it cannot forge log lines or carry a payload.
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,64}")
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_LEVELS = {level: logging.getLevelName(level).lower() for level in (10, 20, 30, 40, 50)}
_js = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (ensure_ascii=False)
_MAX_ERROR_BODY = 4096


@dataclass(slots=True)
class RequestContext:
    request_id: str
    method: str
    path: str
    client_id: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "authgate_request", default=None
)


def incoming_request_id(scope: Scope) -> str | None:
    """The client's X-Request-Id when it is 1-64 printable ASCII characters, else None."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None


_ids = itertools.count()
_id_prefix = ""


def _next_request_id() -> str:
    """A request id unique across processes and restarts: a random prefix drawn once per
    process (again in a forked child), then a counter (a random id per request cost a
    system call each).
    """
    global _id_prefix
    if not _id_prefix:
        _id_prefix = new_id(6)
    return f"{_id_prefix}{next(_ids):x}"


def _forget_id_prefix() -> None:
    global _id_prefix
    _id_prefix = ""


os.register_at_fork(after_in_child=_forget_id_prefix)


def note_client(client_id: str) -> None:
    """Record the client the current request acts for (shown in its log lines)."""
    current = _current.get()
    if current is not None:
        current.client_id = client_id


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestObserver:
    """The one observing layer, a pure ASGI middleware with one `send` wrapper: it assigns
    the request id, adds the default security headers and X-Request-Id to the response,
    logs one access line and counts the request in `metrics`.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, *, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(
            request_id=incoming_request_id(scope) or _next_request_id(),
            method=scope["method"],
            path=scope["path"],
        )
        token = _current.set(context)
        started = time.perf_counter()
        response = _Response(context.request_id)

        async def observing_send(message: Message) -> None:
            response.see(message)
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            elapsed = time.perf_counter() - started
            status = response.status or 500  # an exception escaped before any response
            self.metrics.observe_request(_route(scope), scope["method"], status, elapsed)
            if self.log_requests or status >= 500:
                _log_access(context, status, elapsed, response.error_code())
            _current.reset(token)


class _Response:
    """What the observer sees of the response (its status and a small error body), and the
    headers it adds to it.
    """

    __slots__ = ("body", "json", "request_id_header", "status")

    def __init__(self, request_id: str) -> None:
        self.request_id_header = (b"x-request-id", request_id.encode())
        self.status = 0
        self.json = False
        self.body = bytearray()

    def see(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            message["headers"] = self._headers(message.get("headers", ()))
        elif message["type"] == "http.response.body" and self._wants_body():
            self.body += message.get("body", b"")[:_MAX_ERROR_BODY]

    def _headers(self, raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """One pass over what the endpoint set (an endpoint may set its own CSP, e.g. the
        form_post page), then the defaults it did not set and the request id.
        """
        headers = list(raw)
        present = set()
        for name, value in headers:
            name = name.lower()
            present.add(name)
            if name == b"content-type":
                self.json = value.split(b";")[0].strip() == b"application/json"
        headers += [pair for pair in DEFAULT_HEADERS if pair[0] not in present]
        headers.append(self.request_id_header)
        return headers

    def _wants_body(self) -> bool:
        return self.status >= 400 and self.json and len(self.body) < _MAX_ERROR_BODY

    def error_code(self) -> str | None:
        if not self.body:
            return None
        try:
            error = json.loads(bytes(self.body)).get("error")
        except (ValueError, AttributeError):
            return None
        return error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else None


def _log_access(context: RequestContext, status: int, elapsed: float, error: str | None) -> None:
    if status == 503:  # the database is away: expected in an outage, and answered
        level = logging.WARNING
    elif status >= 500:
        level = logging.ERROR
    elif context.path in _QUIET_PATHS:
        level = logging.DEBUG
    else:
        level = logging.INFO
    if not access_log.isEnabledFor(level):
        return
    duration = round(elapsed * 1000, 2)
    sink = _json_sink(level)
    if sink is not None:
        # The line JsonFormatter.format writes for the record below (a test holds them
        # equal), without the LogRecord, the handler chain and the dicts: an access line
        # built the general way cost a tenth of a token request.
        method, path = _js(context.method), _js(context.path)
        client = f', "client_id": {_js(context.client_id)}' if context.client_id else ""
        tail = f', "error": {_js(error)}' if error else ""
        message = _js(f"{context.method} {context.path} {status}")
        sink.emit_line(
            f'{{"time": "{_timestamp(time.time())}", "level": "{_LEVELS[level]}", '
            f'"logger": "authgate.access", "message": {message}, '
            f'"request_id": {_js(context.request_id)}, "method": {method}, "path": {path}'
            f'{client}, "status": {status}, "duration_ms": {duration!r}{tail}}}'
        )
        return
    fields: dict[str, object] = {"status": status, "duration_ms": duration}
    if error:
        fields["error"] = error
    # Logger.log without its stack walk for the caller (findCaller): no formatter here
    # shows a file, line or function.
    record = access_log.makeRecord(
        access_log.name,
        level,
        __file__,
        0,
        "%s %s %d",
        (context.method, context.path, status),
        None,
        extra={"authgate": fields},
    )
    access_log.handle(record)


def _json_sink(level: int) -> LoopBufferedStreamHandler | None:
    """The one handler an access line at `level` reaches when that is the serve handler
    with the JSON formatter and nothing on the way filters: it can take a formatted line.
    """
    found: logging.Handler | None = None
    logger: logging.Logger | None = access_log
    while logger is not None:
        if logger.filters:
            return None
        for handler in logger.handlers:
            if found is not None:
                return None
            found = handler
        if not logger.propagate:
            break
        logger = logger.parent
    if (
        type(found) is LoopBufferedStreamHandler
        and type(found.formatter) is JsonFormatter
        and not found.filters
        and found.level <= level
    ):
        return found
    return None


def _fields(record: logging.LogRecord) -> dict[str, object]:
    context = _current.get()
    fields = _context_fields(context) if context is not None else {}
    extra = getattr(record, "authgate", None)
    if isinstance(extra, dict):
        fields.update(extra)
    return fields


def _context_fields(context: RequestContext) -> dict[str, object]:
    fields: dict[str, object] = {
        "request_id": context.request_id,
        "method": context.method,
        "path": context.path,
    }
    if context.client_id:
        fields["client_id"] = context.client_id
    return fields


_second: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    """ISO 8601 UTC with milliseconds; the part up to the second is formatted once a second
    (one access line per request makes this the formatter's largest cost otherwise).
    """
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{int((created - whole) * 1000):03d}+00:00"


# json.dumps(entry, ensure_ascii=False, default=str) builds a new encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
_HEAD_KEYS = frozenset({"time", "level", "logger", "message"})


def _entry(created: float, level: int, logger: str, message: str) -> dict[str, object]:
    return {
        "time": _timestamp(created),
        "level": logging.getLevelName(level).lower(),
        "logger": logger,
        "message": message,
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if not _HEAD_KEYS.isdisjoint(fields):  # a field named like a head key replaces it
            entry = _entry(record.created, record.levelno, record.name, record.getMessage())
            entry.update(fields)
            return _ENCODER.encode(entry)
        # The same text as encoding the whole entry, in a third of the time: the head's keys
        # are fixed, and a string value (nearly every one) is encoded on its own.
        level = _LEVELS.get(record.levelno) or logging.getLevelName(record.levelno).lower()
        rest = "".join(
            f", {_js(key)}: {_js(value) if type(value) is str else _ENCODER.encode(value)}"
            for key, value in fields.items()
        )
        return (
            f'{{"time": "{_timestamp(record.created)}", "level": {_js(level)}, '
            f'"logger": {_js(record.name)}, "message": {_js(record.getMessage())}{rest}}}'
        )


class TextFormatter(logging.Formatter):
    """The classic line, with the request's fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        if not fields:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the fields
        return f"{head} {fields}{sep}{tail}"


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """The dictConfig for `authgate serve` (uvicorn applies it in every worker)."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    name = f"{formatter.__module__}.{formatter.__qualname__}"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"authgate": {"()": name}},
        "handlers": {
            "default": {
                "class": "authgate.web.log_stream.LoopBufferedStreamHandler",
                "formatter": "authgate",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
