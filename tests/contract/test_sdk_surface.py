"""Behaviours 36, 37 and 39 of ``docs/service-behaviour.md`` (g) plus SDK conventions: usages, client-side
validation before any backend call, paging, ``polling=False``, operations list."""

from __future__ import annotations

import pytest
from msrest.exceptions import ValidationError
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models

from .helpers import EXP, LOCATION, RG, WS


def test_36_usages(ctx):
    ctx.create_cluster(target=1)
    usages = list(ctx.client.usages.list(LOCATION))
    assert usages and all(u.name is not None and u.unit is not None for u in usages)
    by_name = {u.name.value: u for u in usages}
    assert by_name["Clusters"].current_value == 1
    assert by_name["Total Cluster LowPriority Regional vCPUs"].current_value == 1


def test_37_validation_happens_before_the_backend(ctx):
    with pytest.raises(ValidationError):
        ctx.client.jobs.get(RG, WS, EXP, "bad name!")
    pager = ctx.client.jobs.list_output_files(RG, WS, EXP, "job", models.JobsListOutputFilesOptions(
        outputdirectoryid="x", linkexpiryinminutes=1))
    with pytest.raises(ValidationError):
        list(pager)
    errors = models.JobCreateParameters(cluster=None, node_count=None, std_out_err_path_prefix=None).validate()
    assert len(errors) == 3


def test_not_found_errors_are_cloud_errors(ctx):
    for call, code in ((lambda: ctx.client.clusters.get(RG, WS, "nope"), "ClusterNotFound"),
                       (lambda: ctx.client.jobs.get(RG, WS, EXP, "nope"), "JobNotFound"),
                       (lambda: ctx.client.experiments.get(RG, WS, "nope"), "ExperimentNotFound"),
                       (lambda: ctx.client.workspaces.get(RG, "nope"), "WorkspaceNotFound"),
                       (lambda: ctx.client.file_servers.get(RG, WS, "nope"), "FileServerNotFound")):
        with pytest.raises(CloudError) as err:
            call()
        assert err.value.status_code == 404 and err.value.error.error == code


def test_paging_with_max_results_one(ctx):
    for name in ("a", "b", "c"):
        ctx.client.experiments.create(RG, WS, name).result()
    options = models.ExperimentsListByWorkspaceOptions(max_results=1)
    assert [e.name for e in ctx.client.experiments.list_by_workspace(RG, WS, options)] == [EXP, "a", "b", "c"]


def test_polling_false_for_cluster_create(ctx):
    from .helpers import cluster_parameters

    assert ctx.client.clusters.create(RG, WS, "c", cluster_parameters(0), polling=False).result() is None
    assert ctx.client.clusters.get(RG, WS, "c").name == "c"


def test_operations_list(client):
    names = [op.name for op in client.operations.list()]
    assert "Microsoft.BatchAI/workspaces/experiments/jobs/write" in names


def test_repeating_a_create_is_idempotent_and_a_different_one_conflicts(ctx):
    """Re-running a notebook that was interrupted must not fail on resources it already made."""
    from .helpers import cluster_parameters, job_parameters

    first = ctx.create_cluster(target=0, wait=False)
    again = ctx.client.clusters.create(RG, WS, "cluster", cluster_parameters(0)).result()
    assert again.id == first.id and again.creation_time == first.creation_time
    with pytest.raises(CloudError) as err:
        ctx.client.clusters.create(RG, WS, "cluster", cluster_parameters(2)).result()
    assert err.value.status_code == 409 and "different parameters" in err.value.message

    job = ctx.client.jobs.create(RG, WS, EXP, "job", job_parameters(first.id, "true")).result()
    same = ctx.client.jobs.create(RG, WS, EXP, "job", job_parameters(first.id, "true")).result()
    assert same.job_output_directory_path_segment == job.job_output_directory_path_segment
    assert len(list(ctx.client.jobs.list_by_experiment(RG, WS, EXP))) == 1
    with pytest.raises(CloudError) as err:
        ctx.client.jobs.create(RG, WS, EXP, "job", job_parameters(first.id, "false"))
    assert err.value.status_code == 409
