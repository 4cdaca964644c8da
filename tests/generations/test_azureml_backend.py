"""The pre-workspace generations on the Azure ML backend (real azureml-core against the Azure ML emulator).

Batch AI workspace ``default`` is an Azure ML workspace like any other there: it must exist (or be mapped
with the backend's ``workspace_map=``), the backend does not create Azure ML workspaces unasked.
No job runs here, so the emulator needs no image environments (``image_environments=False``).
"""

from __future__ import annotations

import warnings

import pytest

import batchai_compat
import batchai_compat.v2017_09_01_preview as gen
from batchai_compat.exceptions import BatchAICompatNotSupportedError
from batchai_compat.testing import AzureMLEmulator

SUB, RG = "00000000-0000-0000-0000-000000000000", "batchai_rg"


def _params():
    m = gen.models
    return m.ClusterCreateParameters("northeurope", "STANDARD_NC6",
                                     m.UserAccountSettings("demoUser", admin_user_password="Pa$$w0rd-x"),
                                     scale_settings=m.ScaleSettings(manual=m.ManualScaleSettings(1)))


def test_old_and_new_clients_share_the_default_azure_ml_workspace(tmp_path):
    emu = AzureMLEmulator(workspaces=[(SUB, RG, "default", "northeurope")], root=str(tmp_path / "emu"),
                          image_environments=False)
    with emu, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = gen.BatchAIManagementClient(object(), SUB, backend="azureml", auth=emu.auth())
        new = batchai_compat.BatchAIManagementClient(object(), SUB, backend="azureml", auth=emu.auth())
        cluster = old.clusters.create(RG, "nc6", _params()).result()
        assert (cluster.id, cluster.type, cluster.location) == (
            f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/clusters/nc6",
            "Microsoft.BatchAI/Clusters", "northeurope")
        assert [c.name for c in new.clusters.list_by_workspace(RG, "default")] == ["nc6"]
        assert [c.name for c in old.clusters.list_by_resource_group(RG)] == ["nc6"]
        old.clusters.delete(RG, "nc6").result()
        assert list(old.clusters.list_by_resource_group(RG)) == []
    assert emu.unrouted == [] and emu.errors == []


def test_a_missing_default_azure_ml_workspace_is_explained(tmp_path):
    emu = AzureMLEmulator(workspaces=[], root=str(tmp_path / "emu"), image_environments=False)
    with emu:
        old = gen.BatchAIManagementClient(object(), SUB, backend="azureml", auth=emu.auth())
        with pytest.raises(BatchAICompatNotSupportedError, match="workspace 'default'.*workspace_map"):
            old.clusters.create(RG, "nc6", _params())
    assert emu.unrouted == [] and emu.errors == []
