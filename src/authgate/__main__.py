"""`python -m authgate` runs the command line."""

from __future__ import annotations

from authgate.cli import main

main()
