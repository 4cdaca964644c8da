"""The ``batchai`` command: ``az batchai`` of the retired Azure CLI module, on the batchai_compat backends.

``main(argv=None) -> int`` is the console entry (``batchai = batchai_compat.cli:main``). Nothing heavy
is imported here: knack when a command runs, the SDK only inside the handler that needs it.
"""

from __future__ import annotations

from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``batchai <argv>`` and return its exit code (the console script exits with it)."""
    import os

    # Download URLs (``job file list``) must outlive this short-lived process, as SAS URLs did: sign
    # them for the home's detached file server (batchai_compat/_fileserver.py, "shared" mode).
    os.environ.setdefault("BATCHAI_COMPAT_FILESERVER", "shared")
    from batchai_compat.cli._core import run

    return run(argv)


__all__ = ["main"]
