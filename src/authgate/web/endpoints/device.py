"""RFC 8628 over HTTP: the device authorization endpoint (§3.1) and QR codes of the
verification URI (§3.3.1) for devices that can show an image but not make one.
"""

from __future__ import annotations

import io
import urllib.parse
from datetime import UTC, datetime

import segno
from starlette.requests import Request
from starlette.responses import Response

from authgate.core.device import format_user_code, normalise_user_code
from authgate.core.errors import InvalidRequestError
from authgate.flows import device as device_flow
from authgate.web.client_auth import client_credentials
from authgate.web.forms import read_form, read_query
from authgate.web.responses import no_store_json
from authgate.web.state import AppState


async def device_authorization(request: Request[AppState]) -> Response:
    form = await read_form(request)
    creds = client_credentials(request, form)
    result = await device_flow.authorize_device(
        request.state["ctx"],
        creds,
        form,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        now=datetime.now(UTC),
    )
    return no_store_json(result.body())


async def qr(request: Request[AppState]) -> Response:
    """`/device/qr?user_code=…[&format=png]`: verification_uri_complete as a QR code. Nothing
    is looked up: the image says only what the caller already knows.
    """
    query = read_query(request)
    code = normalise_user_code(query.get("user_code") or "")
    if code is None:
        raise InvalidRequestError("user_code must be a user code such as BCDF-GHJK")
    kind = request.query_params.get("format") or "svg"
    if kind not in ("svg", "png"):
        raise InvalidRequestError("format must be svg or png")
    issuer = request.state["settings"].issuer
    target = f"{device_flow.verification_uri(issuer)}?" + urllib.parse.urlencode(
        {"user_code": format_user_code(code)}
    )
    image = segno.make(target, error="m")
    buffer = io.BytesIO()
    if kind == "png":
        image.save(buffer, kind="png", scale=8, border=2)
        media_type = "image/png"
    else:
        image.save(buffer, kind="svg", scale=8, border=2, xmldecl=False, svgclass=None, title="QR")
        media_type = "image/svg+xml"
    return Response(
        buffer.getvalue(), media_type=media_type, headers={"Cache-Control": "public, max-age=600"}
    )
