"""authgate: an OAuth 2.0 and OpenID Connect authorization server."""

from __future__ import annotations

__version__ = "0.1.0"
