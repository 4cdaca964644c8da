"""Suite-wide isolation: no test touches the real ~/.batchai_compat or ~/.azureml."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    """Point BATCHAI_COMPAT_HOME at a throwaway directory for the whole session.

    Tests that need a fresh state of their own pass ``home=`` to the client or set the variable
    themselves; this only guarantees nothing leaks into the developer's real home.
    """
    previous = os.environ.get("BATCHAI_COMPAT_HOME")
    os.environ["BATCHAI_COMPAT_HOME"] = str(tmp_path_factory.mktemp("batchai_compat_home"))
    os.environ.pop("BATCHAI_COMPAT_BACKEND", None)
    os.environ.pop("BATCHAI_COMPAT_CONFIG", None)
    yield
    if previous is None:
        os.environ.pop("BATCHAI_COMPAT_HOME", None)
    else:
        os.environ["BATCHAI_COMPAT_HOME"] = previous
