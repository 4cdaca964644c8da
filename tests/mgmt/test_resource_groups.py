"""batchai_compat.resource on the local backend: what a notebook does with resource groups."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from msrest.polling import LROPoller
from msrestazure.azure_exceptions import CloudError

import batchai_compat as training
import batchai_compat.models as models
from batchai_compat.exceptions import BatchAICompatNotSupportedError
from batchai_compat.resource import ResourceManagementClient
from batchai_compat.resource.models import ResourceGroup, ResourceGroupPatchable
from batchai_compat.storage import FileService
from batchai_compat.storage_mgmt import StorageManagementClient
from batchai_compat.storage_mgmt.models import Sku, StorageAccountCreateParameters

from .conftest import OTHER_SUB, SUB


def _code(exc: CloudError) -> str:
    return exc.error.error


def test_create_get_exists_list_update(home):
    client = ResourceManagementClient(object(), SUB)
    raw = client.resource_groups.create_or_update("Batch_RG", {"location": "West US", "tags": {"team": "ml"}}, raw=True)
    assert raw.response.status_code == 201
    group = raw.output
    assert isinstance(group, ResourceGroup)
    assert group.id == f"/subscriptions/{SUB}/resourceGroups/Batch_RG"
    assert (group.name, group.location, group.tags) == ("Batch_RG", "westus", {"team": "ml"})
    assert group.properties.provisioning_state == "Succeeded"
    again = client.resource_groups.create_or_update("batch_rg", ResourceGroup(location="westus"), raw=True)
    assert again.response.status_code == 200 and again.output.name == "Batch_RG"  # ids are case-insensitive
    assert client.resource_groups.check_existence("BATCH_RG") is True
    assert client.resource_groups.check_existence("other") is False
    client.resource_groups.create_or_update("second", ResourceGroup(location="eastus", tags={"team": "web"}))
    assert [g.name for g in client.resource_groups.list()] == ["Batch_RG", "second"]
    assert [g.name for g in client.resource_groups.list(filter="tagName eq 'team' and tagValue eq 'web'")] == ["second"]
    # as azure-cli's `az group list --tag team=web` spells it
    assert [g.name for g in client.resource_groups.list(filter="tagname eq 'team' and tagvalue eq 'web'")] == ["second"]
    assert [g.name for g in client.resource_groups.list(top=1)] == ["Batch_RG"]
    updated = client.resource_groups.update("second", ResourceGroupPatchable(tags={"x": "y"}))
    assert updated.tags == {"x": "y"} and client.resource_groups.get("second").tags == {"x": "y"}
    # Another subscription sees none of them; another client of the same home sees them all.
    assert list(ResourceManagementClient(object(), OTHER_SUB).resource_groups.list()) == []
    assert len(list(ResourceManagementClient(object(), SUB, home=str(home)).resource_groups.list())) == 2


def test_errors_are_the_services(home):
    groups = ResourceManagementClient(object(), SUB).resource_groups
    with pytest.raises(CloudError) as err:
        groups.get("missing")
    assert err.value.status_code == 404 and _code(err.value) == "ResourceGroupNotFound"
    assert err.value.message == "Resource group 'missing' could not be found."
    with pytest.raises(CloudError) as err:
        groups.delete("missing")
    assert err.value.status_code == 404 and _code(err.value) == "ResourceGroupNotFound"
    groups.create_or_update("rg", {"location": "westus"})
    with pytest.raises(CloudError) as err:
        groups.create_or_update("rg", {"location": "eastus"})
    assert err.value.status_code == 409 and _code(err.value) == "InvalidResourceGroupLocation"
    assert "already exists in location 'westus'" in err.value.message
    with pytest.raises(CloudError) as err:
        list(groups.list(filter="name eq 'rg'"))
    assert err.value.status_code == 400
    with pytest.raises(BatchAICompatNotSupportedError):
        groups.export_template("rg", ["*"])
    with pytest.raises(BatchAICompatNotSupportedError):
        ResourceManagementClient(object(), SUB).deployments  # noqa: B018


def test_state_is_shared_between_processes(home):
    ResourceManagementClient(object(), SUB).resource_groups.create_or_update("shared", {"location": "westus"})
    code = ("import json; from batchai_compat.resource import ResourceManagementClient as C; "
            f"print(json.dumps([g.name for g in C(object(), {SUB!r}).resource_groups.list()]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == ["shared"]


def test_delete_takes_the_groups_resources_with_it(home):
    rmc = ResourceManagementClient(object(), SUB)
    smc = StorageManagementClient(object(), SUB)
    bai = training.BatchAIManagementClient(object(), SUB)
    for rg in ("doomed", "kept"):
        rmc.resource_groups.create_or_update(rg, {"location": "eastus"})
        bai.workspaces.create(rg, "ws", "eastus").result()
        bai.experiments.create(rg, "ws", "exp").result()
        bai.clusters.create(rg, "ws", "c", models.ClusterCreateParameters(
            vm_size="STANDARD_D1", scale_settings=models.ScaleSettings(
                manual=models.ManualScaleSettings(target_node_count=1)),
            user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="p"))).result()
        smc.storage_accounts.create(rg, f"acct{rg}", StorageAccountCreateParameters(
            sku=Sku(name="Standard_LRS"), kind="Storage", location="eastus")).result()
        key = smc.storage_accounts.list_keys(rg, f"acct{rg}").keys[0].value
        files = FileService(f"acct{rg}", key)
        files.create_share("data")
        files.create_file_from_text("data", None, "x.txt", "payload")
    assert (home / "storage" / "acctdoomed" / "shares" / "data" / "x.txt").exists()

    poller = rmc.resource_groups.delete("doomed")
    assert isinstance(poller, LROPoller)
    assert poller.result() is None
    assert rmc.resource_groups.check_existence("doomed") is False
    assert [w.name for w in bai.workspaces.list_by_resource_group("doomed")] == []
    with pytest.raises(CloudError) as err:
        bai.clusters.get("doomed", "ws", "c")
    assert _code(err.value) == "WorkspaceNotFound"
    assert not (home / "storage" / "acctdoomed").exists()
    assert [a.name for a in smc.storage_accounts.list()] == ["acctkept"]
    # The other group is untouched.
    assert bai.clusters.get("kept", "ws", "c").name == "c"
    assert FileService("acctkept", "any").get_file_to_text("data", None, "x.txt").content == "payload"
    bai.workspaces.delete("kept", "ws").result()


def test_refused_on_the_azureml_backend(home, monkeypatch):
    monkeypatch.setenv("BATCHAI_COMPAT_BACKEND", "azureml")
    with pytest.raises(BatchAICompatNotSupportedError, match="azure-mgmt-resource"):
        ResourceManagementClient(object(), SUB)
    with pytest.raises(BatchAICompatNotSupportedError, match="azure-mgmt-storage"):
        StorageManagementClient(object(), SUB)
    assert ResourceManagementClient(object(), SUB, backend="local").resource_groups.check_existence("x") is False


def _running_processes(marker: str) -> list:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.mark.spawns_processes
def test_deleting_a_group_stops_its_running_jobs_even_without_polling(home):
    rmc = ResourceManagementClient(object(), SUB)
    bai = training.BatchAIManagementClient(object(), SUB)
    rmc.resource_groups.create_or_update("busy", {"location": "eastus"})
    bai.workspaces.create("busy", "ws", "eastus").result()
    bai.experiments.create("busy", "ws", "exp").result()
    cluster = bai.clusters.create("busy", "ws", "c", models.ClusterCreateParameters(
        vm_size="STANDARD_D1", scale_settings=models.ScaleSettings(
            manual=models.ManualScaleSettings(target_node_count=1)),
        user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="p"))).result()
    marker = "61.2345"
    bai.jobs.create("busy", "ws", "exp", "sleeper", models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_JOB_TEMP",
        custom_toolkit_settings=models.CustomToolkitSettings(command_line=f"sleep {marker}"))).result()
    deadline = time.monotonic() + 60
    while bai.jobs.get("busy", "ws", "exp", "sleeper").execution_state != models.ExecutionState.running:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    while not _running_processes(marker):
        assert time.monotonic() < deadline, "the job's process never appeared"
        time.sleep(0.1)

    assert rmc.resource_groups.delete("busy", polling=False).result() is None
    # The group is gone at once, although nobody waits on the poller; its workspace is gone or, as a
    # Batch AI delete in progress, shows provisioningState "deleting" ...
    assert rmc.resource_groups.check_existence("busy") is False
    assert {w.provisioning_state for w in bai.workspaces.list_by_resource_group("busy")} <= {"deleting"}
    # ... and the job's process is stopped (SIGTERM, then SIGKILL after the grace period).
    deadline = time.monotonic() + 15
    while _running_processes(marker):
        assert time.monotonic() < deadline, "the job kept running after its group was deleted"
        time.sleep(0.1)


def test_concurrent_creates_of_one_name_leave_one_account(home):
    for sub in (SUB, OTHER_SUB):
        ResourceManagementClient(object(), sub).resource_groups.create_or_update("rg", {"location": "eastus"})
    params = StorageAccountCreateParameters(sku=Sku(name="Standard_LRS"), kind="Storage", location="eastus")
    results: list = []

    def create(sub: str) -> None:
        try:
            StorageManagementClient(object(), sub).storage_accounts.create("rg", "contested", params).result()
            results.append(("ok", sub))
        except CloudError as exc:
            results.append((exc.error.error, sub))

    threads = [threading.Thread(target=create, args=(sub,)) for sub in (SUB, OTHER_SUB) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = {sub for outcome, sub in results if outcome == "ok"}
    assert len(winners) == 1, results  # repeated creates by the winner are updates, hence "ok"
    assert {outcome for outcome, sub in results if sub not in winners} == {"StorageAccountAlreadyTaken"}
    owner = winners.pop()
    assert [a.name for a in StorageManagementClient(object(), owner).storage_accounts.list()] == ["contested"]
