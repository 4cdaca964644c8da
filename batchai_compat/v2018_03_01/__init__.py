"""azure-mgmt-batchai 1.0.x (REST API 2018-03-01), served by the batchai_compat backends.

Pick this generation with one line::

    from batchai_compat.v2018_03_01 import BatchAIManagementClient, models   # was: from azure.mgmt.batchai ...

Clusters, jobs and file servers live in the resource group's default workspace ``default`` (jobs in
its experiment ``default``), so 2.0.0 code sees them too; see :mod:`batchai_compat._generations`.
"""

from batchai_compat import _generations
from batchai_compat._client import BatchAIManagementClientConfiguration
from batchai_compat.v2018_03_01 import models
from batchai_compat.v2018_03_01.operations import (
    ClustersOperations,
    FileServersOperations,
    JobsOperations,
    Operations,
    UsageOperations,
)

BatchAIManagementClient = _generations.make_client(
    models,
    {"operations": Operations, "usage": UsageOperations, "clusters": ClustersOperations, "jobs": JobsOperations,
     "file_servers": FileServersOperations},
    "2018-03-01",
    """The Azure BatchAI Management API of azure-mgmt-batchai 1.0.x (2018-03-01), served by a backend.

    :param credentials: Credentials (any object for the local backend).
    :param str subscription_id: The subscriptionID for the Azure user.
    :param str base_url: Service URL
    :param backend: as for :class:`batchai_compat.BatchAIManagementClient`.
    :param options: Backend options, e.g. ``home=`` for the local backend.
    """,
)
BatchAIManagementClient.__module__ = __name__

VERSION = "1.0.1"

__all__ = ["BatchAIManagementClient", "BatchAIManagementClientConfiguration", "models"]
