"""The server's HTTP protocol (http_protocol.py): a response's status line, headers and
body leave in one write to the socket, through a real uvicorn server and real sockets;
nothing is held past the loop turn, lost at a close, or reordered.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
import uvicorn

from authgate.http_protocol import HttpProtocol

WRITES: list[bytes] = []


class _CountingTransport:
    """The real socket transport, recording each write that reaches it."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        WRITES.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Recorded(HttpProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CountingTransport(transport))  # type: ignore[arg-type]


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-type", b"text/plain")]
    if scope["path"] == "/stream":  # a body in parts, with a pause between them
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"two", "more_body": False})
        return
    body = b"hello " + scope["path"].encode()
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def server() -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=port, http=_Recorded, lifespan="off", log_level="warning"
    )
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    for _ in range(500):  # uvicorn.Server has no event for "started"
        if running.started:
            break
        await asyncio.sleep(0.01)
    assert running.started
    WRITES.clear()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        await task


async def test_a_response_leaves_in_one_write(server: str) -> None:
    async with httpx2.AsyncClient(base_url=server) as http:
        for path in ("/a", "/b", "/c"):  # one keep-alive connection
            response = await http.get(path)
            assert response.status_code == 200
            assert response.text == f"hello {path}"
    assert len(WRITES) == 3
    assert all(write.startswith(b"HTTP/1.1 200 OK\r\n") for write in WRITES)
    assert WRITES[0].endswith(b"\r\n\r\nhello /a")


async def test_a_body_sent_in_parts_keeps_its_order_and_turns(server: str) -> None:
    async with httpx2.AsyncClient(base_url=server) as http:
        response = await http.get("/stream")
    assert response.text == "one,two"
    # headers and first part in one turn, the rest after the pause: nothing waits for it
    assert len(WRITES) == 2
    assert WRITES[0].startswith(b"HTTP/1.1 200 OK\r\n") and WRITES[0].endswith(b"one,\r\n")
    assert WRITES[1] == b"3\r\ntwo\r\n0\r\n\r\n"


async def test_what_is_held_is_sent_before_the_connection_closes(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)  # read to EOF: the server closed
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nhello /bye")
    assert len(WRITES) == 1
