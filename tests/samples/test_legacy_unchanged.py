"""The ``legacy.py`` files themselves — 2018 code, not one character changed — run under
``batchai_compat.install()``, the path for code that cannot be edited at all.

One boundary is replaced: ``azure.mgmt.resource`` (the legacy utilities' ``create_resource_group``).
batchai_compat does not provide it and the installed one is today's SDK, which would call Azure AD;
the runner puts the samples' offline stand-in in its place.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import SAMPLES, assert_tidy, sample_environment

pytestmark = [pytest.mark.spawns_processes]

RUNNER = """
import importlib.util, runpy, sys
import batchai_compat
batchai_compat.install()
spec = importlib.util.spec_from_file_location("azure.mgmt.resource", {resources!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sys.modules["azure.mgmt.resource"] = module
sys.argv = [{script!r}]
runpy.run_path({script!r}, run_name="__main__")
"""
LEGACY = sorted(SAMPLES.glob("*/legacy.py"))


@pytest.mark.parametrize("legacy", LEGACY, ids=[p.parent.name for p in LEGACY])
def test_legacy_code_runs_unchanged_under_install(legacy, home, workdir):
    runner = RUNNER.format(resources=str(SAMPLES / "utilities" / "_resources.py"), script=str(legacy))
    result = subprocess.run([sys.executable, "-c", runner], cwd=str(workdir), env=sample_environment(home),
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^Job state: succeeded ExitCode: 0$|^6/6 jobs completed \(6 succeeded", result.stdout, re.M)
    assert result.stdout.rstrip().splitlines()[-1].startswith("Deleted the job")
    assert_tidy(home)
