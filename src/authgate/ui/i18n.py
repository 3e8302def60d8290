"""Page language: `ui_locales` (OIDC Core §3.1.2.1) first, then Accept-Language (RFC 9110
§12.5.4), else English. Messages live in one JSON catalog per locale (ui/locales/*.json);
a key missing from a catalog falls back to English, then to the key itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources

LOCALES = ("en", "it", "zh-CN")
DEFAULT = "en"
# Tags that mean one of our locales (lower case).
_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-sg": "zh-CN"}


def match(tag: str) -> str | None:
    """The locale a BCP 47 tag asks for, if authgate has it."""
    tag = tag.strip().lower().replace("_", "-")
    if not tag:
        return None
    for locale in LOCALES:
        if tag == locale.lower():
            return locale
    if tag in _ALIASES:
        return _ALIASES[tag]
    if tag.startswith("zh-hans") or tag.startswith("zh-cn"):
        return "zh-CN"
    primary = tag.split("-")[0]
    return primary if primary in LOCALES else None


def _accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            weighted.append((-q, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(ui_locales: Iterable[str] = (), accept_language: str | None = None) -> str:
    """The first supported locale of `ui_locales`, then of Accept-Language."""
    for tag in [*ui_locales, *_accept_language(accept_language or "")]:
        locale = match(tag)
        if locale is not None:
            return locale
    return DEFAULT


@functools.cache
def catalog(locale: str) -> Mapping[str, str]:
    text = resources.files("authgate.ui").joinpath("locales", f"{locale}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


class Translator:
    """gettext-style lookup for one locale, usable from templates as `_()`."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._messages = catalog(locale)
        self._fallback = catalog(DEFAULT)

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages.get(key) or self._fallback.get(key) or key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._fallback
