"""The ``legacy.py`` files themselves — 2018 code, not one character changed — run under
``batchai_compat.install()``, the path for code that cannot be edited at all.

``azure.mgmt.resource`` (the legacy utilities' ``create_resource_group``) is aliased by ``install()``
too, on the local backend, to ``batchai_compat.resource``: nothing is replaced by hand.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import SAMPLES, assert_tidy, sample_environment

pytestmark = [pytest.mark.spawns_processes]

RUNNER = """
import runpy, sys
import batchai_compat
batchai_compat.install()
sys.argv = [{script!r}]
runpy.run_path({script!r}, run_name="__main__")
"""
LEGACY = sorted(SAMPLES.glob("*/legacy.py"))


@pytest.mark.parametrize("legacy", LEGACY, ids=[p.parent.name for p in LEGACY])
def test_legacy_code_runs_unchanged_under_install(legacy, home, workdir):
    runner = RUNNER.format(script=str(legacy))
    result = subprocess.run([sys.executable, "-c", runner], cwd=str(workdir), env=sample_environment(home),
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^Job state: succeeded ExitCode: 0$|^6/6 jobs completed \(6 succeeded", result.stdout, re.M)
    assert result.stdout.rstrip().splitlines()[-1].startswith("Deleted the job")
    assert_tidy(home)
