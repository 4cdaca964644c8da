"""A 2017-09-era script runs end to end on the local backend with its generation selected (issue 13, item 2).

The script is written the way the CNTK recipes of azure-mgmt-batchai 0.2.0 were: no workspace, no
experiment, ``location`` in the create parameters, positional model arguments, ``EnvironmentSetting``,
``clusters.create(rg, name, params)`` / ``jobs.create(rg, job, params)`` /
``list_output_files(rg, job, options)``, then a download of an output file.
"""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = [pytest.mark.spawns_processes]

SUB = "00000000-0000-0000-0000-000000000000"
RG = "recipes_rg"
ACCOUNT, KEY = "recipestorage", "c2VjcmV0LWtleQ=="


def _wait_job(client, models, rg, name, timeout=60.0):
    # 0.2.0's enumerations are plain Enum classes: the recipes compared with models.ExecutionState members.
    final = (models.ExecutionState.succeeded, models.ExecutionState.failed)
    deadline = time.monotonic() + timeout
    while True:
        job = client.jobs.get(rg, name)
        if job.execution_state in final or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_a_2017_09_script_runs_end_to_end(tmp_path, monkeypatch):
    import batchai_compat.v2017_09_01_preview as training
    import batchai_compat.v2017_09_01_preview.models as models
    from batchai_compat.storage import FileService

    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))  # the storage classes and the clients
    client = training.BatchAIManagementClient(credentials=object(), subscription_id=SUB)
    FileService(ACCOUNT, KEY).create_share("share")

    share = models.AzureFileShareReference(ACCOUNT, f"https://{ACCOUNT}.file.core.windows.net/share",
                                           models.AzureStorageCredentialsInfo(KEY), "afs")
    params = models.ClusterCreateParameters(
        "eastus", "STANDARD_NC6", models.UserAccountSettings("demoUser", admin_user_password="Pa$$w0rd"),
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(1)),
        node_setup=models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[share])))
    created = client.clusters.create(RG, "nc6", params).result()
    assert created.id == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/clusters/nc6"
    cluster = client.clusters.get(RG, "nc6")
    assert (cluster.type, cluster.location, cluster.vm_size) == ("Microsoft.BatchAI/Clusters", "eastus",
                                                                 "STANDARD_NC6")

    job_params = models.JobCreateParameters(
        "eastus", models.ResourceId(cluster.id), 1, "$AZ_BATCHAI_MOUNT_ROOT/afs",
        output_directories=[models.OutputDirectory("MODEL", "$AZ_BATCHAI_MOUNT_ROOT/afs")],
        environment_variables=[models.EnvironmentSetting("GREETING", "hello from 2017")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            'mkdir -p "$AZ_BATCHAI_OUTPUT_MODEL" && echo "$GREETING" > "$AZ_BATCHAI_OUTPUT_MODEL/model.txt"'))
    client.jobs.create(RG, "cntk_job", job_params).result()
    job = _wait_job(client, models, RG, "cntk_job")
    assert job.execution_state == models.ExecutionState.succeeded, job.execution_info
    assert job.cluster.id == cluster.id  # pre-workspace ids on the way back too
    assert [(e.name, e.value) for e in job.environment_variables] == [("GREETING", "hello from 2017")]

    options = models.JobsListOutputFilesOptions("MODEL")
    files = {f.name: f for f in client.jobs.list_output_files(RG, "cntk_job", options)}
    assert isinstance(files["model.txt"], models.File)
    assert requests.get(files["model.txt"].download_url, timeout=30).content == b"hello from 2017\n"

    # Old and new code see the same resources: the default workspace and experiment of the group.
    import batchai_compat

    new = batchai_compat.BatchAIManagementClient(credentials=object(), subscription_id=SUB)
    assert [c.name for c in new.clusters.list_by_workspace(RG, "default")] == ["nc6"]
    assert new.workspaces.get(RG, "default").location == "eastus"
    assert new.jobs.get(RG, "default", "default", "cntk_job").execution_state == "succeeded"
    assert [c.name for c in client.clusters.list_by_resource_group(RG)] == ["nc6"]
    assert [j.name for j in client.jobs.list()] == ["cntk_job"]

    client.jobs.delete(RG, "cntk_job").result()
    client.clusters.delete(RG, "nc6").result()
    assert list(client.clusters.list_by_resource_group(RG)) == []


def test_a_1_0_x_script_sees_directories_usage_and_2_0_0_resources(tmp_path, monkeypatch):
    """1.0.x (2018-03-01): EnvironmentVariable, list_output_files with ``directory`` and ``is_directory``,
    ``client.usage``; and a cluster a 2.0.0 client made in workspace ``default`` is the old client's too."""
    import batchai_compat
    import batchai_compat.models as new_models
    from batchai_compat.storage import FileService
    from batchai_compat.v2018_03_01 import BatchAIManagementClient, models

    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))
    FileService(ACCOUNT, KEY).create_share("share")
    new = batchai_compat.BatchAIManagementClient(credentials=object(), subscription_id=SUB)
    new.workspaces.create(RG, "default", "westeurope").result()
    share = new_models.AzureFileShareReference(
        account_name=ACCOUNT, azure_file_url=f"https://{ACCOUNT}.file.core.windows.net/share",
        credentials=new_models.AzureStorageCredentialsInfo(account_key=KEY), relative_mount_path="afs")
    new.clusters.create(RG, "default", "d1", new_models.ClusterCreateParameters(
        vm_size="STANDARD_D1", user_account_settings=new_models.UserAccountSettings(admin_user_name="u"),
        scale_settings=new_models.ScaleSettings(manual=new_models.ManualScaleSettings(target_node_count=1)),
        node_setup=new_models.NodeSetup(mount_volumes=new_models.MountVolumes(azure_file_shares=[share])))).result()

    client = BatchAIManagementClient(credentials=object(), subscription_id=SUB)
    cluster = client.clusters.get(RG, "d1")
    assert (cluster.id, cluster.location) == (
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/clusters/d1", "westeurope")
    client.jobs.create(RG, "job", models.JobCreateParameters(
        location="westeurope", cluster=models.ResourceId(id=cluster.id), node_count=1, priority=5,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs",
        output_directories=[models.OutputDirectory(id="OUT", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs")],
        environment_variables=[models.EnvironmentVariable(name="WHO", value="1.0.x")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line='mkdir -p "$AZ_BATCHAI_OUTPUT_OUT/sub" && echo "$WHO" > "$AZ_BATCHAI_OUTPUT_OUT/sub/f.txt"'),
    )).result()
    deadline = time.monotonic() + 60
    while client.jobs.get(RG, "job").execution_state not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
    job = client.jobs.get(RG, "job")
    assert (job.execution_state, job.priority) == ("succeeded", 1000)  # priority > 0 is "high" in 2018-05-01

    top = {f.name: f.is_directory for f in client.jobs.list_output_files(
        RG, "job", models.JobsListOutputFilesOptions(outputdirectoryid="OUT"))}
    assert top == {"sub": True}
    inner = list(client.jobs.list_output_files(
        RG, "job", models.JobsListOutputFilesOptions(outputdirectoryid="OUT", directory="sub")))
    assert [(f.name, f.is_directory) for f in inner] == [("f.txt", False)]
    assert requests.get(inner[0].download_url, timeout=30).content == b"1.0.x\n"
    assert [u.name.value for u in client.usage.list("westeurope")]
