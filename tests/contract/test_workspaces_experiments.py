"""Behaviours 1-7 of ``docs/service-behaviour.md`` (g): workspaces and experiments, cascade deletes."""

from __future__ import annotations

import pytest
from msrestazure.azure_exceptions import CloudError

from .helpers import EXP, LOCATION, RG, SUB, WS, job_parameters


def test_1_4_create_workspace(client):
    workspace = client.workspaces.create(RG, "testee", LOCATION).result()
    assert workspace.name == "testee"
    assert workspace.id == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/testee"
    assert workspace.type == "Microsoft.BatchAI/workspaces"
    assert workspace.provisioning_state == "succeeded" and workspace.location == LOCATION
    assert workspace.creation_time == workspace.provisioning_state_transition_time
    assert client.workspaces.get(RG, "testee").id == workspace.id
    assert workspace.id in [w.id for w in client.workspaces.list()]
    assert workspace.id in [w.id for w in client.workspaces.list_by_resource_group(RG)]


def test_workspace_update_tags(client):
    client.workspaces.create(RG, "testee", LOCATION, tags={"a": "1"}).result()
    assert client.workspaces.update(RG, "testee", tags={"b": "2"}).tags == {"b": "2"}
    assert client.workspaces.get(RG, "testee").tags == {"b": "2"}


def test_2_delete_workspace(client):
    client.workspaces.create(RG, "testee", LOCATION).result()
    client.workspaces.delete(RG, "testee").result()
    assert list(client.workspaces.list_by_resource_group(RG)) == []


def _workspace_with_everything(ctx, name, experiments=(EXP,)):
    ctx.setup_workspace(name, experiments[0])
    for exp in experiments[1:]:
        ctx.client.experiments.create(RG, name, exp).result()
    cluster = ctx.create_cluster("cluster", target=0, workspace=name)
    for exp in experiments:
        ctx.client.jobs.create(RG, name, exp, "job", job_parameters(cluster.id, "true",
                                                                     std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT"
                                                                     )).result()


def test_3_delete_workspace_cascades_to_its_own_resources_only(ctx):
    client = ctx.client
    for name in ("first", "second"):
        _workspace_with_everything(ctx, name)
    client.workspaces.delete(RG, "first").result()
    with pytest.raises(CloudError) as err:
        client.workspaces.get(RG, "first")
    assert err.value.status_code == 404 and err.value.error.error == "WorkspaceNotFound"
    assert client.workspaces.get(RG, "second").name == "second"
    assert client.clusters.get(RG, "second", "cluster").name == "cluster"
    assert client.experiments.get(RG, "second", EXP).name == EXP
    assert client.jobs.get(RG, "second", EXP, "job").execution_state == "queued"


def test_5_create_experiment(ctx):
    experiment = ctx.client.experiments.create(RG, WS, "testee").result()
    assert experiment.name == "testee"
    assert ctx.client.experiments.get(RG, WS, "testee").id == experiment.id
    assert experiment.id in [e.id for e in ctx.client.experiments.list_by_workspace(RG, WS)]
    assert experiment.provisioning_state == "succeeded"


def test_6_delete_experiment(ctx):
    ctx.client.experiments.create(RG, WS, "testee").result()
    ctx.client.experiments.delete(RG, WS, "testee").result()
    with pytest.raises(CloudError) as err:
        ctx.client.experiments.get(RG, WS, "testee")
    assert err.value.status_code == 404 and err.value.error.error == "ExperimentNotFound"


def test_7_delete_experiment_cascades_to_its_jobs_only(ctx):
    client = ctx.client
    for name in ("first", "second"):
        _workspace_with_everything(ctx, name, experiments=("exp1", "exp2"))
    client.experiments.delete(RG, "first", "exp1").result()
    with pytest.raises(CloudError):
        client.experiments.get(RG, "first", "exp1")
    with pytest.raises(CloudError) as err:
        client.jobs.get(RG, "first", "exp1", "job")
    assert err.value.error.error == "ExperimentNotFound"
    for ws, exp in (("first", "exp2"), ("second", "exp1"), ("second", "exp2")):
        assert client.experiments.get(RG, ws, exp).name == exp
        assert client.jobs.get(RG, ws, exp, "job").execution_state == "queued"
    for ws in ("first", "second"):
        assert client.clusters.get(RG, ws, "cluster").name == "cluster"
