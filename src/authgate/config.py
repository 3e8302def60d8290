"""Settings: defaults, then a TOML file (AUTHGATE_CONFIG), then AUTHGATE_* environment
variables (INTERFACE.md "Configuration"). `load()` validates everything at start and raises
ConfigError with one line per bad value, each naming the setting.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import os
import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authgate.core import authorization_details
from authgate.core.authorization_details import DetailsType
from authgate.core.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./authgate.db"


@dataclass(frozen=True, slots=True)
class AuthorizationDetailsType:
    """An RFC 9396 type declared in the TOML file: its JSON Schema (a JSON string) and the
    fields a token request may lower instead of repeating exactly (issue 7, §6.1). The
    schema is compiled here, once, when the settings are built; a bad one is a ConfigError.
    """

    name: str
    schema: str
    may_lower: tuple[str, ...] = ()
    compiled: DetailsType = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = authorization_details.compile_type(self.name, self.schema, self.may_lower)
        object.__setattr__(self, "compiled", compiled)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting authgate reads. Frozen: built once at start by `load()`."""

    issuer: str = "http://127.0.0.1:8000"
    database_url: str = DEFAULT_DATABASE_URL
    access_token_ttl: int = 3600
    access_token_format: str = "opaque"
    refresh_token_ttl: int = 1_209_600
    refresh_token_idle_ttl: int = 0
    refresh_token_reuse_grace: int = 0
    authorization_code_ttl: int = 60
    id_token_ttl: int = 3600
    device_code_ttl: int = 600
    device_poll_interval: int = 5
    session_ttl: int = 86_400
    interaction_ttl: int = 900
    admin_token: str | None = field(default=None, repr=False)
    key_cache_ttl: int = 10
    sqlite_synchronous: str = "NORMAL"
    database_pool_size: int = 10
    database_timeout: float = 10.0
    max_body_bytes: int = 65_536
    max_param_length: int = 8192
    login_max_failures: int = 10  # failed logins per account per window (SEC-43)
    login_ip_max_failures: int = 100  # failed logins per client IP per window
    login_failure_window: int = 900  # seconds
    user_code_max_failures: int = 5
    user_code_failure_window: int = 600
    user_code_global_max_failures: int = 1000
    trust_forwarded_headers: bool = False
    templates_dir: str | None = None
    product_name: str = "authgate"
    logo_uri: str | None = None
    primary_color: str = "#2457c5"
    footer_link: str | None = None
    footer_text: str | None = None
    authorization_details_types: tuple[AuthorizationDetailsType, ...] = ()
    # operations (issue 8): logs, metrics, janitor, token endpoint rate limit
    log_format: str = "json"
    log_level: str = "info"
    access_log: bool = True
    metrics_token: str | None = field(default=None, repr=False)
    janitor_interval: int = 300
    janitor_batch_size: int = 1000
    janitor_retention: int = 3600
    token_rate_limit_per_minute: int = 0

    @property
    def details_types(self) -> dict[str, DetailsType]:
        """The declared authorization details types by name, compiled (RFC 9396)."""
        return {t.name: t.compiled for t in self.authorization_details_types}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def issuer_is_loopback(self) -> bool:
        return is_loopback_host(urllib.parse.urlsplit(self.issuer).hostname or "")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (tests and per-feature configuration)."""
        return validate(dataclasses.replace(self, **changes))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_ENV_ONLY = {"AUTHGATE_CONFIG"}
_NOT_FROM_ENV = {"authorization_details_types"}


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback IP literal (RFC 8252 §7.3, RFC 9700 §2.6)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults → TOML file → environment; raises ConfigError listing every bad value."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    errors: list[str] = []
    path = env.get("AUTHGATE_CONFIG")
    if path:
        _read_toml(path, values, errors)
    for name, raw in env.items():
        if not name.startswith("AUTHGATE_") or name in _ENV_ONLY:
            continue
        key = name.removeprefix("AUTHGATE_").lower()
        if key in _FIELDS and key not in _NOT_FROM_ENV:
            values[key] = raw
    settings = _build(values, errors)
    if errors:
        raise ConfigError("; ".join(errors))
    return settings


def validate(settings: Settings) -> Settings:
    """Check the cross-field rules of an already typed Settings; raises ConfigError."""
    errors: list[str] = []
    _check(settings, errors)
    if errors:
        raise ConfigError("; ".join(errors))
    return settings


def _read_toml(path: str, values: dict[str, object], errors: list[str]) -> None:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        errors.append(f"AUTHGATE_CONFIG: cannot read {path}: {exc.strerror}")
        return
    except tomllib.TOMLDecodeError as exc:
        errors.append(f"AUTHGATE_CONFIG: {path} is not valid TOML: {exc}")
        return
    for key, value in data.items():
        if key not in _FIELDS:
            errors.append(f"{key}: unknown setting in {path}")
        else:
            values[key] = value


def _build(values: Mapping[str, object], errors: list[str]) -> Settings:
    kwargs: dict[str, Any] = {}
    for key, raw in values.items():
        try:
            kwargs[key] = _coerce(key, raw)
        except ValueError as exc:
            errors.append(f"{_label(key)}: {exc}")
    if "database_url" in kwargs:
        try:
            kwargs["database_url"] = normalise_database_url(kwargs["database_url"])
        except ValueError as exc:
            errors.append(f"{_label('database_url')}: {exc}")
            del kwargs["database_url"]
    settings = Settings(**kwargs)
    _check(settings, errors)
    return settings


def _label(key: str) -> str:
    return f"AUTHGATE_{key.upper()} ({key})"


def _coerce(key: str, raw: object) -> object:
    default: object = _FIELDS[key].default
    if key == "authorization_details_types":
        return _details_types(raw)
    kind = type(default)
    if key in {
        "admin_token",
        "metrics_token",
        "templates_dir",
        "logo_uri",
        "footer_link",
        "footer_text",
    }:
        if not isinstance(raw, str):
            raise ValueError("must be a string")
        return raw or None
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        }:
            return raw.lower() in {"1", "true", "yes", "on"}
        raise ValueError("must be true or false")
    if kind is int:
        if isinstance(raw, bool):
            raise ValueError("must be a whole number")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw)
        raise ValueError(f"must be a whole number, got {raw!r}")
    if kind is float:
        try:
            return float(str(raw))
        except ValueError:
            raise ValueError(f"must be a number, got {raw!r}") from None
    if not isinstance(raw, str):
        raise ValueError("must be a string")
    return raw


def _details_types(raw: object) -> tuple[AuthorizationDetailsType, ...]:
    if not isinstance(raw, dict):
        raise ValueError("must be a table of types, each with a `schema`")
    types = []
    for name, spec in raw.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), str):
            raise ValueError(f"type {name!r} needs a `schema` string holding a JSON Schema")
        unknown = set(spec) - {"schema", "may_lower"}
        if unknown:
            raise ValueError(f"type {name!r} has unknown keys {sorted(unknown)}")
        try:
            schema = json.loads(spec["schema"])
        except json.JSONDecodeError as exc:
            raise ValueError(f"type {name!r}: schema is not JSON ({exc.msg})") from None
        if not isinstance(schema, dict):
            raise ValueError(f"type {name!r}: schema must be a JSON object")
        may_lower = spec.get("may_lower", [])
        if not isinstance(may_lower, list) or not all(isinstance(x, str) for x in may_lower):
            raise ValueError(f"type {name!r}: may_lower must be a list of field names")
        try:
            declared = AuthorizationDetailsType(
                name=name, schema=json.dumps(schema, sort_keys=True), may_lower=tuple(may_lower)
            )
        except ConfigError as exc:  # the schema is not a valid JSON Schema (one line)
            raise ValueError(str(exc)) from None
        types.append(declared)
    return tuple(types)


def normalise_database_url(url: str) -> str:
    """Accept plain `sqlite:`/`postgresql:` URLs and pick the async driver."""
    scheme, sep, rest = url.partition("://")
    if not sep or not rest:
        raise ValueError(f"not a database URL: {url!r}")
    if scheme in {"sqlite", "sqlite+aiosqlite"}:
        if not rest.startswith("/"):
            raise ValueError(f"a SQLite URL looks like sqlite:///path/to/file.db, got {url!r}")
        return f"sqlite+aiosqlite://{rest}"
    if scheme in {"postgresql", "postgres", "postgresql+asyncpg"}:
        host = urllib.parse.urlsplit(f"x://{rest}").hostname
        if not host and "host=" not in rest:
            raise ValueError(f"a PostgreSQL URL needs a host, got {url!r}")
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database {scheme!r} (use sqlite:/// or postgresql+asyncpg://)")


def _check(s: Settings, errors: list[str]) -> None:
    parts = urllib.parse.urlsplit(s.issuer)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        errors.append(f"{_label('issuer')}: must be an absolute http(s) URL, got {s.issuer!r}")
    elif parts.query or parts.fragment:
        errors.append(f"{_label('issuer')}: must not have a query or fragment (RFC 8414 §2)")
    elif parts.scheme == "http" and not is_loopback_host(parts.hostname):
        errors.append(
            f"{_label('issuer')}: must use https unless the host is loopback, got {s.issuer!r}"
        )
    elif s.issuer.endswith("/"):
        errors.append(f"{_label('issuer')}: must not end with '/'")
    if s.access_token_format not in {"opaque", "jwt"}:
        errors.append(f"{_label('access_token_format')}: must be opaque or jwt")
    if s.sqlite_synchronous.upper() not in {"NORMAL", "FULL", "EXTRA"}:
        errors.append(f"{_label('sqlite_synchronous')}: must be NORMAL, FULL or EXTRA")
    positive = (
        "access_token_ttl",
        "refresh_token_ttl",
        "authorization_code_ttl",
        "id_token_ttl",
        "device_code_ttl",
        "device_poll_interval",
        "session_ttl",
        "interaction_ttl",
        "database_pool_size",
        "max_body_bytes",
        "max_param_length",
        "login_max_failures",
        "login_ip_max_failures",
        "login_failure_window",
        "user_code_max_failures",
        "user_code_failure_window",
        "user_code_global_max_failures",
        "janitor_batch_size",
    )
    for key in positive:
        if getattr(s, key) <= 0:
            errors.append(f"{_label(key)}: must be greater than 0")
    for key in (
        "refresh_token_idle_ttl",
        "refresh_token_reuse_grace",
        "key_cache_ttl",
        "janitor_interval",
        "janitor_retention",
        "token_rate_limit_per_minute",
    ):
        if getattr(s, key) < 0:
            errors.append(f"{_label(key)}: must not be negative")
    if not 0 < s.database_timeout < math.inf:  # also refuses nan
        errors.append(f"{_label('database_timeout')}: must be a finite number greater than 0")
    if s.admin_token is not None and len(s.admin_token) < 16:
        errors.append(f"{_label('admin_token')}: must be at least 16 characters")
    if s.metrics_token is not None and len(s.metrics_token) < 16:
        errors.append(f"{_label('metrics_token')}: must be at least 16 characters")
    if s.log_format not in {"json", "text"}:
        errors.append(f"{_label('log_format')}: must be json or text")
    if s.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        errors.append(f"{_label('log_level')}: must be debug, info, warning or error")
    if s.templates_dir is not None and not os.path.isdir(s.templates_dir):
        errors.append(f"{_label('templates_dir')}: {s.templates_dir!r} is not a directory")
    if re.fullmatch(r"#[0-9a-fA-F]{6}", s.primary_color) is None:
        errors.append(f"{_label('primary_color')}: must be a hex colour such as #2457c5")
    if s.logo_uri is not None and not _page_image(s.logo_uri):
        errors.append(
            f"{_label('logo_uri')}: must be an https URL, a path on this server (/...) "
            "or a data:image/ URI"
        )
    if s.footer_link is not None and not _page_link(s.footer_link):
        errors.append(f"{_label('footer_link')}: must be an http(s) URL or a path (/...)")


def _page_link(value: str) -> bool:
    """An absolute http(s) URL or a path on this server (never javascript:, never //host)."""
    if value.startswith("/"):
        return not value.startswith("//") and "\\" not in value
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _page_image(value: str) -> bool:
    """An https URL, a path on this server, or an inline data:image/ URI (raster or SVG)."""
    if value.startswith("data:"):
        data_image = r"data:image/(png|jpeg|gif|webp|svg\+xml)(;base64)?,.+"
        return re.fullmatch(data_image, value, re.S) is not None
    if value.startswith("/"):
        return _page_link(value)
    parts = urllib.parse.urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname)
