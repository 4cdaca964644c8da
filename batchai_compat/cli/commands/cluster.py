"""``batchai cluster`` commands (in progress)."""

from __future__ import annotations

from typing import Any


def load_commands(loader: Any) -> None:
    """Register the commands."""


def load_arguments(loader: Any) -> None:
    """Refine the arguments."""
