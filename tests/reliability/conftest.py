"""Shared settings of the adversarial suites.

``make test`` runs a bounded, meaningful sample of every suite; ``BATCHAI_COMPAT_LONG=1`` runs the long
variants (more fuzz examples, more kill rounds, more threads). ``bench/reliability.py`` runs them at full
size and prints the figures quoted in docs/performance.md.
"""

from __future__ import annotations

import os

LONG = os.environ.get("BATCHAI_COMPAT_LONG", "") not in ("", "0")


def scale(short: int, long: int) -> int:
    """``short`` in ``make test``, ``long`` with ``BATCHAI_COMPAT_LONG=1``."""
    return long if LONG else short
