"""batchai_compat.resource on the local backend: what a notebook does with resource groups."""

from __future__ import annotations

import json
import subprocess
import sys

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
