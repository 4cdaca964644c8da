"""Offline resource groups for the local backend: ``azure.mgmt.resource.ResourceManagementClient``.

The Batch AI recipes called ``utilities.config.create_resource_group(cfg)``, i.e.
``ResourceManagementClient(credentials, subscription_id).resource_groups.create_or_update(...)``.
This module is that client (``azure-mgmt-resource`` 2.0.0, resources API 2018-05-01) with the local
backend's state behind it instead of Azure Resource Manager::

    from azure.mgmt.resource import ResourceManagementClient      # before
    from batchai_compat.resource import ResourceManagementClient  # after (or batchai_compat.install())

Provided: ``resource_groups`` (``create_or_update``, ``get``, ``check_existence``, ``list``,
``update``, ``delete`` — deleting a group deletes the storage accounts and Batch AI workspaces in
it — and ``export_template``, which is refused) with the 2018 models in
:mod:`batchai_compat.resource.models`. The other operation groups of the original client
(``deployments``, ``providers``, ``resources``, ``tags``, ``deployment_operations``) raise
``BatchAICompatNotSupportedError`` when accessed. The state is kept in the local backend's
``state.db`` under ``BATCHAI_COMPAT_HOME``, shared with every client of that home.

On the Azure ML backend use the real ``azure-mgmt-resource``: constructing this client while that
backend is selected raises ``BatchAICompatNotSupportedError``, and ``batchai_compat.install()`` leaves
``azure.mgmt.resource`` alone.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from msrest.service_client import SDKClient

from batchai_compat._arm_client import ArmClientConfiguration, not_provided
from batchai_compat.backends.base import Backend
from batchai_compat.resource import models
from batchai_compat.resource.operations import ResourceGroupsOperations

VERSION = "2.0.0"
API_VERSIONS = ("2016-02-01", "2016-09-01", "2017-05-10", "2018-02-01", "2018-05-01")

__all__ = ["ResourceManagementClient", "ResourceManagementClientConfiguration", "models"]


class ResourceManagementClientConfiguration(ArmClientConfiguration):
    """Configuration for ResourceManagementClient, as in ``azure-mgmt-resource`` 2.0.0.

    :param credentials: Any object (never used: nothing is sent anywhere).
    :param str subscription_id: The ID of the target subscription.
    :param str base_url: Service URL (kept, never contacted).
    """

    user_agent_package = f"resourcemanagementclient/{VERSION}"


def _not_provided(name: str) -> property:
    return not_provided("ResourceManagementClient", name, "resource_groups", "azure-mgmt-resource")


class ResourceManagementClient(SDKClient):
    """Provides operations for working with resource groups, on the local backend.

    :param credentials: Any object; the local backend never uses it.
    :param str subscription_id: The subscription the groups belong to (part of their ids).
    :param str api_version: ``None`` or one of the API versions 2.0.0 knew; every version is
     served with the 2018-05-01 surface (deviation).
    :param str base_url: Service URL (never contacted).
    :param profile: Accepted and ignored (the original took an ``azure.profiles`` profile; its
     default is ``None`` here so that ``azure-common`` is not needed).
    :param backend: As for ``BatchAIManagementClient``; must resolve to ``"local"``.
    :param home: The local backend's home (default ``$BATCHAI_COMPAT_HOME``).
    """

    DEFAULT_API_VERSION = "2018-05-01"

    def __init__(self, credentials: Any, subscription_id: str, api_version: Optional[str] = None,
                 base_url: Optional[str] = None, profile: Any = None, *,
                 backend: Union[str, Backend, None] = None, home: Any = None) -> None:
        from batchai_compat._mgmt._ops import local_state, serializers

        if api_version is not None and api_version not in API_VERSIONS:
            raise NotImplementedError(f"APIVersion {api_version} is not available")
        self.config = ResourceManagementClientConfiguration(credentials, subscription_id, base_url)
        super().__init__(self.config.credentials, self.config)
        self.api_version = api_version or self.DEFAULT_API_VERSION
        self.profile = profile
        self._state = local_state("ResourceManagementClient", backend, home)
        serializer, deserializer = serializers(vars(models))
        self.resource_groups = ResourceGroupsOperations(self._client, self.config, serializer, deserializer,
                                                        self._state, self.DEFAULT_API_VERSION)

    @classmethod
    def models(cls, api_version: str = DEFAULT_API_VERSION) -> Any:
        """The models module (the 2018-05-01 one for every known version)."""
        if api_version not in API_VERSIONS:
            raise NotImplementedError(f"APIVersion {api_version} is not available")
        return models

    deployment_operations = _not_provided("deployment_operations")
    deployments = _not_provided("deployments")
    providers = _not_provided("providers")
    resources = _not_provided("resources")
    tags = _not_provided("tags")

    def close(self) -> None:
        try:
            self._state.close()
        finally:
            super().close()
