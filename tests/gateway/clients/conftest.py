"""A summary of the original clients' scenarios at the end of the run: per client, passed or not, the
operations it called (the scenario's steps, in order) and how long it took."""

from __future__ import annotations

import textwrap
from typing import Any

from ._results import RESULTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    terminalreporter.section("original Batch AI clients against the gateway")
    for client, passed, steps, seconds, lros, polls in RESULTS:
        verdict = "passed" if passed else "FAILED"
        terminalreporter.write_line(f"{client:<26} {verdict:<6} {len(steps):>3} steps {seconds:6.1f} s, "
                                    f"{lros} long-running operations (202), {polls} status polls")
        for line in textwrap.wrap(", ".join(steps), 110):
            terminalreporter.write_line(f"    {line}")
    total = sum(r[3] for r in RESULTS)
    passed = sum(1 for r in RESULTS if r[1])
    terminalreporter.write_line(f"{passed}/{len(RESULTS)} clients passed, {sum(len(r[2]) for r in RESULTS)} steps, "
                                f"{total:.1f} s")
