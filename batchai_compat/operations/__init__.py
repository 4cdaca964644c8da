"""The seven operation groups, named and placed as in ``azure.mgmt.batchai.operations``."""

from batchai_compat._generation_hints import install_pre_workspace_hints
from batchai_compat.operations.clusters_operations import ClustersOperations
from batchai_compat.operations.experiments_operations import ExperimentsOperations
from batchai_compat.operations.file_servers_operations import FileServersOperations
from batchai_compat.operations.jobs_operations import JobsOperations
from batchai_compat.operations.operations import Operations
from batchai_compat.operations.usages_operations import UsagesOperations
from batchai_compat.operations.workspaces_operations import WorkspacesOperations
from batchai_compat.v7._hints import install_begin_hints

# A 0.2.0/1.0.x-shaped call (``clusters.create(rg, name, params)``) names the generation it belongs to.
install_pre_workspace_hints(ClustersOperations, JobsOperations, FileServersOperations)
# So does a 7.0.0 (track 2) one: ``jobs.begin_create(...)`` names batchai_compat.v7.
install_begin_hints(ClustersOperations, ExperimentsOperations, FileServersOperations, JobsOperations,
                    WorkspacesOperations)

__all__ = [
    "ClustersOperations",
    "ExperimentsOperations",
    "FileServersOperations",
    "JobsOperations",
    "Operations",
    "UsagesOperations",
    "WorkspacesOperations",
]
