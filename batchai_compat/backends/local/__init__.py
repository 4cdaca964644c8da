"""The local backend: Batch AI on this machine (see ``backend.py``).

``LocalBackend`` is imported on first use so that the job supervisor and the node setup runner,
which live in this package, start without importing the client stack.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LocalBackend"]


def __getattr__(name: str) -> Any:
    if name == "LocalBackend":
        from .backend import LocalBackend

        return LocalBackend
    raise AttributeError(name)
