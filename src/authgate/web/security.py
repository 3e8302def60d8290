"""Headers every response carries unless it sets its own (RFC 9700 §4.16 clickjacking,
§4.2.4 Referer leakage). web/observability.py's RequestObserver adds them.
"""

from __future__ import annotations

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

# Raw ASGI header pairs, as the observer appends them.
DEFAULT_HEADERS = tuple((name.lower().encode(), value.encode()) for name, value in _ALWAYS.items())
