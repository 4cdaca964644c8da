"""The 7.0.0 (track 2) generation on the Azure ML backend (real azureml-core against the Azure ML emulator).

Same backend, same operation layer as the 2.0.0 client: a track-2 client and a 2.0.0 client share the Azure
ML workspace. No job runs here, so the emulator needs no image environments (``image_environments=False``).
"""

from __future__ import annotations

import warnings

import pytest

import batchai_compat
from batchai_compat.testing import AzureMLEmulator

SUB, RG = "00000000-0000-0000-0000-000000000000", "batchai_rg"


def test_track2_and_2_0_0_clients_share_an_azure_ml_workspace(tmp_path):
    from azure.core.exceptions import ResourceNotFoundError
    from azure.core.polling import LROPoller

    from batchai_compat.v7 import BatchAI, models

    emu = AzureMLEmulator(workspaces=[(SUB, RG, "ws", "northeurope")], root=str(tmp_path / "emu"),
                          image_environments=False)
    with emu, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = BatchAI(object(), SUB, backend="azureml", auth=emu.auth())
        old = batchai_compat.BatchAIManagementClient(object(), SUB, backend="azureml", auth=emu.auth())
        poller = new.clusters.begin_create(RG, "ws", "nc6", models.ClusterCreateParameters(
            vm_size="STANDARD_NC6",
            user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="Pa$$w0rd-x"),
            scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1))))
        assert isinstance(poller, LROPoller)
        cluster = poller.result()
        assert isinstance(cluster, models.Cluster) and cluster.vm_size == "STANDARD_NC6"
        assert [c.name for c in old.clusters.list_by_workspace(RG, "ws")] == ["nc6"]
        with pytest.raises(ResourceNotFoundError) as missing:
            new.clusters.get(RG, "ws", "nope")
        assert missing.value.status_code == 404 and missing.value.error.code == "ClusterNotFound"
        new.clusters.begin_delete(RG, "ws", "nc6").result()
        assert list(old.clusters.list_by_workspace(RG, "ws")) == []
    assert emu.unrouted == [] and emu.errors == []
