"""A device client of the OAuth 2.0 Device Authorization Grant (RFC 8628): what
`authgate device-login` runs, as a TV or a command-line tool would.

It speaks only the protocol (OpenID Connect Discovery 1.0 / RFC 8414 metadata, RFC 8628
§3.1–§3.5 and RFC 6749 client authentication), so it works against any authorization server
that has a device authorization endpoint, not only authgate. It imports nothing else from
authgate.
"""

from __future__ import annotations

import base64
import ipaddress
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx2
import segno

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5  # RFC 8628 §3.2: "If no value is provided, clients MUST use 5"
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5: "the interval MUST be increased by 5 seconds"
MAX_BACKOFF = 60


class DeviceLoginError(Exception):
    """The flow cannot go on; the message is one line for the person at the terminal."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    issuer: str
    device_authorization_endpoint: str
    token_endpoint: str
    auth_methods: tuple[str, ...] = ("client_secret_basic",)  # RFC 8414 §2 default


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """RFC 8628 §3.2: what the device shows and polls with."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """https, or http on a loopback host (a server on this machine)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname or "")):
        return url
    raise DeviceLoginError(f"{what} must be an https URL (or http on this machine): {url}")


def metadata_urls(issuer: str) -> list[str]:
    """OpenID Connect Discovery 1.0 §4 (path appended), then RFC 8414 §3.1 (well-known
    path inserted before the issuer's path).
    """
    parts = urllib.parse.urlsplit(issuer.rstrip("/"))
    origin = f"{parts.scheme}://{parts.netloc}"
    return [
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        f"{origin}/.well-known/oauth-authorization-server{parts.path}",
    ]


def _int(value: object, default: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if default is not None and value is None:
        return default
    raise DeviceLoginError(f"the server sent an invalid number: {value!r}")


class DeviceClient:
    """One client (client_id and, for a confidential client, its secret) of one server."""

    def __init__(
        self,
        http: httpx2.Client,
        client_id: str,
        client_secret: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.client_id = client_id
        self.client_secret = client_secret
        self.sleep = sleep
        self.clock = clock

    def discover(self, issuer: str) -> Endpoints:
        """The server's endpoints from its metadata; the metadata must name `issuer`
        (RFC 8414 §3.3, OpenID Connect Discovery §4.3).
        """
        check_url(issuer, "the issuer")
        for url in metadata_urls(issuer):
            try:
                response = self.http.get(url, headers={"Accept": "application/json"})
            except httpx2.HTTPError as exc:
                raise DeviceLoginError(f"cannot reach {url}: {exc}") from None
            if response.status_code == 200:
                return self._endpoints(issuer, self._json(response))
        raise DeviceLoginError(f"no authorization server metadata found for {issuer}")

    def _endpoints(self, issuer: str, md: Mapping[str, Any]) -> Endpoints:
        if str(md.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
            raise DeviceLoginError(f"the metadata names another issuer: {md.get('issuer')!r}")
        device = md.get("device_authorization_endpoint")
        token = md.get("token_endpoint")
        if not isinstance(device, str) or not isinstance(token, str):
            raise DeviceLoginError("the server has no device authorization endpoint (RFC 8628)")
        methods = md.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return Endpoints(
            issuer=issuer,
            device_authorization_endpoint=check_url(device, "device_authorization_endpoint"),
            token_endpoint=check_url(token, "token_endpoint"),
            auth_methods=tuple(str(m) for m in methods),
        )

    def _json(self, response: httpx2.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise DeviceLoginError(f"{response.url} answered {response.status_code}, not JSON")
        return body

    def _post(self, endpoints: Endpoints, url: str, data: dict[str, str]) -> httpx2.Response:
        """RFC 6749 §2.3.1: a secret goes in HTTP Basic (form-urlencoded first) unless the
        server supports only client_secret_post; a public client sends its client_id.
        """
        headers = {"Accept": "application/json"}
        if self.client_secret is None:
            data = {**data, "client_id": self.client_id}
        elif "client_secret_basic" in endpoints.auth_methods:
            pair = f"{_form(self.client_id)}:{_form(self.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            data = {**data, "client_id": self.client_id, "client_secret": self.client_secret}
        return self.http.post(url, data=data, headers=headers)

    def authorize(self, endpoints: Endpoints, scope: str | None) -> DeviceAuthorization:
        """RFC 8628 §3.1–§3.2: ask for a device code and a user code."""
        data = {"scope": scope} if scope else {}
        try:
            response = self._post(endpoints, endpoints.device_authorization_endpoint, data)
        except httpx2.HTTPError as exc:
            raise DeviceLoginError(f"device authorization request failed: {exc}") from None
        body = self._json(response)
        if response.status_code != 200:
            raise DeviceLoginError(_describe("device authorization", body))
        # Some servers say verification_url (the name of a draft); accept it too.
        uri = body.get("verification_uri") or body.get("verification_url")
        code, user_code = body.get("device_code"), body.get("user_code")
        if not (isinstance(code, str) and isinstance(user_code, str) and isinstance(uri, str)):
            raise DeviceLoginError("the device authorization response lacks a required member")
        complete = body.get("verification_uri_complete")
        return DeviceAuthorization(
            device_code=code,
            user_code=user_code,
            verification_uri=uri,
            verification_uri_complete=complete if isinstance(complete, str) else None,
            expires_in=_int(body.get("expires_in")),
            interval=_int(body.get("interval"), DEFAULT_INTERVAL),
        )

    def poll(self, endpoints: Endpoints, device: DeviceAuthorization) -> dict[str, Any]:
        """RFC 8628 §3.4–§3.5: poll until the token response, honouring `interval`, adding
        5 s on slow_down and backing off on network errors; raises on access_denied,
        expired_token, any other error, or when the code's lifetime is over.
        """
        interval = float(device.interval)
        deadline = self.clock() + device.expires_in
        data = {"grant_type": GRANT_TYPE, "device_code": device.device_code}
        while True:
            self.sleep(interval)
            if self.clock() > deadline:
                raise DeviceLoginError("the code expired before it was approved; start again")
            try:
                response = self._post(endpoints, endpoints.token_endpoint, data)
            except httpx2.TransportError:
                interval = min(interval * 2, MAX_BACKOFF)  # §3.5: exponential backoff
                continue
            if response.status_code >= 500 or response.status_code == 429:
                interval = min(interval * 2, MAX_BACKOFF)
                continue
            body = self._json(response)
            if response.status_code == 200:
                return _tokens(body)
            error = body.get("error")
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if error == "access_denied":
                raise DeviceLoginError("the request was denied on the verification page")
            if error == "expired_token":
                raise DeviceLoginError("the code expired before it was approved; start again")
            raise DeviceLoginError(_describe("token request", body))


def _form(value: str) -> str:
    return urllib.parse.quote_plus(value)


def _describe(what: str, body: Mapping[str, Any]) -> str:
    error = body.get("error", "an unknown error")
    detail = body.get("error_description")
    return f"{what} failed: {error}" + (f" ({detail})" if detail else "")


def _tokens(body: dict[str, Any]) -> dict[str, Any]:
    """RFC 6749 §5.1: a token response has at least access_token and token_type."""
    if not isinstance(body.get("access_token"), str) or not isinstance(body.get("token_type"), str):
        raise DeviceLoginError("the token response lacks access_token or token_type")
    return body


def show_code(device: DeviceAuthorization, out: TextIO, *, qr: bool = True) -> None:
    """RFC 8628 §3.3: the code and the URL to show the person, and (§3.3.1) the complete
    URI as a QR code drawn with text characters.
    """
    complete = device.verification_uri_complete
    minutes = max(1, device.expires_in // 60)
    out.write(f"To sign in, open {device.verification_uri}\nand enter the code:\n\n")
    out.write(f"    {device.user_code}\n\n")
    if qr:
        out.write("or scan this QR code with your phone:\n")
        code = segno.make(complete or device.verification_uri, error="m")
        # Half blocks draw two rows per line; a terminal without them gets ANSI colours.
        code.terminal(out=out, compact=_can_write(out, "█▀▄"), border=2)
    if complete:
        out.write(f"(direct link: {complete})\n")
    out.write(f"Waiting for approval (the code expires in {minutes} min)...\n")
    out.flush()


def _can_write(out: TextIO, text: str) -> bool:
    encoding = getattr(out, "encoding", None)
    if encoding is None:  # an in-memory text stream
        return True
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True
