"""The local backend: Batch AI on this machine (see ``backend.py``)."""

from __future__ import annotations

from .backend import LocalBackend

__all__ = ["LocalBackend"]
