"""A track-2 (azure-mgmt-batchai 7.0.0) script runs end to end on the local backend (issue 13, item 2).

Written as 7.0.0 code is: ``BatchAI(credential, subscription_id)``, keyword-only models,
``begin_create(...).result()``, azure-core ``LROPoller`` / ``ItemPaged`` / ``HttpResponseError``; then a
2.0.0 client on the same home sees the same workspace, cluster, experiment and job.
"""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = [pytest.mark.spawns_processes]

SUB = "00000000-0000-0000-0000-000000000000"
RG = "track2_rg"
ACCOUNT, KEY = "track2storage", "c2VjcmV0LWtleQ=="


def _wait_job(client, rg, ws, exp, name, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        job = client.jobs.get(rg, ws, exp, name)
        if job.execution_state in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _cluster_params(models, share=False):
    node_setup = None
    if share:
        afs = models.AzureFileShareReference(
            account_name=ACCOUNT, azure_file_url=f"https://{ACCOUNT}.file.core.windows.net/share",
            credentials=models.AzureStorageCredentialsInfo(account_key=KEY), relative_mount_path="afs")
        node_setup = models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[afs]))
    return models.ClusterCreateParameters(
        vm_size="STANDARD_NC6",
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser", admin_user_password="Pa$$w0rd"),
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
        node_setup=node_setup)


def test_a_track2_script_runs_end_to_end(tmp_path, monkeypatch):
    from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
    from azure.core.paging import ItemPaged
    from azure.core.polling import LROPoller

    from batchai_compat.storage import FileService
    from batchai_compat.v7 import BatchAI, models

    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))
    client = BatchAI(credential=object(), subscription_id=SUB)
    FileService(ACCOUNT, KEY).create_share("share")

    poller = client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus"))
    assert isinstance(poller, LROPoller)
    workspace = poller.result()
    assert isinstance(workspace, models.Workspace) and workspace.location == "eastus"
    assert poller.done() and poller.status() == "Succeeded"

    cluster = client.clusters.begin_create(RG, "ws", "nc6", _cluster_params(models, share=True)).result()
    assert isinstance(cluster, models.Cluster)
    assert cluster.id == (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI"
                          "/workspaces/ws/clusters/nc6")
    assert cluster.vm_priority == "dedicated"  # 7.0.0 types enumerations as str
    client.experiments.begin_create(RG, "ws", "exp").result()

    params = models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs",
        output_directories=[models.OutputDirectory(id="MODEL", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs")],
        environment_variables=[models.EnvironmentVariable(name="GREETING", value="hello from track 2")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line='mkdir -p "$AZ_BATCHAI_OUTPUT_MODEL" && echo "$GREETING" > "$AZ_BATCHAI_OUTPUT_MODEL/m.txt"'))
    job_poller = client.jobs.begin_create(RG, "ws", "exp", "job1", params)
    created = job_poller.result()
    assert isinstance(created, models.Job) and created.name == "job1"
    job = _wait_job(client, RG, "ws", "exp", "job1")
    assert job.execution_state == models.ExecutionState.SUCCEEDED, job.execution_info

    files = client.jobs.list_output_files(RG, "ws", "exp", "job1",
                                          models.JobsListOutputFilesOptions(outputdirectoryid="MODEL"))
    assert isinstance(files, ItemPaged)
    by_name = {f.name: f for f in files}
    assert isinstance(by_name["m.txt"], models.File)
    assert requests.get(by_name["m.txt"].download_url, timeout=30).content == b"hello from track 2\n"

    # ItemPaged pages and continuation tokens (two jobs, one per page).
    client.jobs.begin_create(RG, "ws", "exp", "job2", params).result()
    pages = client.jobs.list_by_experiment(
        RG, "ws", "exp", models.JobsListByExperimentOptions(max_results=1)).by_page()
    first = [j.name for j in next(pages)]
    token = pages.continuation_token
    assert first == ["job1"] and token
    resumed = client.jobs.list_by_experiment(
        RG, "ws", "exp", models.JobsListByExperimentOptions(max_results=1)).by_page(continuation_token=token)
    assert [j.name for j in next(resumed)] == ["job2"]

    # The service's answers, as azure-core exceptions.
    with pytest.raises(ResourceExistsError) as exists:
        client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="westus"))
    assert exists.value.status_code == 409 and exists.value.error.code
    with pytest.raises(ResourceNotFoundError) as missing:
        client.jobs.get(RG, "ws", "exp", "nope")
    assert missing.value.status_code == 404 and missing.value.error.code == "JobNotFound"
    assert "nope" in missing.value.message
    with pytest.raises(HttpResponseError) as bad_name:
        client.clusters.get(RG, "ws", "a.b")
    assert (bad_name.value.status_code, bad_name.value.error.code) == (400, "InvalidResourceName")

    # A 2.0.0 client on the same home sees the same resources.
    import batchai_compat

    old = batchai_compat.BatchAIManagementClient(credentials=object(), subscription_id=SUB)
    assert [c.name for c in old.clusters.list_by_workspace(RG, "ws")] == ["nc6"]
    assert old.jobs.get(RG, "ws", "exp", "job1").execution_state == "succeeded"
    assert sorted(j.name for j in old.jobs.list_by_experiment(RG, "ws", "exp")) == ["job1", "job2"]

    # Deletion: begin_delete pollers; afterwards the resource is gone for both clients.
    delete = client.jobs.begin_delete(RG, "ws", "exp", "job1")
    assert delete.result() is None and delete.status() == "Succeeded"
    with pytest.raises(ResourceNotFoundError):
        client.jobs.get(RG, "ws", "exp", "job1")
    assert [j.name for j in old.jobs.list_by_experiment(RG, "ws", "exp")] == ["job2"]
    client.clusters.begin_delete(RG, "ws", "nc6").wait()
    assert list(client.clusters.list_by_workspace(RG, "ws")) == []


def test_a_2_0_0_client_and_a_track2_client_share_resources_both_ways(tmp_path):
    import batchai_compat
    import batchai_compat.models as models_2
    from batchai_compat.v7 import BatchAI, models

    home = str(tmp_path / "home")
    old = batchai_compat.BatchAIManagementClient(object(), SUB, home=home)
    new = BatchAI(object(), SUB, home=home)
    old.workspaces.create(RG, "shared", models_2.WorkspaceCreateParameters(location="eastus")).result()
    assert isinstance(new.workspaces.get(RG, "shared"), models.Workspace)
    new.clusters.begin_create(RG, "shared", "c7", _cluster_params(models)).result()
    cluster = old.clusters.get(RG, "shared", "c7")
    assert isinstance(cluster, models_2.Cluster) and cluster.vm_size == "STANDARD_NC6"
    assert [w.name for w in new.workspaces.list_by_resource_group(RG)] == ["shared"]


def test_continuation_token_resumes_a_poller(tmp_path):
    from azure.core.polling import LROPoller

    from batchai_compat.v7 import BatchAI, models

    client = BatchAI(object(), SUB, home=str(tmp_path / "home"))
    poller = client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus"))
    token = poller.continuation_token()
    resumed = client.workspaces.begin_create(RG, "ws", None, continuation_token=token)
    assert isinstance(resumed, LROPoller)
    assert resumed.result().name == "ws"
    deleting = client.workspaces.begin_delete(RG, "ws")
    again = client.workspaces.begin_delete(RG, "ws", continuation_token=deleting.continuation_token())
    assert again.result() is None and again.status() == "Succeeded"
    with pytest.raises(ValueError, match="continuation token"):
        client.clusters.begin_delete(RG, "ws", "c", continuation_token=deleting.continuation_token())


def test_polling_false_returns_the_initial_answer(tmp_path):
    from azure.core.polling import NoPolling

    from batchai_compat.v7 import BatchAI, models

    client = BatchAI(object(), SUB, home=str(tmp_path / "home"))
    poller = client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus"),
                                            polling=False)
    assert isinstance(poller.polling_method(), NoPolling)
    assert poller.done()
    client.workspaces.begin_create(RG, "ws2", models.WorkspaceCreateParameters(location="eastus")).result()
    assert client.workspaces.get(RG, "ws2").provisioning_state == "succeeded"


def test_cls_callbacks_get_a_pipeline_response_and_the_model(tmp_path):
    from azure.core.pipeline import PipelineResponse

    from batchai_compat.v7 import BatchAI, models

    client = BatchAI(object(), SUB, home=str(tmp_path / "home"))
    client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus")).result()
    seen = client.workspaces.get(RG, "ws", cls=lambda response, obj, headers: (response, obj, headers))
    assert isinstance(seen[0], PipelineResponse) and seen[0].http_response.status_code == 200
    assert isinstance(seen[1], models.Workspace) and seen[2] == {}
    names = list(client.workspaces.list_by_resource_group(RG, cls=lambda items: [w.name.upper() for w in items]))
    assert names == ["WS"]
    made = client.experiments.begin_create(RG, "ws", "e", cls=lambda response, obj, headers: obj.name).result()
    assert made == "e"
