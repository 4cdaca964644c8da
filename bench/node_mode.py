"""Benchmark of node mode: what acting together costs when each node runs its own launcher.

A 2-node custom job (``true`` on node 0, job preparation ``true`` on both nodes) is run
* in local mode: one launcher for both (virtual) nodes, as the local backend does;
* in node mode: one launcher process per node on distinct loopback addresses, joined over TCP
  (``launcher/group.py``: hello, barrier after job preparation, end of job), as on Azure ML nodes.

Prints wall-clock p50/p95 from starting the launcher(s) until every one has exited, and the
difference (the group's cost, including the second interpreter start).

Usage: ``python bench/node_mode.py [--samples 20]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from batchai_compat.launcher import group as group_mod  # noqa: E402
from batchai_compat.launcher.spec import LaunchSpec, NodeSpec  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NET = f"127.{random.randint(20, 250)}.{random.randint(1, 250)}"


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100.0 * (len(ordered) - 1))))]


def make_spec(tmp: Path, sample: int) -> LaunchSpec:
    uid = f"{sample:08d}-0000-0000-0000-000000000000"
    nodes = [NodeSpec(id=f"tvm-bench_{i}", address=f"{NET}.{i + 2}", root=str(tmp / f"s{sample}" / f"node{i}"))
             for i in range(2)]
    return LaunchSpec(
        job={"id": "bench", "name": "bench", "properties": {
            "nodeCount": 2, "stdOutErrPathPrefix": str(tmp / "out"),
            "jobOutputDirectoryPathSegment": f"bench/{uid}",
            "jobPreparation": {"commandLine": "true"}, "customToolkitSettings": {"commandLine": "true"}}},
        nodes=nodes, shared_job_temp=str(tmp / f"s{sample}" / "shared"), job_uid=uid, python=sys.executable)


def launch(spec: LaunchSpec, path: Path, *args: str) -> subprocess.Popen:
    spec.write(path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "batchai_compat.launcher", "--spec", str(path), *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run_local(tmp: Path, sample: int) -> float:
    spec = replace(make_spec(tmp, sample), result_path=str(tmp / f"r{sample}.json"))
    began = time.perf_counter()
    proc = launch(spec, tmp / f"spec{sample}.json")
    _out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()
    return time.perf_counter() - began


def run_node_mode(tmp: Path, sample: int) -> float:
    base = make_spec(tmp, 10_000 + sample)
    settings = {"token": f"bench-{sample}", "port": group_mod.free_port(base.nodes[0].address), "ports": 1}
    began = time.perf_counter()
    procs = [launch(replace(base, result_path=str(tmp / f"n{sample}-{i}.json"), group=settings),
                    tmp / f"nspec{sample}-{i}.json", "--node-index", str(i)) for i in range(2)]
    for proc in procs:
        _out, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-node-mode-") as name:
        tmp = Path(name)
        run_local(tmp, 0), run_node_mode(tmp, 0)  # warm the page cache
        local = [run_local(tmp, i) for i in range(1, args.samples + 1)]
        node = [run_node_mode(tmp, i) for i in range(1, args.samples + 1)]
    lp50, np50 = statistics.median(local), statistics.median(node)
    for label, values, p50 in (("local mode (one launcher):      ", local, lp50),
                               ("node mode (a launcher per node):", node, np50)):
        print(f"2-node job, {label} p50 {p50 * 1000:7.1f} ms  p95 {percentile(values, 95) * 1000:7.1f} ms")
    print(f"node mode costs p50 {(np50 - lp50) * 1000:+.1f} ms per job ({args.samples} samples each)")


if __name__ == "__main__":
    main()
