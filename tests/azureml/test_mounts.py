"""Azure Files / blob mounts (cluster and job level) become datastores + data references; the launcher links
them under ``$AZ_BATCHAI_MOUNT_ROOT`` / ``$AZ_BATCHAI_JOB_MOUNT_ROOT`` on the node."""

from __future__ import annotations

import json
import os

import pytest

import batchai_compat.models as models

from .conftest import RG, SUB, WS
from .helpers import EXP, contents, create_cluster, create_job, wait_job

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]
KEY = "c2VjcmV0LWFjY291bnQta2V5"


def datastore_dir(emu, name: str) -> str:
    path = os.path.join(emu.root, "datastores", emu.workspace(SUB, RG, WS).workspace_id, name)
    os.makedirs(path, exist_ok=True)
    return path


def test_cluster_and_job_mounts(client, emu):
    client.experiments.create(RG, WS, EXP).result()
    share = models.AzureFileShareReference(
        account_name="teststorage", azure_file_url="https://teststorage.file.core.windows.net/share",
        credentials=models.AzureStorageCredentialsInfo(account_key=KEY), relative_mount_path="azfiles")
    cluster = create_cluster(client, "mounted", node_setup=models.NodeSetup(
        mount_volumes=models.MountVolumes(azure_file_shares=[share])))
    assert cluster.node_setup.mount_volumes.azure_file_shares[0].credentials.account_key is None
    with open(os.path.join(datastore_dir(emu, "bai_share_teststorage_share"), "input.txt"), "w") as fh:
        fh.write("from the share\n")
    blob = models.AzureBlobFileSystemReference(
        account_name="teststorage", container_name="data", relative_mount_path="bfs",
        credentials=models.AzureStorageCredentialsInfo(account_key=KEY))
    params = models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        mount_volumes=models.MountVolumes(azure_blob_file_systems=[blob]),
        input_directories=[models.InputDirectory(id="INPUT", path="$AZ_BATCHAI_MOUNT_ROOT/azfiles")],
        output_directories=[models.OutputDirectory(id="OUT", path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/bfs")],
        container_settings=models.ContainerSettings(image_source_registry=models.ImageSourceRegistry(image="ubuntu")),
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line="cat $AZ_BATCHAI_INPUT_INPUT/input.txt; echo written > $AZ_BATCHAI_JOB_MOUNT_ROOT/bfs/w.txt; "
                         "cp $AZ_BATCHAI_INPUT_INPUT/input.txt $AZ_BATCHAI_OUTPUT_OUT/copy.txt"))
    create_job(client, "mounted_job", params)
    job = wait_job(client, "mounted_job")
    out = contents(client, "mounted_job")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    assert out["stdout.txt"] == "from the share\n"
    with open(os.path.join(datastore_dir(emu, "bai_blob_teststorage_data"), "w.txt")) as fh:
        assert fh.read() == "written\n"
    assert contents(client, "mounted_job", "OUT") == {"copy.txt": "from the share\n"}
    registered = {d["name"] if isinstance(d, dict) and "name" in d else json.dumps(d)
                  for d in emu.registered_datastores}
    assert any("bai_share_teststorage_share" in r for r in registered)
    assert any("bai_blob_teststorage_data" in r for r in registered)
    config = emu.submissions[-1]["definition"]["Configuration"]
    assert set(config["dataReferences"]) == {"bai_cshare0", "bai_jblob0"}
    assert config["dataReferences"]["bai_cshare0"]["dataStoreName"] == "bai_share_teststorage_share"
    assert config["dataReferences"]["bai_cshare0"]["mode"].lower() == "mount"
    assert KEY not in json.dumps(emu.submissions[-1]["definition"])


def test_cluster_setup_task_runs_before_each_job(client, emu):
    client.experiments.create(RG, WS, EXP).result()
    share = models.AzureFileShareReference(
        account_name="teststorage", azure_file_url="https://teststorage.file.core.windows.net/share",
        credentials=models.AzureStorageCredentialsInfo(account_key=KEY), relative_mount_path="azfiles")
    task = models.SetupTask(
        command_line="echo setup $GREETING $TOKEN; echo ready > $AZ_BATCHAI_MOUNT_ROOT/azfiles/ready.txt",
        environment_variables=[models.EnvironmentVariable(name="GREETING", value="hello")],
        secrets=[models.EnvironmentVariable(name="TOKEN", value="setup-s3cr3t")],
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles")
    with pytest.warns(Warning, match="setupTask"):
        cluster = create_cluster(client, "withsetup", node_setup=models.NodeSetup(
            setup_task=task, mount_volumes=models.MountVolumes(azure_file_shares=[share])))
    suffix = cluster.node_setup.setup_task.std_out_err_path_suffix
    assert suffix.startswith(f"{SUB}/{RG}/workspaces/{WS}/clusters/withsetup/")
    assert cluster.node_setup.setup_task.secrets[0].value is None
    assert "setup-s3cr3t" not in json.dumps(emu.provisioning_requests[-1]["body"])
    params = models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        container_settings=models.ContainerSettings(image_source_registry=models.ImageSourceRegistry(image="ubuntu")),
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line="cat $AZ_BATCHAI_MOUNT_ROOT/azfiles/ready.txt"))
    create_job(client, "after_setup", params)
    job = wait_job(client, "after_setup")
    assert job.execution_state == "succeeded", job.execution_info.errors
    assert contents(client, "after_setup")["stdout.txt"] == "ready\n"
    out_dir = os.path.join(datastore_dir(emu, "bai_share_teststorage_share"), suffix)
    [stdout] = [n for n in os.listdir(out_dir) if n.startswith("stdout-")]
    with open(os.path.join(out_dir, stdout)) as fh:
        assert fh.read() == "setup hello setup-s3cr3t\n"
    # A failing setup task fails the job with SetupTaskFailed.
    task.command_line = "exit 4"
    with pytest.warns(Warning):
        bad = create_cluster(client, "badsetup", node_setup=models.NodeSetup(setup_task=task))
    params.cluster = models.ResourceId(id=bad.id)
    params.custom_toolkit_settings.command_line = "true"
    create_job(client, "after_bad_setup", params)
    job = wait_job(client, "after_bad_setup")
    assert job.execution_state == "failed" and job.execution_info.exit_code == 4
    assert [e.code for e in job.execution_info.errors] == ["SetupTaskFailed"]
