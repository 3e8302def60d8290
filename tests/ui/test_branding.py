"""Branding without forking (issue 10): product name, logo, primary colour and footer link
from the configuration, validated; the colour reaches pages through /static/theme.css (no
inline style, so the CSP stays `style-src 'self'`); templates_dir overrides any template.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from authgate.config import Settings, load
from authgate.core.errors import ConfigError
from authgate.web.pages import theme_css
from tests.conftest import ISSUER
from tests.helpers import ASGIApp

LOGO = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="


@pytest.fixture
def settings(db: str, tmp_path: Path) -> Settings:
    (tmp_path / "error.html").write_text(
        '{% extends "base.html" %}{% block title %}Oops{% endblock %}'
        "{% block content %}<h1 data-custom>Custom: {{ error }}</h1>{% endblock %}",
        encoding="utf-8",
    )
    return Settings(
        issuer=ISSUER,
        database_url=db,
        product_name="Example ID",
        logo_uri="https://cdn.example.com/logo.png",
        primary_color="#FFD400",
        footer_link="https://example.com/help",
        footer_text="Help",
        templates_dir=str(tmp_path),
    )


async def test_branding_reaches_the_page(client: httpx2.AsyncClient) -> None:
    r = await client.get("/authorize", params={"client_id": "nope"})
    assert r.status_code == 400
    assert "<h1 data-custom>Custom: invalid_request</h1>" in r.text  # templates_dir wins
    assert "· Example ID</title>" in r.text and "<span>Example ID</span>" in r.text
    assert '<img class="product-logo" src="https://cdn.example.com/logo.png"' in r.text
    assert '<a href="https://example.com/help" rel="noreferrer noopener">Help</a>' in r.text
    csp = r.headers["content-security-policy"]
    assert "img-src 'self' data: https://cdn.example.com;" in csp
    assert "style-src 'self';" in csp and "style=" not in r.text
    href = r.text.split('href="/static/theme.css?v=')[1].split('"')[0]
    theme = await client.get("/static/theme.css", params={"v": href})
    assert theme.status_code == 200 and theme.headers["content-type"].startswith("text/css")
    assert "--accent: #ffd400;" in theme.text and "--on-accent: #111111;" in theme.text
    assert theme.headers["cache-control"] == "public, max-age=86400"
    again = await client.get("/static/theme.css", headers={"If-None-Match": theme.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_other_pages_keep_the_default_templates(app: ASGIApp) -> None:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url=ISSUER) as http:
        r = await http.get("/device")
    assert r.status_code == 200 and 'name="user_code"' in r.text


def test_text_on_the_accent_is_the_more_readable_one() -> None:
    assert "--on-accent: #ffffff;" in theme_css("#2457c5")
    assert "--on-accent: #111111;" in theme_css("#f0f0f0")


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PRIMARY_COLOR", "blue", "hex colour"),
        ("PRIMARY_COLOR", "#12345", "hex colour"),
        ("PRIMARY_COLOR", "#123456;}", "hex colour"),
        ("LOGO_URI", "http://example.com/logo.png", "https URL"),
        ("LOGO_URI", "javascript:alert(1)", "https URL"),
        ("LOGO_URI", "//evil.test/logo.png", "https URL"),
        ("LOGO_URI", "data:text/html,<b>x</b>", "https URL"),
        ("FOOTER_LINK", "javascript:alert(1)", "http(s) URL"),
        ("FOOTER_LINK", "//evil.test", "http(s) URL"),
        ("FOOTER_LINK", "/\\evil.test", "http(s) URL"),
        ("FOOTER_LINK", "ftp://example.com", "http(s) URL"),
    ],
)
def test_branding_values_are_validated(name: str, value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load({"AUTHGATE_ISSUER": ISSUER, f"AUTHGATE_{name}": value})
    assert name.lower() in str(caught.value) and reason in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PRIMARY_COLOR", "#A0b1C2"),
        ("LOGO_URI", "https://cdn.example.com/logo.svg"),
        ("LOGO_URI", "/brand/logo.png"),
        ("LOGO_URI", LOGO),
        ("FOOTER_LINK", "http://example.com/help"),
        ("FOOTER_LINK", "/help"),
    ],
)
def test_good_branding_values(name: str, value: str) -> None:
    s = load({"AUTHGATE_ISSUER": ISSUER, f"AUTHGATE_{name}": value})
    assert getattr(s, name.lower()) == value
