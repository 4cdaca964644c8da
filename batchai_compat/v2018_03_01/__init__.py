"""azure-mgmt-batchai 1.0.x (REST API 2018-03-01) on the batchai_compat backends.

``from batchai_compat.v2018_03_01 import BatchAIManagementClient, models`` replaces
``from azure.mgmt.batchai import BatchAIManagementClient, models`` of 1.0.x code. Pre-workspace calls
map onto the default workspace and experiment; see :mod:`batchai_compat._generations`.
"""

from batchai_compat import _generations
from batchai_compat._client import BatchAIManagementClientConfiguration
from batchai_compat.v2018_03_01 import models, operations

BatchAIManagementClient = _generations.make_client(__name__, models, {
    "operations": operations.Operations, "usage": operations.UsageOperations,
    "clusters": operations.ClustersOperations, "jobs": operations.JobsOperations,
    "file_servers": operations.FileServersOperations})

VERSION = "1.0.1"

__all__ = ["BatchAIManagementClient", "BatchAIManagementClientConfiguration", "models"]
