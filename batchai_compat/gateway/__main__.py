"""``python -m batchai_compat.gateway``."""

from __future__ import annotations

import sys

from batchai_compat.gateway import main

if __name__ == "__main__":
    sys.exit(main())
