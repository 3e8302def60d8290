"""Every item of the shared checklist (SECURITY.md: SEC-nn, REL-nn) is either cited by a
test's `@pytest.mark.spec(...)` or listed as not applicable, with a reason, in the README's
"Not applicable" section.

The checklist lives beside the repository (`../shared/SECURITY.md`; `AUTHGATE_SECURITY_MD`
names another path). Absent: skipped here, a failure under CI=true.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
ITEM = re.compile(r"^\|\s*((?:SEC|REL)-\d+)\s*\|", re.MULTILINE)
CITED = re.compile(r"""spec\(\s*["']((?:SEC|REL)-\d+)["']\s*\)""")
NOT_APPLICABLE = re.compile(r"^- `((?:SEC|REL)-\d+)`: (\S.*)$", re.MULTILINE)


def _checklist() -> str:
    path = Path(os.environ.get("AUTHGATE_SECURITY_MD") or REPO.parent / "shared" / "SECURITY.md")
    if not path.is_file():
        reason = f"the shared checklist {path} is not beside this checkout"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    return path.read_text(encoding="utf-8")


def items(text: str) -> set[str]:
    """The IDs of the checklist's table rows."""
    return set(ITEM.findall(text))


def cited() -> set[str]:
    """The IDs some test cites with a spec marker."""
    found: set[str] = set()
    for path in TESTS.rglob("*.py"):
        found.update(CITED.findall(path.read_text(encoding="utf-8")))
    return found


def not_applicable(readme: str) -> dict[str, str]:
    """The README's "### Not applicable" list: ID → reason."""
    section = readme.split("### Not applicable", 1)
    assert len(section) == 2, "README.md has no '### Not applicable' section"
    body = re.split(r"^#{2,3} ", section[1], maxsplit=1, flags=re.MULTILINE)[0]
    return dict(NOT_APPLICABLE.findall(body))


def test_the_parsers_read_what_they_claim() -> None:
    table = "| ID | x |\n|---|---|\n| SEC-07 | a |\n| REL-12 | b |\nSEC-99 in prose\n"
    assert items(table) == {"SEC-07", "REL-12"}
    readme = "## Security\n### Not applicable\n- `SEC-07`: no PAR\n- other\n## Development\n"
    assert not_applicable(readme) == {"SEC-07": "no PAR"}
    assert "SEC-95" in cited()  # this repository's tests are scanned


def test_every_checklist_item_is_tested_or_declared_not_applicable() -> None:
    checklist = items(_checklist())
    assert len(checklist) > 100, "the checklist did not parse"
    declared = not_applicable((REPO / "README.md").read_text(encoding="utf-8"))
    assert set(declared) <= checklist, f"README lists unknown items: {set(declared) - checklist}"
    tested = cited()
    both = tested & set(declared)
    assert not both, f"cited by a test yet listed as not applicable: {sorted(both)}"
    missing = sorted(checklist - tested - set(declared), key=lambda i: (i[:3], int(i[4:])))
    assert not missing, f"neither tested nor declared not applicable: {missing}"
