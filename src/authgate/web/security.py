"""Headers every response carries (RFC 9700 §4.16 clickjacking, §4.2.4 Referer leakage) and
the request id that ties log lines together. A pure ASGI middleware: no body buffering.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.core.tokens import new_id
from authgate.web.observability import incoming_request_id

# No script, no frames, no third-party origins: the pages work without JavaScript.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
}


_ALWAYS_RAW = tuple((name.lower().encode(), value.encode()) for name, value in _ALWAYS.items())


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or new_id(9)
        scope.setdefault("state", {})["request_id"] = request_id

        request_id_header = (b"x-request-id", request_id.encode())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw header pairs: one pass over what the endpoint set (an endpoint may set
                # its own CSP, e.g. the form_post page), then the defaults it did not set.
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [pair for pair in _ALWAYS_RAW if pair[0] not in present]
                headers.append(request_id_header)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
