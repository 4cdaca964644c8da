"""The per-client outcomes of test_original_clients.py, printed at the end of the pytest run by conftest.py
(one line per client: passed or failed, steps run, seconds)."""

from __future__ import annotations

from typing import List, Tuple

RESULTS: List[Tuple[str, bool, List[str], float]] = []


def record(client: str, passed: bool, steps: List[str], seconds: float) -> None:
    RESULTS.append((client, passed, list(steps), seconds))
