"""Backend selection: a lazy registry of names, plus the documented order of precedence.

The backend is chosen when a client is constructed, never at import time:

1. the client's ``backend=`` argument: a registered name (``"local"``, ``"azureml"``) or a
   :class:`~batchai_compat.backends.base.Backend` instance;
2. the ``BATCHAI_COMPAT_BACKEND`` environment variable;
3. the config file: ``$BATCHAI_COMPAT_CONFIG``, else ``$BATCHAI_COMPAT_HOME/config.json``
   (``~/.batchai_compat/config.json``), a JSON object such as
   ``{"backend": "azureml", "options": {"azureml": {"workspace_name": "aml-ws"}}}``;
4. ``"local"``.

Options for the backend come from the client's extra keyword arguments, merged over the config
file's ``options.<name>`` object. The choice is logged once per process at INFO level on the
``batchai_compat`` logger. Third-party backends register under the ``batchai_compat.backends``
entry-point group (``name = "package.module:Class"``).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from batchai_compat.backends.base import Backend
from batchai_compat.exceptions import BackendNotAvailableError

logger = logging.getLogger("batchai_compat")

ENV_BACKEND = "BATCHAI_COMPAT_BACKEND"
ENV_CONFIG = "BATCHAI_COMPAT_CONFIG"
DEFAULT_BACKEND = "local"

#: name -> "module:Class" and the hint shown when its dependencies are missing.
KNOWN_BACKENDS: Dict[str, Dict[str, str]] = {
    "local": {"class": "batchai_compat.backends.local:LocalBackend"},
    "azureml": {
        "class": "batchai_compat.backends.azureml:AzureMLBackend",
        "err": "The azureml backend needs azureml-core: pip install 'batchai-compat[azureml]'",
    },
}

_ENTRY_POINT_GROUP = "batchai_compat.backends"
_logged: set = set()


def config_path() -> Path:
    """Where the config file is looked for (it need not exist)."""
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("BATCHAI_COMPAT_HOME") or str(Path.home() / ".batchai_compat")
    return Path(home).expanduser() / "config.json"


def read_config() -> Dict[str, Any]:
    """The config file's content, ``{}`` when there is none; a malformed file is an error."""
    path = config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"batchai_compat config file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"batchai_compat config file {path} must hold a JSON object")
    return data


def resolve(explicit: Union[str, Backend, None]) -> Tuple[Union[str, Backend], str]:
    """The backend (name or instance) to use and where the choice came from."""
    if explicit is not None:
        return explicit, "the backend= argument"
    env = os.environ.get(ENV_BACKEND)
    if env:
        return env.strip(), f"${ENV_BACKEND}"
    configured = read_config().get("backend")
    if configured:
        return str(configured), f"the config file {config_path()}"
    return DEFAULT_BACKEND, "the default"


def _load_class(name: str) -> type:
    spec = KNOWN_BACKENDS.get(name)
    if spec is None:
        target = _entry_point_target(name)
        if target is None:
            known = ", ".join(sorted(set(KNOWN_BACKENDS) | set(_entry_point_names())))
            raise ValueError(f"Unknown batchai_compat backend {name!r}; known backends: {known}")
        spec = {"class": target}
    module_name, _, class_name = spec["class"].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = spec.get("err") or f"Could not import backend {name!r} ({module_name})"
        raise BackendNotAvailableError(f"{hint} ({exc})") from exc
    return getattr(module, class_name)


def _entry_points() -> Any:
    from importlib import metadata

    eps = metadata.entry_points()
    if hasattr(eps, "select"):
        return eps.select(group=_ENTRY_POINT_GROUP)
    return eps.get(_ENTRY_POINT_GROUP, [])  # Python 3.9


def _entry_point_names() -> list:
    return [ep.name for ep in _entry_points()]


def _entry_point_target(name: str) -> Optional[str]:
    for ep in _entry_points():
        if ep.name == name:
            return str(ep.value)
    return None


def get_backend(explicit: Union[str, Backend, None] = None, **options: Any) -> Backend:
    """Build (or pass through) the backend a client should use; see the module docstring."""
    chosen, source = resolve(explicit)
    if isinstance(chosen, Backend):
        if options:
            raise TypeError("backend options cannot be combined with a backend instance")
        _log_once(chosen.name, source)
        return chosen
    name = chosen.lower()
    merged = dict(read_config().get("options", {}).get(name, {}))
    merged.update(options)
    backend_class = _load_class(name)
    backend = backend_class(**merged)
    _log_once(name, source)
    return backend


def _log_once(name: str, source: str) -> None:
    key = (name, source)
    if key not in _logged:
        _logged.add(key)
        logger.info("batchai_compat: using the %r backend (chosen by %s)", name, source)
