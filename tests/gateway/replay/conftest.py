"""Prints the replay's counts at the end of the run (the issue asks for them printed).

``TOTALS`` is filled by ``test_replay.py``: one entry per replayed recording with the numbers of
interactions replayed, matched and excluded.
"""

from __future__ import annotations

from typing import Any, Dict

TOTALS: Dict[str, Dict[str, int]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TOTALS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("Batch AI recorded-session replay")
    for name in sorted(TOTALS):
        row = TOTALS[name]
        write(f"{name}: {row['interactions']} interactions, {row['replayed']} replayed, {row['matched']} matched, "
              f"{row['excluded']} excluded")
    replayed = sum(r["replayed"] for r in TOTALS.values())
    matched = sum(r["matched"] for r in TOTALS.values())
    excluded = sum(r["excluded"] for r in TOTALS.values())
    write(f"recordings {len(TOTALS)}, interactions replayed {replayed}, matched {matched}, excluded {excluded}")
