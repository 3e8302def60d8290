"""uvicorn's httptools protocol, with a response's writes sent to the socket together.

uvicorn writes a response's status line and headers (`http.response.start`) and then its
body (`http.response.body`) with two `transport.write` calls, and uvloop sends each at once
when its buffer is empty: two `send` system calls, and two TCP segments, per response. On
a token or introspection request that second call cost about a tenth of the request
(issue 9). Here the writes a connection makes in one event-loop turn are joined and handed
to the transport once, at the end of that turn: a response sent in one go (every response
of authgate's endpoints) leaves in one call. Nothing is held longer than the turn, and
closing or aborting the connection first sends or drops what is held, as the transport
itself would.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class TurnBufferedTransport:
    """The socket transport, with the writes of one loop turn joined into one write."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._held))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        # get_extra_info, is_closing, pause_reading, resume_reading, set_protocol, ...
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol on a TurnBufferedTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(TurnBufferedTransport(transport, self.loop))  # type: ignore[arg-type]
