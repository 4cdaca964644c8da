"""A deleted resource stays visible with ``provisioningState`` ``deleting`` until its delete completes
(``docs/service-behaviour.md`` §f.1, §f.3, §f.4; issue #11 item 8): a notebook's last cell that prints a
cluster's state right after ``clusters.delete`` (no ``.result()``) must not get a 404.

The local backend keeps the state for at least its ``delete_seconds`` option (and until the resource's
processes are gone); these tests raise it to 5 s so that a loaded machine cannot close the window between
two statements.
"""

from __future__ import annotations

import pytest
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models

from .helpers import EXP, LOCATION, RG, WS, job_parameters, wait_for

WINDOW = 5.0


@pytest.fixture
def slow(ctx, backend_name):
    if backend_name == "local":
        ctx.client.backend.scheduler.options.delete_seconds = WINDOW
    return ctx


def _missing(call) -> CloudError:
    with pytest.raises(CloudError) as err:
        call()
    assert err.value.status_code == 404
    return err.value


def test_cluster_shows_deleting_until_its_delete_completes(slow):
    ctx = slow
    ctx.create_cluster()
    poller = ctx.client.clusters.delete(RG, WS, "cluster")
    # the notebook's last cell: the cluster's state right after the delete
    cluster = ctx.client.clusters.get(RG, WS, "cluster")
    assert cluster.provisioning_state == "deleting"
    assert [(c.name, c.provisioning_state) for c in ctx.client.clusters.list_by_workspace(RG, WS)] == \
        [("cluster", "deleting")]
    assert not poller.done()
    poller.result(timeout=60)
    assert _missing(lambda: ctx.client.clusters.get(RG, WS, "cluster")).error.error == "ClusterNotFound"
    assert list(ctx.client.clusters.list_by_workspace(RG, WS)) == []


def test_running_job_shows_deleting_until_its_processes_are_gone(slow):
    ctx = slow
    cluster = ctx.create_cluster()
    ctx.create_job("job", job_parameters(cluster.id, "sleep 60"))
    ctx.wait_for_state("job", "running")
    poller = ctx.client.jobs.delete(RG, WS, EXP, "job")
    job = ctx.get_job("job")
    assert job.provisioning_state == "deleting"
    assert job.execution_state in ("terminating", "failed")
    assert [j.provisioning_state for j in ctx.client.jobs.list_by_experiment(RG, WS, EXP)] == ["deleting"]
    with pytest.raises(CloudError) as err:  # its name is not free yet
        ctx.create_job("job", job_parameters(cluster.id, "sleep 60"))
    assert err.value.status_code == 409
    poller.result(timeout=60)
    assert _missing(lambda: ctx.get_job("job")).error.error == "JobNotFound"
    # the job never ran again and its node is free
    assert ctx.wait_for_nodes("cluster", 1).node_state_counts.running_node_count == 0


def test_a_queued_job_being_deleted_is_never_started(slow):
    ctx = slow
    cluster = ctx.create_cluster(target=0)
    ctx.create_job("job", job_parameters(cluster.id, "echo ran"))
    poller = ctx.client.jobs.delete(RG, WS, EXP, "job")
    ctx.client.clusters.update(RG, WS, "cluster", scale_settings=models.ScaleSettings(
        manual=models.ManualScaleSettings(target_node_count=1)))
    ctx.wait_for_nodes("cluster", 1)
    job = ctx.get_job("job")
    assert (job.provisioning_state, job.execution_state) == ("deleting", "queued")
    poller.result(timeout=60)
    _missing(lambda: ctx.get_job("job"))


def test_file_server_workspace_and_experiment_show_deleting(slow):
    ctx = slow
    ctx.client.file_servers.create(RG, WS, "fs", models.FileServerCreateParameters(
        vm_size="STANDARD_D2_V2", ssh_configuration=models.SshConfiguration(
            user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="p")),
        data_disks=models.DataDisks(disk_size_in_gb=10, disk_count=2, storage_account_type="Standard_LRS"))).result()
    poller = ctx.client.file_servers.delete(RG, WS, "fs")
    assert ctx.client.file_servers.get(RG, WS, "fs").provisioning_state == "deleting"
    poller.result(timeout=60)
    _missing(lambda: ctx.client.file_servers.get(RG, WS, "fs"))

    ctx.create_cluster()
    poller = ctx.client.workspaces.delete(RG, WS)
    assert ctx.client.workspaces.get(RG, WS).provisioning_state == "deleting"
    assert ctx.client.experiments.get(RG, WS, EXP).provisioning_state == "deleting"
    assert ctx.client.clusters.get(RG, WS, "cluster").provisioning_state == "deleting"
    assert [w.provisioning_state for w in ctx.client.workspaces.list_by_resource_group(RG)] == ["deleting"]
    poller.result(timeout=60)
    assert _missing(lambda: ctx.client.workspaces.get(RG, WS)).error.error == "WorkspaceNotFound"
    assert list(ctx.client.workspaces.list_by_resource_group(RG)) == []


def test_second_delete_and_create_while_deleting(slow):
    ctx = slow
    ctx.create_cluster()
    first = ctx.client.clusters.delete(RG, WS, "cluster")
    second = ctx.client.clusters.delete(RG, WS, "cluster")  # accepted again, as ARM accepts a repeated DELETE
    with pytest.raises(CloudError) as err:
        ctx.create_cluster(wait=False)
    assert err.value.status_code == 409 and err.value.error.error == "Conflict"
    assert "being deleted" in err.value.message
    assert ctx.client.clusters.get(RG, WS, "cluster").provisioning_state == "deleting"
    second.result(timeout=60)
    assert first.result(timeout=60) is None
    _missing(lambda: ctx.client.clusters.get(RG, WS, "cluster"))
    # once deleted, the name can be used again
    assert ctx.create_cluster().provisioning_state == "succeeded"
    with pytest.raises(CloudError) as err:
        ctx.client.workspaces.create(RG, "other", LOCATION).result()
        ctx.client.workspaces.delete(RG, "other")
        ctx.client.workspaces.create(RG, "other", LOCATION).result()
    assert err.value.status_code == 409


def test_a_delete_nobody_waits_for_still_completes(slow):
    """``polling=False``: no poller runs; a later call's scheduling pass completes the deletion."""
    ctx = slow
    ctx.create_cluster()
    assert ctx.client.clusters.delete(RG, WS, "cluster", polling=False).result() is None
    assert ctx.client.clusters.get(RG, WS, "cluster").provisioning_state == "deleting"
    wait_for(lambda: _gone(lambda: ctx.client.clusters.get(RG, WS, "cluster")), timeout=WINDOW + 30, interval=0.2,
             message="the cluster to be purged")
    # a workspace read runs no scheduling pass: it completes the deletion itself
    assert ctx.client.workspaces.delete(RG, WS, polling=False).result() is None
    assert ctx.client.workspaces.get(RG, WS).provisioning_state == "deleting"
    wait_for(lambda: _gone(lambda: ctx.client.workspaces.get(RG, WS)), timeout=WINDOW + 30, interval=0.2,
             message="the workspace to be purged")


def _gone(get) -> bool:
    try:
        get()
    except CloudError as exc:
        return exc.status_code == 404
    return False
