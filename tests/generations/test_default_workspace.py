"""Pre-workspace clients address the default workspace ``default`` (and experiment ``default``) of a group."""

from __future__ import annotations

import pytest
from msrestazure.azure_exceptions import CloudError

import batchai_compat
import batchai_compat.models as new_models
import batchai_compat.v2017_09_01_preview as gen_0_2
from batchai_compat.exceptions import BatchAICompatNotSupportedError

SUB = "00000000-0000-0000-0000-000000000000"


@pytest.fixture()
def clients(tmp_path):
    home = str(tmp_path / "home")
    return (gen_0_2.BatchAIManagementClient(object(), SUB, home=home),
            batchai_compat.BatchAIManagementClient(object(), SUB, home=home))


def _params(location, tags=None):
    m = gen_0_2.models
    return m.ClusterCreateParameters(location, "STANDARD_D1", m.UserAccountSettings("demoUser"), tags=tags,
                                     scale_settings=m.ScaleSettings(manual=m.ManualScaleSettings(0)))


@pytest.mark.parametrize("call, code", [
    (lambda c: c.clusters.get("rg", "nc6"), "ClusterNotFound"),
    (lambda c: c.clusters.delete("rg", "nc6").result(), "ClusterNotFound"),
    (lambda c: c.jobs.get("rg", "job"), "JobNotFound"),
    (lambda c: c.jobs.terminate("rg", "job").result(), "JobNotFound"),
    (lambda c: c.file_servers.get("rg", "nfs"), "FileServerNotFound"),
    (lambda c: list(c.jobs.list_output_files("rg", "job", gen_0_2.models.JobsListOutputFilesOptions("OUT"))),
     "JobNotFound"),
], ids=["clusters.get", "clusters.delete", "jobs.get", "jobs.terminate", "file_servers.get", "list_output_files"])
def test_before_anything_exists_the_resource_is_what_is_missing(clients, call, code):
    old, _ = clients
    with pytest.raises(CloudError) as raised:
        call(old)
    assert raised.value.error.error == code  # not WorkspaceNotFound: old code never made a workspace
    assert list(old.clusters.list_by_resource_group("rg")) == [] and list(old.jobs.list()) == []


def test_the_first_create_makes_the_workspace_in_its_location_and_later_ones_share_it(clients):
    old, new = clients
    first = old.clusters.create("rg", "a", _params("eastus", tags={"team": "x"})).result()
    second = old.clusters.create("rg", "b", _params("westus")).result()
    assert (first.location, second.location) == ("eastus", "eastus")  # the workspace's location
    assert first.tags is None  # 2018-05-01 clusters have no tags: documented, not kept
    assert new.workspaces.get("rg", "default").location == "eastus"
    old.clusters.create("other_rg", "c", _params("northeurope")).result()
    assert sorted(c.name for c in old.clusters.list()) == ["a", "b", "c"]
    assert [c.name for c in old.clusters.list_by_resource_group("other_rg")] == ["c"]
    # paging of the subscription-wide list honours max_results
    pages = old.clusters.list(gen_0_2.models.ClustersListOptions(max_results=2))
    assert len(pages.advance_page()) == 2 and pages.next_link


def test_only_the_default_workspace_is_seen_by_old_clients(clients):
    old, new = clients
    new.workspaces.create("rg", "elsewhere", "eastus").result()
    new.clusters.create("rg", "elsewhere", "hidden", new_models.ClusterCreateParameters(
        vm_size="STANDARD_D1", user_account_settings=new_models.UserAccountSettings(admin_user_name="u"))).result()
    assert list(old.clusters.list_by_resource_group("rg")) == [] and list(old.clusters.list()) == []
    with pytest.raises(CloudError, match="ClusterNotFound"):
        old.clusters.get("rg", "hidden")


def test_odata_filter_and_select_are_refused_not_ignored(clients):
    old, _ = clients
    for options in (gen_0_2.models.ClustersListOptions(filter="name eq 'a'"),
                    gen_0_2.models.ClustersListOptions(select="name")):
        with pytest.raises(BatchAICompatNotSupportedError, match="not implemented"):
            list(old.clusters.list(options))


def test_a_default_workspace_made_meanwhile_elsewhere_is_used(tmp_path):
    """Two programs creating the first cluster of a group at once: the one that loses the race to make
    workspace ``default`` (in another location) still gets its cluster, in the winner's workspace."""
    from batchai_compat.backends.local.backend import LocalBackend

    home = str(tmp_path / "home")
    other = batchai_compat.BatchAIManagementClient(object(), SUB, home=home)

    class RacedBackend(LocalBackend):
        raced = False

        def get_workspace(self, ref):
            if not self.raced:  # the other program creates the workspace right after our look-up
                self.raced = True
                try:
                    return super().get_workspace(ref)
                finally:
                    other.workspaces.create(ref.resource_group, ref.workspace, "westus").result()
            return super().get_workspace(ref)

    old = gen_0_2.BatchAIManagementClient(object(), SUB, backend=RacedBackend(home=home))
    cluster = old.clusters.create("rg", "nc6", _params("eastus")).result()
    assert (cluster.name, cluster.location) == ("nc6", "westus")
