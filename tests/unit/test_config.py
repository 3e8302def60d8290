"""config.py: defaults → TOML → environment, and the one-line errors of load() (INTERFACE.md
"Configuration", SECURITY.md SEC-100).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from authgate.config import (
    DEFAULT_DATABASE_URL,
    AuthorizationDetailsType,
    Settings,
    is_loopback_host,
    load,
    normalise_database_url,
    validate,
)
from authgate.core.errors import ConfigError

ENV_NAMES = {f"AUTHGATE_{f.name.upper()}" for f in dataclasses.fields(Settings)}
SCHEMA = '{"type": "object", "required": ["instructedAmount"]}'


def toml(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "authgate.toml"
    path.write_text(text, encoding="utf-8")
    return {"AUTHGATE_CONFIG": str(path)}


def error_of(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(environ)
    message = str(caught.value)
    assert "\n" not in message
    return message


# Defaults and precedence


def test_defaults_match_the_interface() -> None:
    s = load({})
    assert s == Settings()
    assert s.issuer == "http://127.0.0.1:8000"
    assert s.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./authgate.db"
    assert s.access_token_ttl == 3600
    assert s.access_token_format == "opaque"
    assert s.refresh_token_ttl == 1_209_600
    assert s.device_code_ttl == 600
    assert s.device_poll_interval == 5
    assert s.admin_token is None
    assert s.authorization_details_types == ()
    assert s.is_sqlite
    assert s.issuer_is_loopback


def test_toml_overrides_defaults(tmp_path: Path) -> None:
    env = toml(tmp_path, 'issuer = "https://id.example.com"\naccess_token_ttl = 120\n')
    s = load(env)
    assert s.issuer == "https://id.example.com"
    assert s.access_token_ttl == 120
    assert not s.issuer_is_loopback


def test_environment_overrides_toml(tmp_path: Path) -> None:
    env = toml(tmp_path, "access_token_ttl = 120\ndevice_poll_interval = 7\n")
    env["AUTHGATE_ACCESS_TOKEN_TTL"] = "300"
    s = load(env)
    assert s.access_token_ttl == 300
    assert s.device_poll_interval == 7


def test_load_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("AUTHGATE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AUTHGATE_DEVICE_CODE_TTL", "900")
    assert load().device_code_ttl == 900


def test_other_environment_variables_are_ignored() -> None:
    env = {
        "HOME": "/root",
        "AUTHGATE_TEST_POSTGRES_URL": "postgresql://x",
        "AUTHGATE_AUTHORIZATION_DETAILS_TYPES": "payment",
        "AUTHGATE_CONFIG": "",
    }
    assert load(env) == Settings()


def test_environment_values_are_coerced() -> None:
    s = load(
        {
            "AUTHGATE_TRUST_FORWARDED_HEADERS": "yes",
            "AUTHGATE_DATABASE_TIMEOUT": "2.5",
            "AUTHGATE_ADMIN_TOKEN": "a" * 16,
            "AUTHGATE_ACCESS_TOKEN_FORMAT": "jwt",
            "AUTHGATE_KEY_CACHE_TTL": " 0 ",
            "AUTHGATE_LOGO_URI": "",
        }
    )
    assert s.trust_forwarded_headers is True
    assert s.database_timeout == 2.5
    assert s.admin_token == "a" * 16
    assert s.access_token_format == "jwt"
    assert s.key_cache_ttl == 0
    assert s.logo_uri is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", True), ("TRUE", True), ("on", True), ("0", False), ("No", False), ("off", False)],
)
def test_booleans_from_the_environment(raw: str, value: bool) -> None:
    assert load({"AUTHGATE_TRUST_FORWARDED_HEADERS": raw}).trust_forwarded_headers is value


def test_typed_toml_values(tmp_path: Path) -> None:
    env = toml(
        tmp_path,
        "trust_forwarded_headers = true\ndatabase_timeout = 3\nfooter_text = 'Hi'\n",
    )
    s = load(env)
    assert s.trust_forwarded_headers is True
    assert s.database_timeout == 3.0
    assert s.footer_text == "Hi"


def test_admin_token_is_not_in_the_repr() -> None:
    assert "s3cret-admin-token" not in repr(Settings(admin_token="s3cret-admin-token"))


# Errors: one line, naming the setting


@pytest.mark.spec("SEC-100")
@pytest.mark.parametrize(
    "issuer", ["http://example.test", "http://10.0.0.1:8000", "http://127.0.0.1.example.test"]
)
def test_http_issuer_off_loopback_is_refused(issuer: str) -> None:
    message = error_of({"AUTHGATE_ISSUER": issuer})
    assert message.startswith(
        "AUTHGATE_ISSUER (issuer): must use https unless the host is loopback"
    )


@pytest.mark.spec("SEC-100")
@pytest.mark.parametrize(
    "issuer",
    [
        "http://localhost:8000",
        "http://127.0.0.1",
        "http://127.1.2.3:9000",
        "http://[::1]:8000",
        "https://id.example.com",
        "https://id.example.com/tenant",
    ],
)
def test_acceptable_issuers(issuer: str) -> None:
    assert load({"AUTHGATE_ISSUER": issuer}).issuer == issuer


@pytest.mark.spec("RFC 8414 §2")
@pytest.mark.parametrize(
    ("issuer", "reason"),
    [
        ("ftp://id.example.com", "absolute http(s) URL"),
        ("https://", "absolute http(s) URL"),
        ("id.example.com", "absolute http(s) URL"),
        ("https://id.example.com?x=1", "query or fragment"),
        ("https://id.example.com#f", "query or fragment"),
        ("https://id.example.com/", "must not end with '/'"),
    ],
)
def test_malformed_issuer_is_refused(issuer: str, reason: str) -> None:
    message = error_of({"AUTHGATE_ISSUER": issuer})
    assert message.startswith("AUTHGATE_ISSUER (issuer): ")
    assert reason in message


def test_unreadable_toml_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    message = error_of({"AUTHGATE_CONFIG": str(missing)})
    assert message == f"AUTHGATE_CONFIG: cannot read {missing}: No such file or directory"
    message = error_of({"AUTHGATE_CONFIG": str(tmp_path)})
    assert message.startswith("AUTHGATE_CONFIG: cannot read")


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    env = toml(tmp_path, "issuer = \n[oops\n")
    message = error_of(env)
    assert message.startswith(f"AUTHGATE_CONFIG: {env['AUTHGATE_CONFIG']} is not valid TOML: ")


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    env = toml(tmp_path, "acess_token_ttl = 5\n")
    assert error_of(env) == f"acess_token_ttl: unknown setting in {env['AUTHGATE_CONFIG']}"


@pytest.mark.parametrize(
    "url", ["nonsense", "sqlite://", "sqlite://relative.db", "postgresql:///db", "mysql://h/db"]
)
def test_malformed_database_url_is_refused(url: str) -> None:
    message = error_of({"AUTHGATE_DATABASE_URL": url})
    assert message.startswith("AUTHGATE_DATABASE_URL (database_url): ")


@pytest.mark.parametrize("raw", ["abc", "1.5", "", "1e3", "--5"])
def test_non_integer_ttl_is_refused(raw: str) -> None:
    message = error_of({"AUTHGATE_ACCESS_TOKEN_TTL": raw})
    assert message.startswith("AUTHGATE_ACCESS_TOKEN_TTL (access_token_ttl): ")


def test_non_integer_ttl_names_the_value() -> None:
    message = error_of({"AUTHGATE_ACCESS_TOKEN_TTL": "1h"})
    assert (
        message == "AUTHGATE_ACCESS_TOKEN_TTL (access_token_ttl): must be a whole number, got '1h'"
    )


@pytest.mark.parametrize("value", ["true", "1.5", '"sixty"'])
def test_toml_ttl_must_be_an_integer(tmp_path: Path, value: str) -> None:
    message = error_of(toml(tmp_path, f"access_token_ttl = {value}\n"))
    assert message.startswith(
        "AUTHGATE_ACCESS_TOKEN_TTL (access_token_ttl): must be a whole number"
    )


@pytest.mark.parametrize(
    "key",
    [
        "access_token_ttl",
        "refresh_token_ttl",
        "authorization_code_ttl",
        "device_code_ttl",
        "device_poll_interval",
        "max_param_length",
        "login_max_failures",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_ttls_and_limits_must_be_positive(key: str, value: str) -> None:
    message = error_of({f"AUTHGATE_{key.upper()}": value})
    assert message == f"AUTHGATE_{key.upper()} ({key}): must be greater than 0"


@pytest.mark.parametrize("key", ["refresh_token_idle_ttl", "refresh_token_reuse_grace"])
def test_optional_durations_must_not_be_negative(key: str) -> None:
    assert load({f"AUTHGATE_{key.upper()}": "0"}) == Settings()
    message = error_of({f"AUTHGATE_{key.upper()}": "-1"})
    assert message == f"AUTHGATE_{key.upper()} ({key}): must not be negative"


@pytest.mark.parametrize("raw", ["0", "-2.5", "nan", "inf", "soon"])
def test_database_timeout_must_be_a_positive_number(raw: str) -> None:
    # Regression: nan and inf passed the `<= 0` check.
    message = error_of({"AUTHGATE_DATABASE_TIMEOUT": raw})
    assert message.startswith("AUTHGATE_DATABASE_TIMEOUT (database_timeout): ")


@pytest.mark.parametrize("raw", ["maybe", "2", ""])
def test_boolean_must_be_true_or_false(raw: str) -> None:
    message = error_of({"AUTHGATE_TRUST_FORWARDED_HEADERS": raw})
    assert (
        message
        == "AUTHGATE_TRUST_FORWARDED_HEADERS (trust_forwarded_headers): must be true or false"
    )


def test_toml_digit_string_is_read_as_the_environment_would_be(tmp_path: Path) -> None:
    assert load(toml(tmp_path, 'access_token_ttl = "60"\n')).access_token_ttl == 60


def test_toml_boolean_must_be_a_boolean(tmp_path: Path) -> None:
    assert "must be true or false" in error_of(toml(tmp_path, "trust_forwarded_headers = 1\n"))


@pytest.mark.parametrize(
    "line", ["issuer = 5", "admin_token = 12345678901234567", "access_token_format = ['jwt']"]
)
def test_toml_strings_must_be_strings(tmp_path: Path, line: str) -> None:
    assert error_of(toml(tmp_path, line + "\n")).endswith("must be a string")


def test_access_token_format() -> None:
    message = error_of({"AUTHGATE_ACCESS_TOKEN_FORMAT": "paseto"})
    assert message == "AUTHGATE_ACCESS_TOKEN_FORMAT (access_token_format): must be opaque or jwt"


def test_sqlite_synchronous() -> None:
    assert load({"AUTHGATE_SQLITE_SYNCHRONOUS": "full"}).sqlite_synchronous == "full"
    message = error_of({"AUTHGATE_SQLITE_SYNCHRONOUS": "OFF"})
    assert message.startswith("AUTHGATE_SQLITE_SYNCHRONOUS (sqlite_synchronous): ")


def test_admin_token_must_be_long() -> None:
    message = error_of({"AUTHGATE_ADMIN_TOKEN": "short"})
    assert message == "AUTHGATE_ADMIN_TOKEN (admin_token): must be at least 16 characters"


def test_templates_dir_must_exist(tmp_path: Path) -> None:
    assert load({"AUTHGATE_TEMPLATES_DIR": str(tmp_path)}).templates_dir == str(tmp_path)
    missing = tmp_path / "nope"
    message = error_of({"AUTHGATE_TEMPLATES_DIR": str(missing)})
    assert message == f"AUTHGATE_TEMPLATES_DIR (templates_dir): {str(missing)!r} is not a directory"
    # Regression: the path was echoed as is, so a newline in it broke the one-line error.
    assert error_of({"AUTHGATE_TEMPLATES_DIR": "/no\nwhere"}).endswith(
        "'/no\\nwhere' is not a directory"
    )


@given(st.dictionaries(st.sampled_from(sorted(ENV_NAMES)), st.text(max_size=12), max_size=4))
def test_any_environment_loads_or_fails_with_one_line(env: dict[str, str]) -> None:
    try:
        load(env)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message
        assert message.split(" ")[0] in env  # names the setting


def test_every_bad_value_is_reported_at_once(tmp_path: Path) -> None:
    env = toml(tmp_path, "bogus = 1\n")
    env |= {
        "AUTHGATE_ISSUER": "http://example.test",
        "AUTHGATE_ACCESS_TOKEN_TTL": "x",
        "AUTHGATE_DATABASE_URL": "mysql://h/db",
        "AUTHGATE_DEVICE_POLL_INTERVAL": "-1",
    }
    parts = error_of(env).split("; ")
    assert [p.split(":")[0] for p in parts] == [
        "bogus",
        "AUTHGATE_ACCESS_TOKEN_TTL (access_token_ttl)",
        "AUTHGATE_DATABASE_URL (database_url)",
        "AUTHGATE_ISSUER (issuer)",
        "AUTHGATE_DEVICE_POLL_INTERVAL (device_poll_interval)",
    ]


# Database URL normalisation


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("sqlite:///./authgate.db", "sqlite+aiosqlite:///./authgate.db"),
        ("sqlite:////var/lib/authgate.db", "sqlite+aiosqlite:////var/lib/authgate.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://u:p@db:5432/ag", "postgresql+asyncpg://u:p@db:5432/ag"),
        ("postgres://u@db/ag", "postgresql+asyncpg://u@db/ag"),
        ("postgresql+asyncpg://u@127.0.0.1/ag", "postgresql+asyncpg://u@127.0.0.1/ag"),
        ("postgresql:///ag?host=/run/postgresql", "postgresql+asyncpg:///ag?host=/run/postgresql"),
    ],
)
def test_database_url_normalisation(url: str, normal: str) -> None:
    assert normalise_database_url(url) == normal
    s = load({"AUTHGATE_DATABASE_URL": url})
    assert s.database_url == normal
    assert s.is_sqlite is normal.startswith("sqlite")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("nonsense", "not a database URL"),
        ("sqlite://", "not a database URL"),
        ("sqlite://x.db", "sqlite:///path/to/file.db"),
        ("postgresql:///ag", "needs a host"),
        ("mysql://h/db", "unsupported database 'mysql' (use sqlite:///"),
    ],
)
def test_database_url_errors(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        normalise_database_url(url)


# Authorization details types (RFC 9396, INTERFACE.md)


def test_authorization_details_types(tmp_path: Path) -> None:
    env = toml(
        tmp_path,
        f"""
[authorization_details_types.payment_initiation]
schema = '''{SCHEMA}'''
may_lower = ["instructedAmount"]

[authorization_details_types.account_information]
schema = '{{"type": "object"}}'
""",
    )
    types = load(env).authorization_details_types
    assert types == (
        AuthorizationDetailsType(
            name="payment_initiation",
            schema=json.dumps(json.loads(SCHEMA), sort_keys=True),
            may_lower=("instructedAmount",),
        ),
        AuthorizationDetailsType(name="account_information", schema='{"type": "object"}'),
    )


@pytest.mark.spec("RFC 9396 §2")
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("authorization_details_types = 'payment'", "must be a table of types"),
        ("[authorization_details_types]\npayment = 1", "type 'payment' needs a `schema`"),
        ("[authorization_details_types.payment]\nmay_lower = []", "needs a `schema`"),
        ("[authorization_details_types.payment]\nschema = 1", "needs a `schema`"),
        (
            "[authorization_details_types.payment]\nschema = '{}'\nextra = 1",
            "unknown keys ['extra']",
        ),
        ("[authorization_details_types.payment]\nschema = '{'", "schema is not JSON"),
        ("[authorization_details_types.payment]\nschema = '[]'", "schema must be a JSON object"),
        (
            "[authorization_details_types.payment]\nschema = '{}'\nmay_lower = 'amount'",
            "may_lower must be a list",
        ),
        (
            "[authorization_details_types.payment]\nschema = '{}'\nmay_lower = [1]",
            "may_lower must be a list",
        ),
    ],
)
def test_authorization_details_type_errors(tmp_path: Path, body: str, reason: str) -> None:
    message = error_of(toml(tmp_path, body + "\n"))
    assert message.startswith(
        "AUTHGATE_AUTHORIZATION_DETAILS_TYPES (authorization_details_types): "
    )
    assert reason in message


# Settings.replace / validate and helpers


def test_replace_validates() -> None:
    s = Settings().replace(access_token_ttl=5, access_token_format="jwt")
    assert (s.access_token_ttl, s.access_token_format) == (5, "jwt")
    with pytest.raises(ConfigError, match="AUTHGATE_ISSUER"):
        Settings().replace(issuer="http://example.test")


def test_validate_returns_the_settings() -> None:
    s = Settings(issuer="https://id.example.com")
    assert validate(s) is s
    with pytest.raises(ConfigError, match="must be greater than 0"):
        validate(Settings(session_ttl=0))


@pytest.mark.spec("RFC 8252 §7.3")
@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("[::1]", True),
        ("", False),
        ("example.test", False),
        ("localhost.example.test", False),
        ("10.0.0.1", False),
        ("::", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
