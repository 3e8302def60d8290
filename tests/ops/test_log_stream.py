"""The serve log handler (web/log_stream.py): lines logged during one event-loop iteration
are written together, with one write and one flush, and none is lost.
"""

from __future__ import annotations

import asyncio
import io
import logging

from authgate.web.log_stream import LoopBufferedStreamHandler
from authgate.web.observability import log_config


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def _record(
    message: str, name: str = "authgate.access", level: int = logging.INFO
) -> logging.LogRecord:
    return logging.makeLogRecord({"name": name, "msg": message, "levelno": level})


def test_without_a_loop_each_line_is_written_at_once() -> None:
    stream = CountingStream()
    handler = LoopBufferedStreamHandler(stream)
    handler.handle(_record("one"))
    assert stream.getvalue() == "one\n"
    handler.handle(_record("two"))
    assert stream.getvalue() == "one\ntwo\n"
    assert (stream.writes, stream.flushes) == (2, 2)


def test_lines_of_one_loop_iteration_are_written_together() -> None:
    stream = CountingStream()
    handler = LoopBufferedStreamHandler(stream)

    async def requests() -> str:
        for n in range(3):
            handler.handle(_record(f"line {n}"))
        before = stream.getvalue()
        await asyncio.sleep(0)  # the next iteration
        return before

    assert asyncio.run(requests()) == ""
    assert stream.getvalue() == "line 0\nline 1\nline 2\n"
    assert (stream.writes, stream.flushes) == (1, 1)


def test_other_loggers_write_at_once_after_what_waits() -> None:
    """uvicorn ends the process by re-raising SIGTERM, with no logging.shutdown(): its own
    shutdown lines must take the waiting access lines out.
    """
    stream = CountingStream()
    handler = LoopBufferedStreamHandler(stream)

    async def shutdown() -> str:
        handler.handle(_record("GET /jwks 200"))
        handler.handle(_record("Finished server process", name="uvicorn.error"))
        return stream.getvalue()

    assert asyncio.run(shutdown()) == "GET /jwks 200\nFinished server process\n"


def test_authgate_lines_below_warning_wait_and_its_warnings_do_not() -> None:
    """A flow's event (a revocation's `token.revoke`) waits with the access lines; a warning
    goes out at once and takes them along; a logger outside authgate's tree writes at once.
    """
    stream = CountingStream()
    handler = LoopBufferedStreamHandler(stream)

    async def revocations() -> list[str]:
        seen = []
        handler.handle(_record("token.revoke", name="authgate.flows.revoke"))
        handler.handle(_record("POST /revoke 200"))
        seen.append(stream.getvalue())
        handler.handle(_record("janitor", name="authgate", level=logging.DEBUG))
        seen.append(stream.getvalue())
        handler.handle(_record("reuse", name="authgate.flows.refresh_token", level=30))
        seen.append(stream.getvalue())
        handler.handle(_record("other", name="authgatex.plugin"))
        seen.append(stream.getvalue())
        return seen

    assert asyncio.run(revocations()) == [
        "",
        "",
        "token.revoke\nPOST /revoke 200\njanitor\nreuse\n",
        "token.revoke\nPOST /revoke 200\njanitor\nreuse\nother\n",
    ]
    assert stream.writes == 2


def test_flush_writes_what_waits() -> None:
    stream = CountingStream()
    handler = LoopBufferedStreamHandler(stream)

    async def log_and_flush() -> str:
        handler.handle(_record("late"))
        handler.flush()  # logging.shutdown() flushes every handler
        return stream.getvalue()

    assert asyncio.run(log_and_flush()) == "late\n"


def test_a_line_left_by_a_stopped_loop_goes_out_with_the_next() -> None:
    stream = CountingStream()
    handler = LoopBufferedStreamHandler(stream)
    loop = asyncio.new_event_loop()
    loop.call_soon(handler.handle, _record("left"))
    loop.call_soon(loop.stop)  # the loop stops before the scheduled write
    loop.run_forever()
    loop.close()
    assert stream.getvalue() == ""

    async def log_again() -> None:
        handler.handle(_record("next"))
        await asyncio.sleep(0)

    asyncio.run(log_again())
    assert stream.getvalue() == "left\nnext\n"


def test_serve_logs_through_it() -> None:
    for fmt in ("json", "text"):
        handler = log_config(fmt, "info")["handlers"]["default"]
        assert handler["class"] == "authgate.web.log_stream.LoopBufferedStreamHandler"
