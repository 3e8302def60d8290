"""The log handler of `authgate serve`: a StreamHandler that writes the access lines logged
during one event-loop iteration with one write and one flush, at the start of the next
iteration (`loop.call_soon`), instead of one write+flush system call per line. With stderr
on a pipe (a service manager, a container runtime) that system call was a quarter of a token
request's CPU time.

Only lines below WARNING of the loggers under `buffered` (authgate's own: the access lines,
and a flow's event such as a revocation's `token.revoke`, which was written alone, one
system call per revocation) wait for the loop; a warning or error, any other logger's line
(uvicorn's), and a line logged where no event loop runs (start-up, another thread) are
written at once, after the lines still waiting. So a line waits at most one loop
iteration, and the server's own shutdown lines take any waiting line out with them: uvicorn
ends its process by re-raising the SIGTERM it caught, so `logging.shutdown()` (which calls
`flush()`) may never run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TextIO


class LoopBufferedStreamHandler(logging.StreamHandler[TextIO]):
    def __init__(
        self, stream: TextIO | None = None, buffered: Iterable[str] = ("authgate",)
    ) -> None:
        super().__init__(stream)
        self.buffered = tuple(buffered)
        self._under = tuple(f"{name}." for name in self.buffered)
        self._pending: list[str] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._queue(line, buffered=self._waits(record))

    def _waits(self, record: logging.LogRecord) -> bool:
        """Whether the record's line may wait for the end of the loop iteration."""
        name = record.name
        return record.levelno < logging.WARNING and (
            name in self.buffered or name.startswith(self._under)
        )

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
