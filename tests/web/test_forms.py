"""web/forms.py: the form parser answers exactly as urllib.parse.parse_qsl with the limits
it was called with before (keep_blank_values, strict UTF-8, at most 200 fields).
"""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given, strategies as st

from authgate.core.errors import InvalidRequestError
from authgate.web.forms import _pairs

_ALPHABET = st.sampled_from(list("ab=&+%;é 0123456789ABCDEFxyz%%%2"))


def _reference(raw: str) -> list[tuple[str, str]] | str:
    try:
        return urllib.parse.parse_qsl(
            raw, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=200
        )
    except UnicodeDecodeError:
        return "parameters must be UTF-8"
    except ValueError:
        return "too many parameters"


def _ours(raw: str) -> list[tuple[str, str]] | str:
    try:
        return _pairs(raw)
    except InvalidRequestError as exc:
        return exc.description


@given(st.text(_ALPHABET, max_size=40))
def test_pairs_match_parse_qsl(raw: str) -> None:
    assert _ours(raw) == _reference(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "&&",
        "a",
        "=",
        "a=b=c",
        "grant_type=client_credentials&scope=api%3Aread+api%3Awrite",
        "x=%ff",
        "x=%e9%",
        "x=caf%C3%A9",
        "a=1&" * 199 + "b=2",
        "a=1&" * 200 + "b=2",
    ],
)
def test_pairs_edge_cases(raw: str) -> None:
    assert _ours(raw) == _reference(raw)
