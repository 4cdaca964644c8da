"""Run properties on the PATCH that ``Experiment.submit`` sends anyway.

``ScriptRunConfig`` submission ends with ``run.add_properties(global_tracking_info_registry.gather_all(
source_directory))`` — azureml-core's registry of "tracking info providers" (it records git metadata).
A provider registered here adds the Batch AI job spec for the source directory being submitted, so
keeping the spec costs no request of its own. If a future azureml-core drops the hook, the backend
notices (the provider was not asked) and calls ``add_properties`` itself.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Dict, Iterator

_pending: Dict[str, "Pending"] = {}
_lock = threading.Lock()
_installed = False


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        from . import _internals

        hook = _internals.tracking_hook()
        if hook is None:  # pragma: no cover - the fallback add_properties applies
            _installed = True
            return
        TrackingInfoProvider, global_tracking_info_registry = hook

        class BatchAISpecProvider(TrackingInfoProvider):  # type: ignore[valid-type,misc]
            def gather(self) -> Dict[str, str]:
                # gather_all() runs with the submitted source directory as working directory
                with _lock:
                    pending = _pending.get(os.path.realpath(os.getcwd()))
                    if pending is None:
                        return {}
                    pending.gathered = True
                    return dict(pending.properties)

        global_tracking_info_registry.register(BatchAISpecProvider())
        _installed = True


class Pending:
    def __init__(self, properties: Dict[str, str]) -> None:
        self.properties = dict(properties)
        self.gathered = False  # set when azureml-core asked for them (they are on the run)


@contextlib.contextmanager
def run_properties(source_directory: str, properties: Dict[str, str]) -> Iterator[Pending]:
    """While submitting ``source_directory``, add ``properties`` to the run's tracking properties."""
    _install()
    key = os.path.realpath(source_directory)
    pending = Pending(properties)
    with _lock:
        _pending[key] = pending
    try:
        yield pending
    finally:
        with _lock:
            _pending.pop(key, None)
