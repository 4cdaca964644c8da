#!/usr/bin/env python
"""Import cost: ``import batchai_compat`` vs ``import azure.mgmt.batchai`` (2.0.0), same interpreter.

Two statements each: the bare package import (ours defers the client and msrest to first use, PEP 562) and
``from <package> import BatchAIManagementClient``, which is what legacy code runs and the fair comparison.

Each import runs in a fresh interpreter, repeated; prints the median wall time, the number of
modules loaded and the resident-memory growth, then the ratio. The original package is a test-only
dependency (``requirements-test.txt``). Both packages are byte-compiled first, as ``pip install``
leaves them: a source checkout run with ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every
module on every import and measure the compiler, not the import.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's batchai_compat, as the probes below see it

PROBE = r"""
import json, resource, sys, time
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
modules = len(sys.modules)
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": elapsed, "modules": len(sys.modules) - modules, "rss_kib": after - before,
                  "azureml": any(m.split(".")[0] == "azureml" for m in sys.modules)}}))
"""

RUNS = 7


def measure(statement: str) -> dict:
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(statement=statement)], capture_output=True, text=True, check=True,
            cwd=str(ROOT),
        ).stdout
        samples.append(json.loads(out))
    return {
        "seconds": statistics.median(s["seconds"] for s in samples),
        "modules": samples[-1]["modules"],
        "rss_kib": statistics.median(s["rss_kib"] for s in samples),
        "azureml": any(s["azureml"] for s in samples),
    }


def compile_packages() -> None:
    import compileall
    import importlib.util

    for name in ("batchai_compat", "azure.mgmt.batchai"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        for location in spec.submodule_search_locations:
            compileall.compile_dir(location, quiet=1)


def main() -> None:
    compile_packages()
    for what in ("import {}", "from {} import BatchAIManagementClient"):
        ours = measure(what.format("batchai_compat"))
        theirs = measure(what.format("azure.mgmt.batchai"))
        print(what.format("<package>"))
        for name, m in (("batchai_compat", ours), ("azure.mgmt.batchai 2.0.0", theirs)):
            print(
                f"  {name:26s} median {m['seconds'] * 1000:7.1f} ms  modules {m['modules']:5d}  "
                f"rss +{m['rss_kib'] / 1024:5.1f} MiB  azureml imported: {m['azureml']}"
            )
        ratio = ours["seconds"] / theirs["seconds"]
        print(f"  ratio (ours / original): {ratio:.2f}  (median of {RUNS} fresh interpreters)")

if __name__ == "__main__":
    main()
