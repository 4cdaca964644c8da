"""Benchmark of the local backend's job pipeline (create -> supervisor -> launcher -> result).

Prints:
* create->running latency p50/p95 (a job on an idle 1-node cluster until ``get`` says running);
* create->succeeded for ``true`` vs a bare ``subprocess.run('true')`` (the per-job overhead);
* how much of that the node launcher takes by itself;
* throughput of 200 tiny jobs submitted at once to a 2-node cluster.

Usage: ``python bench/local_jobs.py [--jobs 200] [--samples 30]`` (uses a throwaway home).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import batchai_compat.models as models  # noqa: E402
from batchai_compat import BatchAIManagementClient  # noqa: E402
from batchai_compat.backends.local import LocalBackend  # noqa: E402

RG, WS, EXP = "bench", "ws", "exp"
POLL = 0.002


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100.0 * (len(ordered) - 1))))]


def make_cluster(client, name: str, nodes: int) -> str:
    params = models.ClusterCreateParameters(
        vm_size="STANDARD_D1", user_account_settings=models.UserAccountSettings(admin_user_name="bench"),
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=nodes)))
    return client.clusters.create(RG, WS, name, params).result().id


def job(cluster_id: str, command: str) -> models.JobCreateParameters:
    return models.JobCreateParameters(cluster=models.ResourceId(id=cluster_id), node_count=1,
                                      std_out_err_path_prefix="$AZ_BATCHAI_JOB_TEMP",
                                      custom_toolkit_settings=models.CustomToolkitSettings(command_line=command))


def wait(client, name: str, states) -> str:
    while True:
        state = client.jobs.get(RG, WS, EXP, name).execution_state
        if state in states:
            return state
        time.sleep(POLL)


def latency(client, cluster_id: str, samples: int) -> None:
    to_running, to_done = [], []
    for i in range(samples):
        name = f"lat{i}"
        start = time.perf_counter()
        client.jobs.create(RG, WS, EXP, name, job(cluster_id, "true")).result()
        wait(client, name, ("running", "succeeded", "failed"))
        to_running.append(time.perf_counter() - start)
        assert wait(client, name, ("succeeded", "failed")) == "succeeded"
        to_done.append(time.perf_counter() - start)
    bare = []
    for _ in range(samples):
        start = time.perf_counter()
        subprocess.run("true", shell=True, check=True)
        bare.append(time.perf_counter() - start)
    ms = lambda v: f"{v * 1000:7.1f} ms"  # noqa: E731
    print(f"create->running    p50 {ms(statistics.median(to_running))}   p95 {ms(percentile(to_running, 95))}")
    print(f"create->succeeded  p50 {ms(statistics.median(to_done))}   p95 {ms(percentile(to_done, 95))}   (job 'true')")
    print(f"subprocess.run     p50 {ms(statistics.median(bare))}   p95 {ms(percentile(bare, 95))}   ('true')")
    print(f"overhead per job   p50 {ms(statistics.median(to_done) - statistics.median(bare))}")


def launcher_alone(samples: int) -> None:
    """The node launcher by itself (forked like the supervisor does), for the share of the overhead."""
    import contextlib
    import io
    import os

    import batchai_compat.launcher.__main__ as launcher
    from batchai_compat.launcher.spec import LaunchSpec, NodeSpec

    times = []
    for i in range(samples):
        with tempfile.TemporaryDirectory() as tmp:
            spec = LaunchSpec(
                job={"id": f"/subscriptions/s/resourceGroups/r/providers/Microsoft.BatchAI/workspaces/w/experiments/e"
                           f"/jobs/j{i}", "name": f"j{i}",
                     "properties": {"nodeCount": 1, "stdOutErrPathPrefix": f"{tmp}/out",
                                    "jobOutputDirectoryPathSegment": f"s/r/w/e/j{i}/u",
                                    "customToolkitSettings": {"commandLine": "true"}}},
                nodes=[NodeSpec(id="tvm-1_1-20200101t000000z", address="127.0.0.2", root=f"{tmp}/node")],
                shared_job_temp=f"{tmp}/shared", job_uid="u", result_path=f"{tmp}/result.json", python=sys.executable)
            path = spec.write(f"{tmp}/spec.json")
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                pid = os.fork()
                if pid == 0:
                    os.setsid()
                    os._exit(launcher.main(["--spec", str(path)]))
                os.waitpid(pid, 0)
            times.append(time.perf_counter() - start)
    print(f"launcher alone     p50 {statistics.median(times) * 1000:7.1f} ms   (forked, job 'true'; part of the above)")


def throughput(client, cluster_id: str, count: int) -> None:
    start = time.perf_counter()
    for i in range(count):
        client.jobs.create(RG, WS, EXP, f"tp{i}", job(cluster_id, "true")).result()
    submitted = time.perf_counter() - start
    while True:
        jobs = [j for j in client.jobs.list_by_experiment(RG, WS, EXP) if j.name.startswith("tp")]
        if len(jobs) == count and all(j.execution_state in ("succeeded", "failed") for j in jobs):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    failed = sum(j.execution_state != "succeeded" for j in jobs)
    print(f"throughput         {count} jobs on 2 nodes in {elapsed:.1f} s = {count / elapsed:.1f} jobs/s "
          f"(submission {submitted:.1f} s, failed {failed})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        client = BatchAIManagementClient(object(), "bench-sub", backend=LocalBackend(home=home))
        client.workspaces.create(RG, WS, "local").result()
        client.experiments.create(RG, WS, EXP).result()
        latency(client, make_cluster(client, "one", 1), args.samples)
        launcher_alone(min(args.samples, 20))
        throughput(client, make_cluster(client, "two", 2), args.jobs)
        client.close()


if __name__ == "__main__":
    main()
