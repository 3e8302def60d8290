"""`bench/inproc.py`, the in-process CPU benchmark the README shows, still runs: every
scenario answers 200 through the real app (the tool asserts it) and a figure is printed for
each. Not a timing test: the figures are only checked to be there and positive.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_inproc_measures_each_scenario_it_is_asked_for(tmp_path: Path) -> None:
    scenarios = ["cc_opaque", "introspect", "revoke_live", "revoke_unknown"]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "inproc.py"),
            "--requests=64",
            "--concurrency=4",
            "--log",
            f"--only={','.join(scenarios)}",
            f"--profile={tmp_path / 'prof'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = dict(re.findall(r"^(\w+)\s+([\d.]+) µs CPU/request$", done.stdout, re.MULTILINE))
    assert sorted(figures) == sorted(scenarios)
    assert all(float(value) > 0 for value in figures.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"prof.{s}" for s in scenarios)
