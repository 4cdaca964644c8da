"""docs/coverage.md is generated (``make coverage``) and must match the code and the original SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_coverage_page_is_current():
    fresh = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "coverage_report.py")], capture_output=True, text=True, check=True
    ).stdout
    committed = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert fresh == committed, "docs/coverage.md is stale: run `make coverage` and commit the result"


def test_coverage_page_lists_all_29_operations_and_9_toolkits():
    text = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    operation_rows = [line for line in text.splitlines() if line.startswith("| `") and "." in line.split("`")[1]]
    toolkit_rows = [line for line in text.splitlines() if line.startswith("| `") and "." not in line.split("`")[1]]
    assert len(operation_rows) == 29 and len(toolkit_rows) == 9
    assert all("missing" not in row.split("|")[2] for row in operation_rows), "the local backend implements all"
