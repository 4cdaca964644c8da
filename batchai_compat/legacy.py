"""``from batchai_compat.legacy import azure``: the legacy ``azure.*`` names, spelled out in full.

Code that imports a module and then uses its full dotted name, as the recipes' ``job_factory.py``
did::

    import azure.storage.file.models
    ...
    azure.storage.file.models.File(...)

cannot be converted by changing the import to ``import batchai_compat.storage.models``: the
statements below the import still name ``azure``. Replace the import line by::

    from batchai_compat.legacy import azure

and ``azure.storage.file.models.File``, ``azure.mgmt.batchai.models.JobCreateParameters``,
``azure.storage.blob.BlockBlobService``, ``azure.common.credentials.ServicePrincipalCredentials``,
``azure.mgmt.resource.ResourceManagementClient``, ``azure.mgmt.storage.models.Sku``... resolve to the
batchai_compat objects, by the same table ``batchai_compat.install()`` uses (without touching
``sys.modules`` or any installed package). Attribute access is lazy: nothing is imported until a
name is used. A name with no batchai_compat equivalent raises ``AttributeError`` saying so.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, List, Optional, Set

from batchai_compat import _install

__all__ = ["azure"]


def _known() -> Set[str]:
    names = set(_install._ALIASES) | set(_install._MGMT_ALIASES) | set(_install._FALLBACKS)
    names |= set(_install._INJECT_SOURCE) | {_install._BATCHAI}
    return {n for n in names if n.startswith("azure.")}


def _target(name: str) -> Optional[str]:
    """The batchai_compat module standing for legacy module ``name``, if there is one."""
    target = (_install._target_for(name, True) or _install._INJECT_SOURCE.get(name)
              or _install._FALLBACKS.get(name))
    if target is None:
        return None
    try:
        return target if importlib.util.find_spec(target) is not None else None
    except ModuleNotFoundError:
        return None


class _LegacyName:
    """One dotted legacy name (``azure``, ``azure.storage``, ``azure.storage.file.models``...)."""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        object.__setattr__(self, "_path", path)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        full = f"{self._path}.{attr}"
        if _target(full) is not None or any(n.startswith(full + ".") for n in _known()):
            return _LegacyName(full)
        target = _target(self._path)
        if target is not None:
            module = importlib.import_module(target)
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"{full} has no batchai_compat equivalent (see docs/migration.md, the import table)")

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"{self._path} is read-only")

    def __dir__(self) -> List[str]:
        prefix = self._path + "."
        children = {n[len(prefix):].split(".")[0] for n in _known() if n.startswith(prefix)}
        target = _target(self._path)
        if target is not None:
            children |= {n for n in dir(importlib.import_module(target)) if not n.startswith("_")}
        return sorted(children)

    def __repr__(self) -> str:
        target = _target(self._path)
        return f"<legacy name {self._path}" + (f" -> {target}>" if target else ">")


azure = _LegacyName("azure")
