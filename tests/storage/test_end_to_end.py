"""A Batch AI notebook end to end, local mode: upload with the storage classes, run a job that reads
the uploads through its mounts and writes outputs, read the outputs back over the job's
``list_output_files`` download URLs and through the same storage classes."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

import batchai_compat.models as models
from batchai_compat import BatchAIManagementClient, _fileserver
from batchai_compat.credentials import ServicePrincipalCredentials
from batchai_compat.storage import BlockBlobService, FileService

from .conftest import ACCOUNT, ACCOUNT_KEY

pytestmark = [pytest.mark.spawns_processes, pytest.mark.slow]

SUB = "00000000-0000-0000-0000-000000000000"
RG, WS, EXP = "batchai_rg", "workspace", "experiment"

TRAIN_PY = """\
import os, sys
mount_root = os.environ["AZ_BATCHAI_MOUNT_ROOT"]
job_mount_root = os.environ["AZ_BATCHAI_JOB_MOUNT_ROOT"]
with open(os.path.join(job_mount_root, "bfs", "mnist", "train.csv")) as fh:
    rows = [line.strip() for line in fh if line.strip()]
total = sum(int(r.split(",")[1]) for r in rows[1:])
with open(os.path.join(os.environ["AZ_BATCHAI_OUTPUT_MODEL"], "model.txt"), "w") as fh:
    fh.write(f"rows={len(rows) - 1} total={total}\\n")
os.makedirs(os.path.join(job_mount_root, "bfs", "results"), exist_ok=True)
with open(os.path.join(job_mount_root, "bfs", "results", "summary.txt"), "w") as fh:
    fh.write("trained from " + sys.argv[1] + "\\n")
print("script dir", os.path.dirname(os.path.abspath(__file__)).startswith(mount_root))
"""


class _NoTokenCredentials(ServicePrincipalCredentials):
    def _request(self, resource: str) -> Any:  # pragma: no cover - the local backend never asks
        raise AssertionError("the local backend must not request a token")


@pytest.fixture
def client(home: Path) -> Iterator[BatchAIManagementClient]:
    from batchai_compat.backends.local import LocalBackend

    credentials = _NoTokenCredentials("app-id", "app-secret", tenant="tenant")
    client = BatchAIManagementClient(credentials, SUB, backend=LocalBackend(home=home, leave_seconds=0.3))
    yield client
    try:
        client.workspaces.delete(RG, WS).result(timeout=30)
    finally:
        client.close()
        _fileserver.stop_server()


def test_notebook_flow(client: BatchAIManagementClient, home: Path) -> None:
    # 1. Data and script, uploaded exactly as the notebooks did.
    blob_service = BlockBlobService(ACCOUNT, ACCOUNT_KEY)
    assert blob_service.mode == "local"
    blob_service.create_container("data", fail_on_exist=False)
    blob_service.create_blob_from_text("data", "mnist/train.csv", "id,value\n1,10\n2,32\n")
    file_service = FileService(ACCOUNT, ACCOUNT_KEY)
    file_service.create_share("afs", fail_on_exist=False)
    file_service.create_directory("afs", "scripts", fail_on_exist=False)
    file_service.create_file_from_text("afs", "scripts", "train.py", TRAIN_PY)

    # 2. A cluster mounting the share, a job mounting the container, the script run from the share.
    client.workspaces.create(RG, WS, "northeurope").result()
    client.experiments.create(RG, WS, EXP).result()
    share_url = f"https://{ACCOUNT}.file.core.windows.net/afs"
    cluster = client.clusters.create(RG, WS, "cluster", models.ClusterCreateParameters(
        vm_size="STANDARD_D1",
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser", admin_user_password="Pw-1x!"),
        node_setup=models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[
            models.AzureFileShareReference(
                account_name=ACCOUNT, azure_file_url=share_url, relative_mount_path="afs",
                credentials=models.AzureStorageCredentialsInfo(account_key=ACCOUNT_KEY))])),
    )).result()
    job_params = models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id),
        node_count=1,
        mount_volumes=models.MountVolumes(azure_blob_file_systems=[models.AzureBlobFileSystemReference(
            account_name=ACCOUNT, container_name="data", relative_mount_path="bfs",
            credentials=models.AzureStorageCredentialsInfo(account_key=ACCOUNT_KEY))]),
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs",
        output_directories=[models.OutputDirectory(id="MODEL", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs",
                                                   path_suffix="model")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line=f"{sys.executable} $AZ_BATCHAI_MOUNT_ROOT/afs/scripts/train.py from-blob"),
    )
    client.jobs.create(RG, WS, EXP, "train", job_params).result()
    deadline = time.monotonic() + 120
    while (job := client.jobs.get(RG, WS, EXP, "train")).execution_state not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.2)
    if job.execution_state != "succeeded":
        logs = {f.name: requests.get(f.download_url, timeout=10).text
                for f in client.jobs.list_output_files(RG, WS, EXP, "train", models.JobsListOutputFilesOptions(
                    outputdirectoryid="stdouterr")) if f.download_url}
        pytest.fail(f"job failed: {job.execution_info.errors} {logs}")

    # 3a. Outputs over the job's download URLs (the loopback file server).
    outputs = list(client.jobs.list_output_files(RG, WS, EXP, "train", models.JobsListOutputFilesOptions(
        outputdirectoryid="MODEL")))
    assert [f.name for f in outputs] == ["model.txt"]
    assert requests.get(outputs[0].download_url, timeout=10).text == "rows=2 total=42\n"
    stdout = [f for f in client.jobs.list_output_files(RG, WS, EXP, "train", models.JobsListOutputFilesOptions(
        outputdirectoryid="stdouterr")) if f.name == "stdout.txt"]
    assert "script dir True" in requests.get(stdout[0].download_url, timeout=10).text

    # 3b. The same outputs through the storage classes.
    model_dir = f"{job.job_output_directory_path_segment}/outputs/model"
    names = [e.name for e in file_service.list_directories_and_files("afs", model_dir)]
    assert names == ["model.txt"]
    assert file_service.get_file_to_text("afs", model_dir, "model.txt").content == "rows=2 total=42\n"
    assert blob_service.get_blob_to_text("data", "results/summary.txt").content == "trained from from-blob\n"
    assert "results/summary.txt" in list(blob_service.list_blob_names("data"))
