"""A summary of the original clients' scenarios at the end of the run (how many steps each ran, how long)."""

from __future__ import annotations

from typing import Any

from ._results import RESULTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    terminalreporter.section("original Batch AI clients against the gateway")
    for client, passed, steps, seconds in RESULTS:
        verdict = "passed" if passed else "FAILED"
        terminalreporter.write_line(f"{client:<28} {verdict:<7} {steps:>3} steps {seconds:6.1f} s")
    terminalreporter.write_line(f"{'total':<28} {'':<7} {sum(r[2] for r in RESULTS):>3} steps "
                                f"{sum(r[3] for r in RESULTS):6.1f} s")
