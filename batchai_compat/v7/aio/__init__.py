"""The async client of azure-mgmt-batchai 7.0.0 (``azure.mgmt.batchai.aio``), on batchai_compat's backends.

::

    from batchai_compat.v7.aio import BatchAI

    async with BatchAI(credential, subscription_id) as client:
        poller = await client.jobs.begin_create(rg, ws, exp, name, params)   # azure-core AsyncLROPoller
        job = await poller.result()
        async for f in client.jobs.list_output_files(rg, ws, exp, name, options):  # AsyncItemPaged
            ...

Built on the sync 7.0.0 client (``batchai_compat.v7``): each call runs the sync group's method in the
event loop's default executor, so behaviour, errors (``azure.core.exceptions``) and deviations are the
sync client's (``docs/migration.md``, "Client generations"). Needs azure-core (``pip install
batchai_compat[track2]``); importing this package imports nothing heavy, ``BatchAI`` does on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BatchAI"]


def __getattr__(name: str) -> Any:
    if name == "BatchAI":
        return getattr(importlib.import_module("batchai_compat.v7.aio._client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
