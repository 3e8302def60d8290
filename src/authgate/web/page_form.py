"""Reading the fields of our own page forms (and RFC 6750 §2.2 form-encoded bearer tokens).

core.params keeps only protocol parameters; a page form also carries `csrf_token`, the
chooser's `account`, and so on. Each named field may appear at most once.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Collection

from starlette.requests import Request

from authgate.core.errors import InvalidRequestError
from authgate.web.forms import FORM_TYPE, read_body
from authgate.web.state import AppState


async def read_fields(request: Request[AppState], names: Collection[str]) -> dict[str, str]:
    """The named fields of a urlencoded form body; empty values are dropped."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise InvalidRequestError(f"Content-Type must be {FORM_TYPE}")
    body = await read_body(request)
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=50,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError("the form is not valid UTF-8 form data") from None
    fields: dict[str, str] = {}
    seen: set[str] = set()
    limit = request.state["settings"].max_param_length
    for name, value in pairs:
        if name not in names:
            continue
        if name in seen:
            raise InvalidRequestError(f"field {name} is repeated")
        if len(value) > limit:
            raise InvalidRequestError(f"field {name} is too long")
        seen.add(name)
        if value:
            fields[name] = value
    return fields
