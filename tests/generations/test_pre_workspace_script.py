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
