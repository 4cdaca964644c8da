"""``BatchAIManagementClient``: the 2.0.0 client, with a backend behind it instead of HTTP."""

from __future__ import annotations

from typing import Any, Optional, Union

from msrest import Deserializer, Serializer
from msrest.service_client import SDKClient

from batchai_compat import models
from batchai_compat._arm_client import ArmClientConfiguration
from batchai_compat._version import VERSION
from batchai_compat.backends.base import Backend
from batchai_compat.operations import (
    ClustersOperations,
    ExperimentsOperations,
    FileServersOperations,
    JobsOperations,
    Operations,
    UsagesOperations,
    WorkspacesOperations,
)


class BatchAIManagementClientConfiguration(ArmClientConfiguration):
    """Configuration for BatchAIManagementClient, as in azure-mgmt-batchai 2.0.0.

    :param credentials: Credentials for Azure. The local backend accepts any object and never
     uses it; the azureml backend turns it into azureml authentication.
    :param str subscription_id: The subscription id; part of every resource id.
    :param str base_url: Service URL; appears in ``next_link`` values only.
    """

    user_agent_package = f"azure-mgmt-batchai/{VERSION}"


class BatchAIManagementClient(SDKClient):
    """The Azure BatchAI Management API, served by a batchai_compat backend.

    :ivar config: Configuration for client.
    :vartype config: BatchAIManagementClientConfiguration
    :ivar operations: Operations operations
    :vartype operations: batchai_compat.operations.Operations
    :ivar usages: Usages operations
    :vartype usages: batchai_compat.operations.UsagesOperations
    :ivar workspaces: Workspaces operations
    :vartype workspaces: batchai_compat.operations.WorkspacesOperations
    :ivar experiments: Experiments operations
    :vartype experiments: batchai_compat.operations.ExperimentsOperations
    :ivar jobs: Jobs operations
    :vartype jobs: batchai_compat.operations.JobsOperations
    :ivar file_servers: FileServers operations
    :vartype file_servers: batchai_compat.operations.FileServersOperations
    :ivar clusters: Clusters operations
    :vartype clusters: batchai_compat.operations.ClustersOperations

    :param credentials: Credentials needed for the client to connect to Azure (any object for
     the local backend).
    :param str subscription_id: The subscriptionID for the Azure user.
    :param str base_url: Service URL
    :param backend: ``"local"`` (default), ``"azureml"``, another registered name, or a
     :class:`~batchai_compat.backends.base.Backend` instance. When omitted, the
     ``BATCHAI_COMPAT_BACKEND`` variable and then the config file decide (see
     :mod:`batchai_compat.backends.registry`).
    :param options: Backend options, e.g. ``home=`` for the local backend.
    """

    def __init__(
        self,
        credentials: Any,
        subscription_id: str,
        base_url: Optional[str] = None,
        *,
        backend: Union[str, Backend, None] = None,
        **options: Any,
    ) -> None:
        from batchai_compat.backends.registry import get_backend

        self.config = BatchAIManagementClientConfiguration(credentials, subscription_id, base_url)
        super().__init__(self.config.credentials, self.config)

        client_models = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
        self.api_version = "2018-05-01"
        self._serialize = Serializer(client_models)
        self._deserialize = Deserializer(client_models)
        self._backend = get_backend(backend, **options)
        self._backend.attach_client(credentials, subscription_id)

        groups = (self._client, self.config, self._serialize, self._deserialize, self._backend)
        self.operations = Operations(*groups)
        self.usages = UsagesOperations(*groups)
        self.workspaces = WorkspacesOperations(*groups)
        self.experiments = ExperimentsOperations(*groups)
        self.jobs = JobsOperations(*groups)
        self.file_servers = FileServersOperations(*groups)
        self.clusters = ClustersOperations(*groups)

    @property
    def backend(self) -> Backend:
        """The engine serving this client (read-only)."""
        return self._backend

    def close(self) -> None:
        """Close the backend and the underlying msrest client."""
        try:
            self._backend.close()
        finally:
            super().close()
