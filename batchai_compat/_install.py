"""``batchai_compat.install()``: make the legacy import names resolve to batchai_compat, in-process.

For code that cannot be edited at all. After ``install()``, in the current process only:

=====================================================  ============================================
``import azure.mgmt.batchai`` (and ``.models``,         batchai_compat (``.models``, ``.operations``,
``.operations``, any ``azure.mgmt.batchai.X``)          ``batchai_compat.X``), even when the original
                                                        azure-mgmt-batchai is installed
``from azure.storage.blob import BlockBlobService``     :class:`batchai_compat.storage.BlockBlobService`
``azure.storage.blob.models``/``.blockblobservice``     batchai_compat.storage.models / .blob
``from azure.storage.file import FileService`` (and     :class:`batchai_compat.storage.FileService`
``.models``, ``.fileservice``)
``from azure.common.credentials import                  :class:`batchai_compat.credentials.
ServicePrincipalCredentials`` (also from                ServicePrincipalCredentials` (no network at
``msrestazure.azure_active_directory``)                 construction)
``from azure.mgmt.resource import                       :class:`batchai_compat.resource.
ResourceManagementClient`` (and                         ResourceManagementClient` (``.models``),
``.resources``, ``.resources.models``)                  **local backend only**
``from azure.mgmt.storage import                        :class:`batchai_compat.storage_mgmt.
StorageManagementClient`` (and ``.models``)             StorageManagementClient` (``.models``),
                                                        **local backend only**
=====================================================  ============================================

The management clients are aliased only when the backend is ``local``: on the Azure ML backend the
real ``azure-mgmt-resource`` / ``azure-mgmt-storage`` are the right answer (they manage real Azure
resources; azureml-core itself imports them), so ``install()`` leaves those names alone there. The
backend is the one a client would get: ``install(backend=...)``, else ``$BATCHAI_COMPAT_BACKEND``,
else the config file, else ``local`` (:mod:`batchai_compat.backends.registry`); it is looked up when
``azure.mgmt.resource`` or ``azure.mgmt.storage`` is first imported (so ``install()`` stays cheap),
or at ``install()`` when one of them was already imported. Once aliased on the local backend, those
names stay batchai_compat's for the process: do not mix with an Azure ML client in the same process.
Other submodules of the real packages (``azure.mgmt.resource.subscriptions``, ``.policy``...) are not
provided while aliased (``ModuleNotFoundError``).

How: a finder at the front of ``sys.meta_path``. Alias modules are thin proxies (attribute access
forwards to the batchai_compat module), created lazily on import, so ``install()`` itself imports
nothing heavy. Where a *real* package owns the name and must keep working — ``azure.storage.blob``
v12 (which batchai_compat's own remote mode uses), ``azure.common.credentials`` — the real module is
imported as usual and the legacy names are added to it: ``BlockBlobService`` and
``ServicePrincipalCredentials`` always, other legacy names (``BlobPermissions``, ``Include``...) only
where v12 has no attribute of that name (so v12's ``ContentSettings``, ``BlobProperties``,
``PublicAccess``... stay v12's; batchai_compat accepts them). Missing parents (``azure``,
``azure.mgmt``...) and a missing ``azure.common`` are provided as empty/proxy packages.

Limits: only the current process (subprocesses and ``python -m`` children need their own
``install()``, e.g. from ``sitecustomize``); references taken before ``install()`` (``from
azure.mgmt.batchai import X`` executed earlier) keep pointing at the original objects — ``install()``
warns when it finds such modules already imported; ``azure.storage.common`` (``CloudStorageAccount``)
and the page/append blob services are not provided. :func:`uninstall` undoes all of it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

__all__ = ["install", "uninstall"]

_BATCHAI = "azure.mgmt.batchai"
# Alias name -> batchai_compat module; these always win over installed packages.
_ALIASES: Dict[str, str] = {
    _BATCHAI: "batchai_compat",
    "azure.storage.file": "batchai_compat.storage",
    "azure.storage.file.fileservice": "batchai_compat.storage.file",
    "azure.storage.file.models": "batchai_compat.storage.models",
    "azure.storage.blob.blockblobservice": "batchai_compat.storage.blob",
    "azure.storage.blob.models": "batchai_compat.storage.models",
}
# Alias name -> batchai_compat module, on the local backend only (see the module docstring).
_MGMT_ALIASES: Dict[str, str] = {
    "azure.mgmt.resource": "batchai_compat.resource",
    "azure.mgmt.resource.resources": "batchai_compat.resource",
    "azure.mgmt.resource.resources.models": "batchai_compat.resource.models",
    "azure.mgmt.resource.resources.v2018_05_01": "batchai_compat.resource",
    "azure.mgmt.resource.resources.v2018_05_01.models": "batchai_compat.resource.models",
    "azure.mgmt.storage": "batchai_compat.storage_mgmt",
    "azure.mgmt.storage.models": "batchai_compat.storage_mgmt.models",
    "azure.mgmt.storage.v2018_02_01": "batchai_compat.storage_mgmt",
    "azure.mgmt.storage.v2018_02_01.models": "batchai_compat.storage_mgmt.models",
}
_MGMT_ROOTS = ("azure.mgmt.resource", "azure.mgmt.storage")
_PACKAGES = {_BATCHAI, "azure.storage.file", "azure.storage.blob", "azure.common"}
# Real module name -> (names always set, names set only if the real module lacks them).
_INJECT: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "azure.storage.blob": (
        ("BlockBlobService",),
        ("Blob", "BlobPermissions", "BlobPrefix", "BlobProperties", "Container", "ContainerPermissions",
         "ContainerProperties", "ContentSettings", "DeleteSnapshot", "Include", "ListGenerator", "PublicAccess",
         "ResourceProperties"),
    ),
    "azure.common.credentials": (("ServicePrincipalCredentials",), ()),
    "msrestazure.azure_active_directory": (("ServicePrincipalCredentials",), ()),
}
_INJECT_SOURCE = {"azure.storage.blob": "batchai_compat.storage",
                  "azure.common.credentials": "batchai_compat.credentials",
                  "msrestazure.azure_active_directory": "batchai_compat.credentials"}
# Used only when nothing else provides the name.
_FALLBACKS: Dict[str, str] = {
    "azure.storage.blob": "batchai_compat.storage",
    "azure.common": "batchai_compat.storage._errors",
    "azure.common.credentials": "batchai_compat.credentials",
}
_PARENTS = ("azure", "azure.mgmt", "azure.storage")

_MISSING = object()


def _is_mgmt(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in _MGMT_ROOTS)


def _target_for(name: str, mgmt: bool = False) -> Optional[str]:
    """The batchai_compat module behind alias ``name`` (management names only when ``mgmt``)."""
    if name in _ALIASES:
        return _ALIASES[name]
    if name.startswith(_BATCHAI + "."):
        return "batchai_compat" + name[len(_BATCHAI):]
    if mgmt and name in _MGMT_ALIASES:
        return _MGMT_ALIASES[name]
    return None


def _backend_is_local(explicit: Any) -> bool:
    """Whether a client built now would use the local backend (the client's precedence)."""
    from batchai_compat.backends.registry import resolve

    chosen, _source = resolve(explicit)
    name = getattr(chosen, "name", chosen)
    return str(name).lower() == "local"


class _AliasLoader(importlib.abc.Loader):
    """Creates a proxy module whose attributes are looked up on the target module."""

    def __init__(self, target: str, finder: "_CompatFinder") -> None:
        self.target = target
        self.finder = finder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        target = importlib.import_module(self.target)

        def __getattr__(name: str) -> Any:  # noqa: N807 (PEP 562 hook)
            if name == "__all__":
                return [n for n in dir(target) if not n.startswith("_")]
            return getattr(target, name)

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__dir__ = lambda: sorted(set(dir(target)) | set(vars(module)))  # type: ignore[method-assign]
        if hasattr(target, "__all__"):
            module.__all__ = list(target.__all__)  # type: ignore[attr-defined]
        module.__doc__ = f"batchai_compat alias of {self.target} (see batchai_compat.install)."
        module.__batchai_compat_target__ = self.target  # type: ignore[attr-defined]
        self.finder.created.add(module.__name__)


class _EmptyPackageLoader(importlib.abc.Loader):
    def __init__(self, finder: "_CompatFinder") -> None:
        self.finder = finder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        self.finder.created.add(module.__name__)


class _InjectingLoader(importlib.abc.Loader):
    """Runs the real module's loader, then adds the legacy names to the real module."""

    def __init__(self, real: Any, finder: "_CompatFinder") -> None:
        self.real = real
        self.finder = finder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return self.real.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        # Put the real loader back first, so the module looks exactly as it would without install().
        module.__loader__ = self.real
        if module.__spec__ is not None:
            module.__spec__.loader = self.real
        self.real.exec_module(module)
        self.finder.inject(module)


class _CompatFinder(importlib.abc.MetaPathFinder):
    def __init__(self, backend: Any = None) -> None:
        self.created: Set[str] = set()
        self.injected: Dict[Tuple[str, str], Any] = {}
        self._local = threading.local()
        self.backend = backend
        self._mgmt: Optional[bool] = None

    def mgmt(self) -> bool:
        """Whether the management clients are aliased (decided once, on first need).

        While the backend is being resolved (which imports the registry), nested management
        imports see the real packages rather than recursing.
        """
        if self._mgmt is None:
            if getattr(self._local, "resolving", False):
                return False
            self._local.resolving = True
            try:
                self._mgmt = _backend_is_local(self.backend)
            finally:
                self._local.resolving = False
        return self._mgmt

    # -- helpers -----------------------------------------------------------------------------------
    def _elsewhere(self, name: str, path: Optional[Sequence[str]], target: Any) -> Optional[Any]:
        """The spec the rest of ``sys.meta_path`` would produce (re-entrancy guarded)."""
        busy = getattr(self._local, "busy", None)
        if busy is None:
            busy = self._local.busy = set()
        if name in busy:
            return None
        busy.add(name)
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    return spec
            return None
        finally:
            busy.discard(name)

    def _alias_spec(self, name: str, target: str) -> importlib.machinery.ModuleSpec:
        is_package = name in _PACKAGES or (name in _ALIASES and _ALIASES[name] in ("batchai_compat",
                                                                                  "batchai_compat.storage"))
        if not is_package:
            found = importlib.util.find_spec(target)
            is_package = bool(found and found.submodule_search_locations is not None)
        spec = importlib.machinery.ModuleSpec(name, _AliasLoader(target, self), is_package=is_package)
        if is_package:
            spec.submodule_search_locations = []
        return spec

    def inject(self, module: types.ModuleType) -> None:
        always, if_absent = _INJECT[module.__name__]
        source = importlib.import_module(_INJECT_SOURCE[module.__name__])
        for attr in always + tuple(n for n in if_absent if not hasattr(module, n)):
            self.injected.setdefault((module.__name__, attr), module.__dict__.get(attr, _MISSING))
            setattr(module, attr, getattr(source, attr))

    # -- the finder protocol -----------------------------------------------------------------------
    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None, target: Any = None) -> Any:
        alias = _target_for(fullname, _is_mgmt(fullname) and self.mgmt())
        if alias is not None:
            if fullname not in _ALIASES and fullname not in _MGMT_ALIASES and importlib.util.find_spec(alias) is None:
                return None
            return self._alias_spec(fullname, alias)
        if fullname in _INJECT or fullname in _FALLBACKS or fullname in _PARENTS:
            real = self._elsewhere(fullname, path, target)
            if real is None:
                if fullname in _FALLBACKS:
                    return self._alias_spec(fullname, _FALLBACKS[fullname])
                if fullname in _PARENTS:
                    return importlib.machinery.ModuleSpec(fullname, _EmptyPackageLoader(self), is_package=True)
                return None
            if fullname in _INJECT and real.loader is not None and hasattr(real.loader, "exec_module"):
                real.loader = _InjectingLoader(real.loader, self)
            return real
        return None


_lock = threading.Lock()
_finder: Optional[_CompatFinder] = None


def install(backend: Any = None) -> None:
    """Make the legacy Batch AI / storage / credentials / management import names resolve to batchai_compat.

    ``backend``: the backend the process will use (a name or a ``Backend`` instance), as for
    ``BatchAIManagementClient``; when omitted, ``$BATCHAI_COMPAT_BACKEND``, then the config file,
    then ``local``. It only decides whether ``azure.mgmt.resource`` / ``azure.mgmt.storage`` are
    aliased (local backend) or left to the real packages (any other backend).

    Idempotent; affects the current process only (a second call with another ``backend`` changes
    nothing: call :func:`uninstall` first). See the module docstring for what is aliased and the limits.
    """
    global _finder
    with _lock:
        if _finder is not None and _finder in sys.meta_path:
            return
        finder = _CompatFinder(backend)
        if any(_is_mgmt(n) for n in sys.modules):
            finder.mgmt()  # decide now: already-imported management modules may have to be replaced
        stale = sorted(n for n in list(sys.modules)
                       if (_target_for(n) is not None or (_is_mgmt(n) and bool(finder._mgmt)))
                       and not getattr(sys.modules[n], "__batchai_compat_target__", None))
        if stale:
            from batchai_compat.exceptions import warn_compat

            roots = [n for n in stale if n.rpartition(".")[0] not in stale]
            warn_compat(
                f"batchai_compat.install(): {', '.join(roots)} (and submodules) had already been imported; "
                "objects taken from them earlier keep pointing at the original package")
            for name in stale:
                del sys.modules[name]
            _unlink_from_parents(stale)
        sys.meta_path.insert(0, finder)
        _finder = finder
        for name in _INJECT:
            module = sys.modules.get(name)
            if module is not None:
                finder.inject(module)


def uninstall() -> None:
    """Undo :func:`install`: remove the finder, the alias modules and the injected names."""
    global _finder
    with _lock:
        finder, _finder = _finder, None
        if finder is None:
            return
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        created = sorted(finder.created)
        for name in created:
            sys.modules.pop(name, None)
        _unlink_from_parents(created)
        for (module_name, attr), previous in finder.injected.items():
            module = sys.modules.get(module_name)
            if module is None:
                continue
            if previous is _MISSING:
                module.__dict__.pop(attr, None)
            else:
                setattr(module, attr, previous)


def _unlink_from_parents(names: List[str]) -> None:
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        if parent is not None and child in vars(parent):
            delattr(parent, child)
