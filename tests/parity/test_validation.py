"""Client-side validation raises the same ValidationError, at the same moment, as 2.0.0.

The original SDK validates before sending anything, so for invalid input both clients can be
driven side by side without a network: the original raises before it would open a connection.
"""

from __future__ import annotations

import azure.mgmt.batchai as original
import azure.mgmt.batchai.models as their_models
import pytest
from msrest.exceptions import ValidationError

import batchai_compat
import batchai_compat.models as our_models

SUB = "00000000-0000-0000-0000-000000000000"
LONG = "x" * 65


@pytest.fixture()
def pair(tmp_path):
    return (
        batchai_compat.BatchAIManagementClient(object(), SUB, home=tmp_path),
        original.BatchAIManagementClient(object(), SUB),
    )


def _job_parameters(models):
    return models.JobCreateParameters(
        cluster=models.ResourceId(
            id="/subscriptions/s/resourceGroups/r/providers/Microsoft.BatchAI/workspaces/w/clusters/c"
        ),
        node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        custom_toolkit_settings=models.CustomToolkitSettings(command_line="true"),
    )


# (description, call(client, models)) -- each raises ValidationError at call time
EAGER = [
    ("bad job name", lambda c, m: c.jobs.get("rg", "ws", "exp", "bad name!")),
    ("65-char workspace", lambda c, m: c.workspaces.get("rg", LONG)),
    ("empty cluster name", lambda c, m: c.clusters.get("rg", "ws", "")),
    ("bad resource group", lambda c, m: c.experiments.get("r g", "ws", "exp")),
    ("None experiment", lambda c, m: c.experiments.create("rg", "ws", None)),
    ("workspace create without location", lambda c, m: c.workspaces.create("rg", "ws", None)),
    (
        "job without cluster",
        lambda c, m: c.jobs.create(
            "rg", "ws", "exp", "job", m.JobCreateParameters(cluster=None, node_count=1, std_out_err_path_prefix="p")
        ),
    ),
    (
        "job with bad name and bad body",
        lambda c, m: c.jobs.create(
            "rg", "ws", "exp", "a/b", m.JobCreateParameters(cluster=None, node_count=None, std_out_err_path_prefix=None)
        ),
    ),
    (
        "cluster without vm size",
        lambda c, m: c.clusters.create(
            "rg",
            "ws",
            "c",
            m.ClusterCreateParameters(vm_size=None, user_account_settings=m.UserAccountSettings(admin_user_name="u")),
        ),
    ),
    (
        "file server without disks",
        lambda c, m: c.file_servers.create(
            "rg",
            "ws",
            "fs",
            m.FileServerCreateParameters(
                vm_size="STANDARD_D1",
                ssh_configuration=m.SshConfiguration(user_account_settings=m.UserAccountSettings(admin_user_name="u")),
                data_disks=None,
            ),
        ),
    ),
    ("terminate bad name", lambda c, m: c.jobs.terminate("rg", "ws", "exp", LONG)),
    ("delete bad name", lambda c, m: c.clusters.delete("rg", "ws", "bad name")),
    (
        "update manual scale without target",
        lambda c, m: c.clusters.update(
            "rg",
            "ws",
            "c",
            m.ScaleSettings(auto_scale=m.AutoScaleSettings(minimum_node_count=0, maximum_node_count=None)),
        ),
    ),
]

# Paged operations validate lazily, on the first next().
LAZY = [
    (
        "output files without id",
        lambda c, m: c.jobs.list_output_files(
            "rg", "ws", "exp", "job", m.JobsListOutputFilesOptions(outputdirectoryid=None)
        ),
    ),
    (
        "link expiry below 5",
        lambda c, m: c.jobs.list_output_files(
            "rg", "ws", "exp", "job", m.JobsListOutputFilesOptions(outputdirectoryid="x", linkexpiryinminutes=1)
        ),
    ),
    (
        "link expiry above 600",
        lambda c, m: c.jobs.list_output_files(
            "rg", "ws", "exp", "job", m.JobsListOutputFilesOptions(outputdirectoryid="x", linkexpiryinminutes=601)
        ),
    ),
    (
        "maxresults 0",
        lambda c, m: c.jobs.list_by_experiment("rg", "ws", "exp", m.JobsListByExperimentOptions(max_results=0)),
    ),
    ("maxresults 1001", lambda c, m: c.workspaces.list(m.WorkspacesListOptions(max_results=1001))),
    ("bad location", lambda c, m: c.usages.list("north europe")),
    ("bad rg in list", lambda c, m: c.workspaces.list_by_resource_group("r/g")),
    ("bad ws in list", lambda c, m: c.clusters.list_by_workspace("rg", LONG)),
    ("bad name in login info", lambda c, m: c.clusters.list_remote_login_information("rg", "ws", "a b")),
]


@pytest.mark.parametrize("description,call", EAGER, ids=[d for d, _ in EAGER])
def test_eager_validation_matches_original(pair, description, call):
    ours, theirs = pair
    with pytest.raises(ValidationError) as their_error:
        call(theirs, their_models)
    with pytest.raises(ValidationError) as our_error:
        call(ours, our_models)
    assert str(our_error.value) == str(their_error.value)


@pytest.mark.parametrize("description,call", LAZY, ids=[d for d, _ in LAZY])
def test_paged_validation_is_lazy_and_matches_original(pair, description, call):
    ours, theirs = pair
    their_pages = call(theirs, their_models)  # no error yet
    our_pages = call(ours, our_models)
    with pytest.raises(ValidationError) as their_error:
        next(their_pages)
    with pytest.raises(ValidationError) as our_error:
        next(our_pages)
    assert str(our_error.value) == str(their_error.value)


def test_job_create_parameters_validate_lists_three_missing_fields():
    nothing = {"cluster": None, "node_count": None, "std_out_err_path_prefix": None}
    errors = our_models.JobCreateParameters(**nothing).validate()
    assert sorted(map(str, errors)) == sorted(map(str, their_models.JobCreateParameters(**nothing).validate()))
    assert len(errors) == 3
