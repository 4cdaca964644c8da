"""The hints of the 2.0.0 operation groups when they are called in the shape of another client generation.

Separate from :mod:`batchai_compat._generations` (which builds the old generations on the operation layer) so
that ``batchai_compat.operations`` can install them without importing the layer it is part of: importing
``batchai_compat.v2018_03_01`` first, in a fresh interpreter, must work.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

PRE_WORKSPACE_HINT = ("this is the azure-mgmt-batchai 0.2.0/1.0.x shape (no workspace, no experiment); "
                      "use batchai_compat.v2017_09_01_preview (0.2.0) or batchai_compat.v2018_03_01 (1.0.x)")


# Operations of the 0.2.0/1.0.x groups that 2.0.0 no longer has.
_OLD_ONLY = ("list", "list_by_resource_group")


def install_pre_workspace_hints(*classes: type) -> None:
    """Make the 2.0.0 groups ``classes`` say which generation an old-shape call belongs to.

    A 0.2.0/1.0.x call such as ``clusters.create(rg, name, params)`` does not bind to the 2.0.0
    signature (``workspace_name`` and ``experiment_name`` came in 2.0.0): the ``TypeError`` Python
    raises keeps its type and gets :data:`PRE_WORKSPACE_HINT` appended. ``clusters.list()`` and
    ``list_by_resource_group`` (gone in 2.0.0) raise ``AttributeError`` with the hint."""
    for cls in classes:
        for name, method in list(vars(cls).items()):
            if not name.startswith("_") and inspect.isfunction(method):
                setattr(cls, name, _hinted(method))
        cls.__getattr__ = _old_only_attribute  # type: ignore[attr-defined]


def _old_only_attribute(self: Any, name: str) -> Any:
    hint = f": {name}() is the azure-mgmt-batchai 0.2.0/1.0.x operation; {PRE_WORKSPACE_HINT}"
    raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}"
                         + (hint if name in _OLD_ONLY else ""))


def _hinted(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(*args, **kwargs)
        except TypeError:
            try:  # Python's own message ("create() missing 1 required positional argument: ...")
                return method(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{exc}: {PRE_WORKSPACE_HINT}") from None
        return method(*args, **kwargs)

    return call
