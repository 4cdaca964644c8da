"""``batchai job ...``: registered, commands to come (owned by another module author)."""

from __future__ import annotations

from typing import Any


def load_commands(loader: Any) -> None:
    """Register the ``job`` commands (none yet)."""


def load_arguments(loader: Any) -> None:
    """Refine the ``job`` arguments (none yet)."""
