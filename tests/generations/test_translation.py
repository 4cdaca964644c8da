"""Old-shape bodies reach the backends as 2018-05-01 bodies, and come back in the old shape (one place:
``batchai_compat._generations.Translator``): seen through a 2.0.0 client on the same home."""

from __future__ import annotations

import batchai_compat
import batchai_compat.v2017_09_01_preview as gen_0_2

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg"
OLD_PREFIX = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI"


def test_cluster_and_job_bodies_both_ways(tmp_path):
    m = gen_0_2.models
    home = str(tmp_path / "home")
    old = gen_0_2.BatchAIManagementClient(object(), SUB, home=home)
    new = batchai_compat.BatchAIManagementClient(object(), SUB, home=home)

    setup = m.SetupTask("echo hi", "$AZ_BATCHAI_MOUNT_ROOT/logs", environment_variables=[m.EnvironmentSetting("A")],
                        run_elevated=True)
    old.clusters.create(RG, "c", m.ClusterCreateParameters(
        "eastus", "STANDARD_D1", m.UserAccountSettings("u"), tags={"t": "v"},
        scale_settings=m.ScaleSettings(manual=m.ManualScaleSettings(0)),
        node_setup=m.NodeSetup(setup_task=setup))).result()
    seen = new.clusters.get(RG, "default", "c")
    assert [(e.name, e.value) for e in seen.node_setup.setup_task.environment_variables] == [("A", "")]
    assert seen.id == f"{OLD_PREFIX}/workspaces/default/clusters/c"

    old.jobs.create(RG, "j", m.JobCreateParameters(
        "eastus", m.ResourceId(f"{OLD_PREFIX}/clusters/c"), 1, "$AZ_BATCHAI_MOUNT_ROOT/logs", priority=-3,
        experiment_name="label", output_directories=[m.OutputDirectory("O", "$AZ_BATCHAI_MOUNT_ROOT/o", type="model",
                                                                       create_new=False)],
        custom_toolkit_settings=m.CustomToolkitSettings("true"))).result()
    job = new.jobs.get(RG, "default", "default", "j")
    assert job.scheduling_priority == "low"
    assert job.cluster.id == f"{OLD_PREFIX}/workspaces/default/clusters/c"
    assert [d.id for d in job.output_directories] == ["O"]
    back = old.jobs.get(RG, "j")
    assert (back.priority, back.cluster.id, back.id, back.type, back.location) == (
        -1000, f"{OLD_PREFIX}/clusters/c", f"{OLD_PREFIX}/jobs/j", "Microsoft.BatchAI/Jobs", "eastus")
    assert back.experiment_name is None and back.tags is None  # documented: not kept


def test_ids_map_only_the_default_workspace():
    from batchai_compat._generations import Translator, new_to_old_id, old_to_new_id

    mounts = {"fileServers": [{"fileServer": {"id": f"{OLD_PREFIX}/fileServers/nfs"}, "relativeMountPath": "nfs"}]}
    _, body = Translator("2017-09-01-preview").job_request({"location": "x", "properties": {"mountVolumes": mounts}})
    assert body["properties"]["mountVolumes"]["fileServers"][0]["fileServer"]["id"] == \
        f"{OLD_PREFIX}/workspaces/default/fileServers/nfs"

    assert old_to_new_id(f"{OLD_PREFIX}/jobs/j") == f"{OLD_PREFIX}/workspaces/default/experiments/default/jobs/j"
    assert old_to_new_id(f"{OLD_PREFIX}/fileServers/f") == f"{OLD_PREFIX}/workspaces/default/fileServers/f"
    assert new_to_old_id(f"{OLD_PREFIX}/workspaces/default/experiments/default/jobs/j") == f"{OLD_PREFIX}/jobs/j"
    other = f"{OLD_PREFIX}/workspaces/ws/clusters/c"
    subnet = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    assert old_to_new_id(other) == new_to_old_id(other) == other
    assert old_to_new_id(subnet) == new_to_old_id(subnet) == subnet
