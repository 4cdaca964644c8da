"""``python -m batchai_compat.cli``: the same as the ``batchai`` console script."""

from __future__ import annotations

import sys

from batchai_compat.cli import main

if __name__ == "__main__":
    sys.exit(main())
