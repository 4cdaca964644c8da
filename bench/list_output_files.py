#!/usr/bin/env python
"""``jobs.list_output_files`` over 10,000 output files on the local backend: time per 1,000-item page.

A job writes 10,000 small files into an output directory; the benchmark then pages through the
listing with ``max_results=1000`` (the SDK's default and maximum page size), through the public
client, so it measures what a notebook pays: backend listing, signing of every ``download_url``,
msrest deserialization into ``File`` models. Prints the per-page times (median and max) and the
total, then fetches one URL to show it works.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import batchai_compat  # noqa: E402
import batchai_compat._home  # noqa: E402
import batchai_compat.models as models  # noqa: E402

FILES = 10_000
PAGE = 1000
SUB, RG, WS, EXP = "00000000-0000-0000-0000-000000000000", "bench", "ws", "exp"


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        client = batchai_compat.BatchAIManagementClient(object(), SUB, home=home)
        client.workspaces.create(RG, WS, "local").result()
        client.experiments.create(RG, WS, EXP).result()
        batchai_compat._home.share_path("bench", "afs", home).mkdir(parents=True)  # the share (storage layout)
        cluster = client.clusters.create(RG, WS, "c", models.ClusterCreateParameters(
            vm_size="STANDARD_D1", user_account_settings=models.UserAccountSettings(admin_user_name="u"),
            scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
            node_setup=models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[
                models.AzureFileShareReference(
                    account_name="bench", azure_file_url="https://bench.file.core.windows.net/afs",
                    credentials=models.AzureStorageCredentialsInfo(account_key="unused"),
                    relative_mount_path="afs")])))).result()
        command = (f"python3 -c \"import os; d=os.environ['AZ_BATCHAI_OUTPUT_OUT']; "
                   f"[open(os.path.join(d, 'f%05d.txt' % i), 'w').write(str(i)) for i in range({FILES})]\"")
        client.jobs.create(RG, WS, EXP, "many", models.JobCreateParameters(
            cluster=models.ResourceId(id=cluster.id), node_count=1,
            std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs",
            output_directories=[models.OutputDirectory(id="OUT", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs")],
            custom_toolkit_settings=models.CustomToolkitSettings(command_line=command))).result()
        while client.jobs.get(RG, WS, EXP, "many").execution_state not in ("succeeded", "failed"):
            time.sleep(0.1)
        assert client.jobs.get(RG, WS, EXP, "many").execution_state == "succeeded"

        pages = client.jobs.list_output_files(RG, WS, EXP, "many", models.JobsListOutputFilesOptions(
            outputdirectoryid="OUT", max_results=PAGE))
        times, count, first_url = [], 0, None
        started = time.perf_counter()
        while True:
            t = time.perf_counter()
            try:
                page = pages.advance_page()
            except StopIteration:
                break
            times.append(time.perf_counter() - t)
            count += len(page)
            first_url = first_url or page[0].download_url
        total = time.perf_counter() - started
        body = requests.get(first_url, timeout=10).text
        client.workspaces.delete(RG, WS).result()
    print(f"list_output_files: {count} files in {len(times)} pages of {PAGE}: "
          f"median {statistics.median(times) * 1000:.1f} ms/page, max {max(times) * 1000:.1f} ms/page, "
          f"total {total:.2f} s; first download_url returned {body!r}")


if __name__ == "__main__":
    main()
