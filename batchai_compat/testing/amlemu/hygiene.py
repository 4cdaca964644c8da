"""Test hygiene helpers for driving azureml-core quickly and in isolation.

* :func:`fast_polling` shortens ``Run._WAIT_COMPLETION_POLLING_INTERVAL_MIN/MAX`` (class attributes, numbers:
  the ``AZUREML_RUN_POLLING_INTERVAL_*`` environment variables would make them strings and break
  ``Run._wait_before_polling``).
* :func:`no_compute_sleep` replaces ``time.sleep`` as seen by ``azureml.core.compute.*`` modules (their
  ``wait_for_completion`` loops sleep 5 s between polls) with a short sleep.
* :func:`isolated_azureml_home` points ``HOME`` (the ``~/.azureml`` discovery and snapshot caches) at a
  directory, including the ``~/.azureml/.discovery`` path azureml binds at import time.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import types
from typing import Iterator, List, Tuple


@contextlib.contextmanager
def fast_polling(minimum: float = 0.05, maximum: float = 0.2) -> Iterator[None]:
    """Make ``Run.wait_for_completion`` poll every ``minimum``..``maximum`` seconds."""
    from azureml.core.run import Run
    saved = (Run._WAIT_COMPLETION_POLLING_INTERVAL_MIN, Run._WAIT_COMPLETION_POLLING_INTERVAL_MAX)
    Run._WAIT_COMPLETION_POLLING_INTERVAL_MIN = minimum
    Run._WAIT_COMPLETION_POLLING_INTERVAL_MAX = maximum
    try:
        yield
    finally:
        Run._WAIT_COMPLETION_POLLING_INTERVAL_MIN, Run._WAIT_COMPLETION_POLLING_INTERVAL_MAX = saved


class _ShortSleepTime(types.ModuleType):
    """A stand-in for the ``time`` module whose ``sleep`` is capped."""

    def __init__(self, cap: float):
        super().__init__("time")
        self._cap = cap

    def __getattr__(self, name: str):
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        time.sleep(min(float(seconds), self._cap))


COMPUTE_MODULES = ("azureml.core.compute.compute", "azureml.core.compute.amlcompute",
                   "azureml.core.compute.computeinstance", "azureml.core.compute.aks",
                   "azureml._restclient.polling")


@contextlib.contextmanager
def no_compute_sleep(cap: float = 0.05) -> Iterator[None]:
    """Cap the ``time.sleep`` calls of azureml's compute and LRO polling loops at ``cap`` seconds."""
    import importlib
    patched: List[Tuple[types.ModuleType, object]] = []
    fake = _ShortSleepTime(cap)
    for name in COMPUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "time", None) is time:
            patched.append((module, module.time))
            module.time = fake  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, original in patched:
            module.time = original  # type: ignore[attr-defined]


@contextlib.contextmanager
def isolated_azureml_home(home: str) -> Iterator[str]:
    """Use ``home`` as ``HOME`` for azureml's caches while the context is active.

    Prefer setting ``HOME`` before Python starts; this also rebinds the default argument azureml captured
    at import time for ``~/.azureml/.discovery``.  Changing ``HOME`` affects the whole process.
    """
    os.makedirs(os.path.join(home, ".azureml"), exist_ok=True)
    saved_home = os.environ.get("HOME")
    os.environ["HOME"] = home
    restore = []
    mod = sys.modules.get("azureml._base_sdk_common.service_discovery")
    if mod is not None:
        init = mod.CachedServiceDiscovery.__init__
        if init.__defaults__:
            restore.append((init, init.__defaults__))
            init.__defaults__ = (os.path.join(home, ".azureml", ".discovery"),)
    try:
        yield home
    finally:
        if saved_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = saved_home
        for func, defaults in restore:
            func.__defaults__ = defaults
