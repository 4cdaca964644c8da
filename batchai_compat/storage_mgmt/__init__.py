"""Offline storage accounts for the local backend: ``azure.mgmt.storage.StorageManagementClient``.

Batch AI notebooks created storage accounts and read their keys around the Batch AI calls
(``storage_accounts.create(...).result()``, ``list_keys(...).keys[0].value`` handed to
``FileService``/``BlockBlobService``). This module is that client (``azure-mgmt-storage`` 2.0.0, API
2018-02-01) with the local backend's state behind it. The name says what it manages: the
*management* of storage accounts, beside :mod:`batchai_compat.storage` (the data-plane
``BlockBlobService``/``FileService``)::

    from azure.mgmt.storage import StorageManagementClient           # before
    from batchai_compat.storage_mgmt import StorageManagementClient  # after (or batchai_compat.install())

Provided: ``storage_accounts`` (``create``, ``get_properties``, ``update``, ``list``,
``list_by_resource_group``, ``list_keys``, ``regenerate_key``, ``delete``,
``check_name_availability``; ``list_account_sas``/``list_service_sas`` are refused) with the 2018
models in :mod:`batchai_compat.storage_mgmt.models`. An account lives in a resource group of
:mod:`batchai_compat.resource` (create the group first, as on Azure); its data is the local storage
root ``$BATCHAI_COMPAT_HOME/storage/<name>``. Names are 3-24 lower-case letters and digits, unique
per ``BATCHAI_COMPAT_HOME``. The other operation groups (``blob_containers``, ``operations``,
``skus``, ``usage``, ``usages``) raise ``BatchAICompatNotSupportedError`` when accessed.

On the Azure ML backend use the real ``azure-mgmt-storage``: constructing this client while that
backend is selected raises ``BatchAICompatNotSupportedError``, and ``batchai_compat.install()`` leaves
``azure.mgmt.storage`` alone.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from msrest.service_client import SDKClient

from batchai_compat._arm_client import ArmClientConfiguration, not_provided
from batchai_compat.backends.base import Backend
from batchai_compat.storage_mgmt import models
from batchai_compat.storage_mgmt.operations import StorageAccountsOperations

VERSION = "2.0.0"
API_VERSIONS = ("2015-06-15", "2016-01-01", "2016-12-01", "2017-06-01", "2017-10-01", "2018-02-01",
                "2018-03-01-preview")

__all__ = ["StorageManagementClient", "StorageManagementClientConfiguration", "models"]


class StorageManagementClientConfiguration(ArmClientConfiguration):
    """Configuration for StorageManagementClient, as in ``azure-mgmt-storage`` 2.0.0.

    :param credentials: Any object (never used: nothing is sent anywhere).
    :param str subscription_id: The ID of the target subscription.
    :param str base_url: Service URL (kept, never contacted).
    """

    user_agent_package = f"azure-mgmt-storage/{VERSION}"


def _not_provided(name: str) -> property:
    return not_provided("StorageManagementClient", name, "storage_accounts", "azure-mgmt-storage")


class StorageManagementClient(SDKClient):
    """The Azure Storage Management API (storage accounts), on the local backend.

    :param credentials: Any object; the local backend never uses it.
    :param str subscription_id: The subscription the accounts belong to.
    :param str api_version: ``None`` or one of the API versions 2.0.0 knew; every version is
     served with the 2018-02-01 surface (deviation).
    :param str base_url: Service URL (never contacted).
    :param profile: Accepted and ignored (default ``None`` instead of ``KnownProfiles.default``).
    :param backend: As for ``BatchAIManagementClient``; must resolve to ``"local"``.
    :param home: The local backend's home (default ``$BATCHAI_COMPAT_HOME``).
    """

    DEFAULT_API_VERSION = "2018-02-01"

    def __init__(self, credentials: Any, subscription_id: str, api_version: Optional[str] = None,
                 base_url: Optional[str] = None, profile: Any = None, *,
                 backend: Union[str, Backend, None] = None, home: Any = None) -> None:
        from batchai_compat._mgmt._ops import local_state, serializers

        if api_version is not None and api_version not in API_VERSIONS:
            raise NotImplementedError(f"APIVersion {api_version} is not available")
        self.config = StorageManagementClientConfiguration(credentials, subscription_id, base_url)
        super().__init__(self.config.credentials, self.config)
        self.api_version = api_version or self.DEFAULT_API_VERSION
        self.profile = profile
        self._state = local_state("StorageManagementClient", backend, home)
        serializer, deserializer = serializers(vars(models))
        self.storage_accounts = StorageAccountsOperations(self._client, self.config, serializer, deserializer,
                                                          self._state, self.DEFAULT_API_VERSION)

    @classmethod
    def models(cls, api_version: str = DEFAULT_API_VERSION) -> Any:
        """The models module (the 2018-02-01 one for every known version)."""
        if api_version not in API_VERSIONS:
            raise NotImplementedError(f"APIVersion {api_version} is not available")
        return models

    blob_containers = _not_provided("blob_containers")
    operations = _not_provided("operations")
    skus = _not_provided("skus")
    usage = _not_provided("usage")
    usages = _not_provided("usages")

    def close(self) -> None:
        try:
            self._state.close()
        finally:
            super().close()
