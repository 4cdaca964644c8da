"""azure-mgmt-batchai 0.2.0 (REST API 2017-09-01-preview), served by the batchai_compat backends.

Pick this generation with one line::

    import batchai_compat.v2017_09_01_preview as batchai     # was: import azure.mgmt.batchai as batchai

Clusters, jobs and file servers live in the resource group's default workspace ``default`` (jobs in
its experiment ``default``), so 2.0.0 code sees them too; see :mod:`batchai_compat._generations`.
"""

from batchai_compat import _generations
from batchai_compat._client import BatchAIManagementClientConfiguration
from batchai_compat.v2017_09_01_preview import models
from batchai_compat.v2017_09_01_preview.operations import (
    ClustersOperations,
    FileServersOperations,
    JobsOperations,
    Operations,
)

BatchAIManagementClient = _generations.make_client(
    models,
    {"operations": Operations, "clusters": ClustersOperations, "jobs": JobsOperations,
     "file_servers": FileServersOperations},
    "2017-09-01-preview",
    """The Azure BatchAI Management API of azure-mgmt-batchai 0.2.0 (2017-09-01-preview), served by a backend.

    :param credentials: Credentials (any object for the local backend).
    :param str subscription_id: The subscriptionID for the Azure user.
    :param str base_url: Service URL
    :param backend: as for :class:`batchai_compat.BatchAIManagementClient`.
    :param options: Backend options, e.g. ``home=`` for the local backend.
    """,
)
BatchAIManagementClient.__module__ = __name__

VERSION = "0.2.0"

__all__ = ["BatchAIManagementClient", "BatchAIManagementClientConfiguration", "models"]
