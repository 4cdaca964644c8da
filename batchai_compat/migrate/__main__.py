"""``python -m batchai_compat.migrate PATH...``: see :mod:`batchai_compat.migrate`."""

import sys

from batchai_compat.migrate import main

sys.exit(main())
