"""The log handler of `authgate serve`: a StreamHandler that writes the access lines logged
during one event-loop iteration with one write and one flush, at the start of the next
iteration (`loop.call_soon`), instead of one write+flush system call per line. With stderr
on a pipe (a service manager, a container runtime) that system call was a quarter of a token
request's CPU time.

Only the loggers named in `buffered` wait for the loop; any other line, and a line logged
where no event loop runs (start-up, another thread), is written at once, after the lines
still waiting. So an access line waits at most one loop iteration, and the server's own
shutdown lines take any waiting line out with them: uvicorn ends its process by re-raising
the SIGTERM it caught, so `logging.shutdown()` (which calls `flush()`) may never run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TextIO


class LoopBufferedStreamHandler(logging.StreamHandler[TextIO]):
    def __init__(
        self, stream: TextIO | None = None, buffered: Iterable[str] = ("authgate.access",)
    ) -> None:
        super().__init__(stream)
        self.buffered = frozenset(buffered)
        self._pending: list[str] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._queue(line, buffered=record.name in self.buffered)

    def emit_line(self, line: str) -> None:
        """A line already formatted, of a buffered logger (observability's access lines)."""
        self._queue(line, buffered=True)

    def _queue(self, line: str, *, buffered: bool) -> None:
        self._pending.append(line)
        if not buffered:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._scheduled_on is not loop:
            self._scheduled_on = loop
            loop.call_soon(self._flush_scheduled)

    def _flush_scheduled(self) -> None:
        self._scheduled_on = None
        self.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            lines, self._pending = self._pending, []
            if lines:
                self.stream.write(self.terminator.join(lines) + self.terminator)
            if hasattr(self.stream, "flush"):
                self.stream.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": "buffered log lines"}))
        finally:
            self.release()
