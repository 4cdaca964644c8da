"""Mixing the 2.0.0 and 7.0.0 (track 2) surfaces by mistake: errors that name the generation.

Light on purpose (no azure-core import): ``batchai_compat.operations`` installs :func:`install_begin_hints`
on the 2.0.0 groups, and the track-2 groups use :func:`track2_attribute_error`.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

TRACK2_MODULE = "batchai_compat.v7"
TRACK2_HINT = ("the azure-mgmt-batchai 7.0.0 (track 2) operation; "
               f"use `from {TRACK2_MODULE} import BatchAI` for 7.0.0 code")
# 2.0.0 (and older) long-running operations and their 7.0.0 names.
RENAMED = {"create": "begin_create", "delete": "begin_delete", "terminate": "begin_terminate"}


def install_begin_hints(*classes: type) -> None:
    """``begin_create`` & co. on a 2.0.0 group raise ``AttributeError`` naming :data:`TRACK2_MODULE`."""
    for cls in classes:
        previous: Optional[Callable[[Any, str], Any]] = cls.__dict__.get("__getattr__")

        def __getattr__(self: Any, name: str, _previous: Any = previous) -> Any:
            if name.startswith("begin_"):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}: {name}() is "
                                     f"{TRACK2_HINT}; the 2.0.0 client has {name[len('begin_'):]}()")
            if _previous is not None:
                return _previous(self, name)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        cls.__getattr__ = __getattr__  # type: ignore[attr-defined]


def track2_attribute_error(group: Any, name: str) -> AttributeError:
    """The ``AttributeError`` of a 7.0.0 group for an operation it does not have."""
    message = f"{type(group).__name__!r} object has no attribute {name!r}"
    if name in RENAMED and hasattr(type(group), RENAMED[name]):
        message += (f": azure-mgmt-batchai 7.0.0 uses {RENAMED[name]}() (an azure-core LROPoller); {name}() is the "
                    "azure-mgmt-batchai 2.0.0 operation, use batchai_compat.BatchAIManagementClient for 2.0.0 code")
    elif name in ("create", "delete", "terminate", "list"):
        message += (f": {name}() is not an operation of this azure-mgmt-batchai 7.0.0 group (it may be the "
                    "2.0.0 or 0.2.0/1.0.x shape; see docs/migration.md)")
    return AttributeError(message)
