"""The per-client outcomes of test_original_clients.py, printed at the end of the pytest run by conftest.py
(per client: passed or failed, the steps run, seconds, long-running operations and their polls)."""

from __future__ import annotations

from typing import List, Tuple

RESULTS: List[Tuple[str, bool, List[str], float, int, int]] = []


def record(client: str, passed: bool, steps: List[str], seconds: float, lros: int, polls: int) -> None:
    RESULTS.append((client, passed, list(steps), seconds, lros, polls))
