"""The azure-mgmt-batchai 7.0.0 (track 2, azure-core, REST API 2018-05-01) client generation.

One obvious line picks it::

    from batchai_compat.v7 import BatchAI          # 7.0.0's client name (BatchAIManagementClient: the same class)
    from batchai_compat.v7 import models           # 7.0.0's models (keyword-only constructors)

``BatchAI(credential, subscription_id, base_url=None, **kwargs)`` has 7.0.0's operations:
``begin_create`` / ``begin_delete`` / ``begin_terminate`` return azure-core ``LROPoller`` objects, lists
return azure-core ``ItemPaged``, errors are ``azure.core.exceptions`` (``HttpResponseError``,
``ResourceNotFoundError``, ``ResourceExistsError``). It runs on the same backends as the 2.0.0 client
and wraps its operation layer: a 2.0.0 client on the same backend home sees the same workspaces,
clusters and jobs. Needs azure-core (``pip install batchai_compat[track2]``); ``import batchai_compat``
does not import it, this package does on first use of ``BatchAI`` or ``models``.

Deviations from 7.0.0 (also in ``docs/compatibility.md``, "azure-mgmt-batchai 7.0.0"):

* No HTTP pipeline: azure-core pipeline keywords (``logging_enable``, ``retry_total``, ``headers``,
  ``transport``...) are accepted and not used; ``polling_interval`` is not used (the backend paces
  polls); ``cls`` callbacks get a ``PipelineResponse`` whose request is ``None``.
* Client-side: 7.0.0 validated nothing and let the service answer. Here the 2.0.0 layer's checks
  (which are the service's rules) answer, as ``HttpResponseError`` with the service's code for names
  (``InvalidResourceName`` 400, ``ResourceGroupNotFound`` 404) and ``BadRequest`` 400 with msrest's
  message for a body missing a required property (the service's code for that was not recorded).
* ``continuation_token`` of a poller names the operation and resource; resuming polls the resource
  (``provisioningState`` / ``executionState`` / 404 for deletions), not an ``Azure-AsyncOperation`` URL.
* ``ToolType`` of 7.0.0 says ``custommpi`` where the backends (and 2.0.0) report ``mpi``: ``tool_type``
  reads back ``"mpi"`` (a ``str``, as 7.0.0 typed it).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BatchAI", "BatchAIManagementClient", "models"]


def __getattr__(name: str) -> Any:
    if name in ("BatchAI", "BatchAIManagementClient"):
        return getattr(importlib.import_module("batchai_compat.v7._client"), name)
    if name == "models":
        return importlib.import_module("batchai_compat.v7.models")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
