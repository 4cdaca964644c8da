"""The Batch AI REST gateway: the Microsoft.BatchAI ARM surface over HTTP, for unmodified SDKs.

``python -m batchai_compat.gateway`` (or the ``batchai-gateway`` console script) serves the REST API
versions 2018-05-01, 2018-03-01 and 2017-09-01-preview from a batchai_compat backend, so that the
original ``azure-mgmt-batchai`` packages and the other languages' SDKs work by pointing their
``base_url`` at it. Not imported by ``import batchai_compat``. See ``docs/gateway.md``.
"""

from __future__ import annotations

from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    """Run the gateway until SIGINT/SIGTERM; returns the exit status."""
    from batchai_compat.gateway._cli import run

    return run(argv)


__all__ = ["main"]
