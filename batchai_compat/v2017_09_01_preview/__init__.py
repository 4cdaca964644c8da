"""azure-mgmt-batchai 0.2.0 (REST API 2017-09-01-preview) on the batchai_compat backends.

``import batchai_compat.v2017_09_01_preview as batchai`` replaces ``import azure.mgmt.batchai as batchai``
in code pinned to ``azure-mgmt-batchai ~= 0.2.0`` (the CNTK recipes). Clusters, jobs and file servers
are those of the resource group's default workspace; see :mod:`batchai_compat._generations`.
"""

from batchai_compat import _generations
from batchai_compat._client import BatchAIManagementClientConfiguration
from batchai_compat.v2017_09_01_preview import models, operations

BatchAIManagementClient = _generations.make_client(__name__, models, {
    "operations": operations.Operations, "clusters": operations.ClustersOperations,
    "jobs": operations.JobsOperations, "file_servers": operations.FileServersOperations})

VERSION = "0.2.0"

__all__ = ["BatchAIManagementClient", "BatchAIManagementClientConfiguration", "models"]
