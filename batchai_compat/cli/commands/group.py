"""``batchai group ...``: registered, commands to come (owned by another module author)."""

from __future__ import annotations

from typing import Any


def load_commands(loader: Any) -> None:
    """Register the ``group`` commands (none yet)."""


def load_arguments(loader: Any) -> None:
    """Refine the ``group`` arguments (none yet)."""
