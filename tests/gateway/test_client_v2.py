"""The original azure-mgmt-batchai 2.0.0 (installed in the main virtualenv, msrest/msrestazure), unmodified,
with ``base_url`` pointing at the gateway: its ``ARMPolling`` follows our ``Azure-AsyncOperation`` and
``Retry-After``, its ``Paged`` follows our ``nextLink``, its ``CloudError`` parses our envelopes."""

from __future__ import annotations

import time

import azure.mgmt.batchai as original
import pytest
from azure.mgmt.batchai import models
from msrest.authentication import BasicTokenAuthentication
from msrest.exceptions import ValidationError
from msrestazure.azure_exceptions import CloudError

from tests.gateway.conftest import ACCOUNT, ACCOUNT_KEY, ADMIN_PASSWORD, SHARE, SUB, create_share


def _client(gateway, token=None):
    assert original.BatchAIManagementClient.__module__.startswith("azure.mgmt.batchai")
    credentials = BasicTokenAuthentication({"access_token": token or gateway.token})
    return original.BatchAIManagementClient(credentials, SUB, base_url=gateway.url)


def _cluster_parameters():
    return models.ClusterCreateParameters(
        vm_size="STANDARD_D1",
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser",
                                                         admin_user_password=ADMIN_PASSWORD),
        node_setup=models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[models.AzureFileShareReference(
            account_name=ACCOUNT, azure_file_url=f"https://{ACCOUNT}.file.core.windows.net/{SHARE}",
            credentials=models.AzureStorageCredentialsInfo(account_key=ACCOUNT_KEY), relative_mount_path="azfiles")])))


def test_original_2_0_0_client_round_trip(gateway):
    create_share(gateway.home)
    client = _client(gateway)
    client.config.long_running_operation_timeout = 0  # (only used without Retry-After, which we always send)
    ws = client.workspaces.create("rg", "ws", "eastus").result()
    assert isinstance(ws, models.Workspace) and ws.provisioning_state == "succeeded"
    assert client.experiments.create("rg", "ws", "exp").result().name == "exp"
    poller = client.clusters.create("rg", "ws", "cl", _cluster_parameters())
    cluster = poller.result(timeout=120)
    assert poller.done() and cluster.provisioning_state == "succeeded"
    assert cluster.node_setup.mount_volumes.azure_file_shares[0].credentials.account_key is None
    job = client.jobs.create("rg", "ws", "exp", "job", models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        output_directories=[models.OutputDirectory(id="OUT", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line="for i in 1 2 3; do echo $i > $AZ_BATCHAI_OUTPUT_OUT/f$i.txt; done"))).result(timeout=120)
    assert job.name == "job"
    deadline = time.monotonic() + 120
    while client.jobs.get("rg", "ws", "exp", "job").execution_state not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "job did not finish within 120 s"
        time.sleep(0.2)
    assert client.jobs.get("rg", "ws", "exp", "job").execution_state == "succeeded"
    options = models.JobsListOutputFilesOptions(outputdirectoryid="OUT", max_results=1)
    files = list(client.jobs.list_output_files("rg", "ws", "exp", "job", options))
    assert sorted(f.name for f in files) == ["f1.txt", "f2.txt", "f3.txt"]
    assert all(f.download_url.startswith("http://127.0.0.1:") for f in files)
    jobs = list(client.jobs.list_by_experiment("rg", "ws", "exp", models.JobsListByExperimentOptions(max_results=1)))
    assert [j.name for j in jobs] == ["job"]
    assert [c.name for c in client.clusters.list_by_workspace("rg", "ws")] == ["cl"]
    updated = client.clusters.update("rg", "ws", "cl", scale_settings=models.ScaleSettings(
        manual=models.ManualScaleSettings(target_node_count=0)))
    assert updated.scale_settings.manual.target_node_count == 0
    assert client.workspaces.update("rg", "ws", tags={"k": "v"}).tags == {"k": "v"}
    assert [u.name.value for u in client.usages.list("eastus")]
    assert any(o.name.startswith("Microsoft.BatchAI/") for o in client.operations.list())
    assert client.jobs.terminate("rg", "ws", "exp", "job").result(timeout=120) is None
    assert client.jobs.delete("rg", "ws", "exp", "job").result(timeout=120) is None
    with pytest.raises(CloudError) as info:
        client.jobs.get("rg", "ws", "exp", "job")
    assert info.value.status_code == 404 and info.value.error.error == "JobNotFound"
    client.clusters.delete("rg", "ws", "cl").result(timeout=120)
    client.workspaces.delete("rg", "ws").result(timeout=120)
    with pytest.raises(CloudError) as info:
        client.workspaces.get("rg", "ws")
    assert info.value.error.error == "WorkspaceNotFound"


def test_original_client_errors(gateway):
    with pytest.raises(CloudError) as info:
        list(_client(gateway, token="not-the-token").operations.list())
    assert info.value.status_code == 401 and info.value.error.error == "AuthenticationFailed"
    client = _client(gateway)
    with pytest.raises(CloudError) as info:
        client.experiments.create("rg", "nows", "exp").result()
    assert info.value.status_code == 404 and info.value.error.error == "WorkspaceNotFound"
    with pytest.raises(ValidationError):  # client-side, as before: nothing reached the gateway
        client.workspaces.get("rg", "bad.name")
    poller = client.workspaces.create("rg", "ws2", "eastus", polling=False)
    assert poller.result().name == "ws2"
    assert client.workspaces.delete("rg", "ws2", polling=False).result() is None
