#!/usr/bin/env python
"""Throughput and latency of the REST gateway over loopback, against the same operation in-process.

Measured (one client thread, sequential requests, after a warm-up):

* ``jobs.get`` through the gateway with raw HTTP (a keep-alive ``requests.Session``), with the original
  azure-mgmt-batchai 2.0.0 client (``base_url`` = the gateway; msrest pipeline, bearer token), and
  in-process with ``batchai_compat.BatchAIManagementClient`` on the same home (no HTTP at all);
* ``list_output_files`` pages (``maxresults=50`` over an output directory of 200 files: four pages per
  listing, following ``nextLink``) the same three ways;
* ``jobs.get`` with raw HTTP from 8 threads at once (the server's thread pool at work).

Prints requests/s and p50/p99 latency in ms. The gateway runs as a subprocess
(``python -m batchai_compat.gateway --port 0``) with a throwaway home.

Usage: ``python bench/gateway.py [--requests 400]``
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, List, Sequence

SUB = "00000000-0000-0000-0000-0000000000be"
RG, WS, EXP, JOB = "bench", "ws", "exp", "job"
ACCOUNT, KEY, SHARE = "benchstorage", "YmVuY2gta2V5", "share"
FILES = 200
PAGE = 50


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100.0 * (len(ordered) - 1))))]


def measure(name: str, call: Callable[[], object], count: int, unit: str = "requests") -> None:
    for _ in range(min(20, count)):
        call()
    times: List[float] = []
    began = time.perf_counter()
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    total = time.perf_counter() - began
    print(f"{name:<52} {count / total:9.1f} {unit}/s   p50 {statistics.median(times) * 1000:7.2f} ms   "
          f"p99 {percentile(times, 99) * 1000:7.2f} ms", flush=True)


def start(home: Path, token: str) -> "tuple[subprocess.Popen, str]":
    env = dict(os.environ, BATCHAI_COMPAT_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "batchai_compat.gateway", "--port", "0", "--home", str(home),
                             f"--token={token}", "--access-log", str(home / "access.log")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"the gateway did not start: {line!r}")
    return proc, line[len("listening on "):].rstrip("/")


def setup(url: str, token: str, home: Path) -> None:
    """A workspace, a cluster with a share, and a finished job with FILES output files (via the gateway)."""
    from azure.mgmt.batchai import BatchAIManagementClient, models
    from msrest.authentication import BasicTokenAuthentication

    os.environ["BATCHAI_COMPAT_HOME"] = str(home)
    from batchai_compat.storage import FileService

    FileService(ACCOUNT, KEY).create_share(SHARE)
    client = BatchAIManagementClient(BasicTokenAuthentication({"access_token": token}), SUB, base_url=url)
    client.workspaces.create(RG, WS, "eastus").result()
    client.experiments.create(RG, WS, EXP).result()
    cluster = client.clusters.create(RG, WS, "cl", models.ClusterCreateParameters(
        vm_size="STANDARD_D1",
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
        user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="Pa55-word"),
        node_setup=models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[models.AzureFileShareReference(
            account_name=ACCOUNT, azure_file_url=f"https://{ACCOUNT}.file.core.windows.net/{SHARE}",
            credentials=models.AzureStorageCredentialsInfo(account_key=KEY),
            relative_mount_path="azfiles")])))).result()
    client.jobs.create(RG, WS, EXP, JOB, models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        output_directories=[models.OutputDirectory(id="OUT", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line=f"for i in $(seq 1 {FILES}); do echo $i > $AZ_BATCHAI_OUTPUT_OUT/f$i.txt; done"))).result()
    deadline = time.monotonic() + 300
    while client.jobs.get(RG, WS, EXP, JOB).execution_state not in ("succeeded", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit("the benchmark job did not finish")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    n = args.requests
    import requests
    from azure.mgmt.batchai import BatchAIManagementClient as Original
    from azure.mgmt.batchai import models as original_models
    from msrest.authentication import BasicTokenAuthentication

    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        token = secrets.token_urlsafe(24)
        proc, url = start(home, token)
        try:
            setup(url, token, home)
            job_path = (f"{url}/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/{WS}"
                        f"/experiments/{EXP}/jobs/{JOB}")
            headers = {"Authorization": f"Bearer {token}"}
            session = requests.Session()
            original = Original(BasicTokenAuthentication({"access_token": token}), SUB, base_url=url)
            import batchai_compat

            local = batchai_compat.BatchAIManagementClient(object(), SUB, home=str(home))
            print(f"gateway {url}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {n} requests each")

            def raw_get() -> None:
                answer = session.get(job_path, params={"api-version": "2018-05-01"}, headers=headers)
                assert answer.status_code == 200

            measure("jobs.get  raw HTTP (keep-alive)", raw_get, n)
            measure("jobs.get  azure-mgmt-batchai 2.0.0 -> gateway", lambda: original.jobs.get(RG, WS, EXP, JOB), n)
            measure("jobs.get  in-process batchai_compat", lambda: local.jobs.get(RG, WS, EXP, JOB), n)

            params = {"api-version": "2018-05-01", "outputdirectoryid": "OUT", "linkexpiryinminutes": "60",
                      "maxresults": str(PAGE)}

            def raw_pages() -> None:
                page = session.post(job_path + "/listOutputFiles", params=params, headers=headers).json()
                count = 1
                while page.get("nextLink"):
                    page = session.post(page["nextLink"], headers=headers).json()
                    count += 1
                assert count == FILES // PAGE

            def original_pages() -> None:
                options = original_models.JobsListOutputFilesOptions(outputdirectoryid="OUT", max_results=PAGE)
                listed = list(original.jobs.list_output_files(RG, WS, EXP, JOB, options))
                assert len(listed) == FILES

            def local_pages() -> None:
                options = batchai_compat.models.JobsListOutputFilesOptions(outputdirectoryid="OUT", max_results=PAGE)
                listed = list(local.jobs.list_output_files(RG, WS, EXP, JOB, options))
                assert len(listed) == FILES

            pages = FILES // PAGE
            listings = max(10, n // 8)
            for name, call in (("raw HTTP", raw_pages), ("azure-mgmt-batchai 2.0.0 -> gateway", original_pages),
                               ("in-process batchai_compat", local_pages)):
                times: List[float] = []
                for _ in range(3):
                    call()
                for _ in range(listings):
                    began = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - began) / pages)
                print(f"{'list_output_files page  ' + name:<52} {1 / statistics.mean(times):9.1f} pages/s      "
                      f"p50 {statistics.median(times) * 1000:7.2f} ms   p99 {percentile(times, 99) * 1000:7.2f} ms "
                      f"(per page of {PAGE})", flush=True)

            threads, per_thread = 8, max(20, n // 8)
            latencies: List[float] = []
            lock = threading.Lock()

            def worker() -> None:
                with requests.Session() as own:
                    own.get(job_path, params={"api-version": "2018-05-01"}, headers=headers)
                    mine = []
                    for _ in range(per_thread):
                        began = time.perf_counter()
                        assert own.get(job_path, params={"api-version": "2018-05-01"}, headers=headers).ok
                        mine.append(time.perf_counter() - began)
                with lock:
                    latencies.extend(mine)

            began = time.perf_counter()
            pool = [threading.Thread(target=worker) for _ in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            total = time.perf_counter() - began
            print(f"{'jobs.get  raw HTTP, 8 threads':<52} {len(latencies) / total:9.1f} requests/s   "
                  f"p50 {statistics.median(latencies) * 1000:7.2f} ms   p99 {percentile(latencies, 99) * 1000:7.2f} ms",
                  flush=True)
            local.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(90)
            print(f"gateway exit status {code}")


if __name__ == "__main__":
    main()
