"""``StorageAccountsOperations``: ``client.storage_accounts`` of ``azure-mgmt-storage`` 2.0.0 (API 2018-02-01)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from batchai_compat._mgmt._ops import RESOURCE_GROUP, ArmOperationGroup
from batchai_compat.backends.base import Body, completed
from batchai_compat.backends.errors import NotSupported
from batchai_compat.storage_mgmt import models


class StorageAccountsOperations(ArmOperationGroup):
    """StorageAccountsOperations operations, on the local backend's state.

    An account is the directory ``$BATCHAI_COMPAT_HOME/storage/<name>`` that the local
    ``BlockBlobService``/``FileService`` and the local backend's mounts use. Deviations (also in
    ``docs/compatibility.md``): ``create`` is ``Succeeded`` at once; ``primary_endpoints`` are
    loopback URLs (``http://127.0.0.1:<port>/<name>/``, the storage emulator's ports, where nothing
    of batchai_compat listens); the local storage classes accept the keys from ``list_keys`` as they
    accept any key (local data is protected by file permissions, not keys); ``list_account_sas``
    and ``list_service_sas`` are not supported.
    """

    models = models

    def check_name_availability(self, name: str, custom_headers: Optional[Dict[str, str]] = None,
                                raw: bool = False, **operation_config: Any) -> Any:
        """Whether ``name`` is valid and not taken (in this ``BATCHAI_COMPAT_HOME``)."""
        params = models.StorageAccountCheckNameAvailabilityParameters(name=name)
        self._validate_subscription()
        self._serialize_body(params, "StorageAccountCheckNameAvailabilityParameters")
        return self._call(lambda: self._state.check_name(name), "CheckNameAvailabilityResult", raw)

    def create(self, resource_group_name: str, account_name: str, parameters: Any,
               custom_headers: Optional[Dict[str, str]] = None, raw: bool = False, polling: Any = True,
               **operation_config: Any) -> Any:
        """Create (or update) the account; an ``LROPoller`` whose result is the ``StorageAccount``."""
        self._account(resource_group_name, account_name)
        body = self._serialize_body(parameters, "StorageAccountCreateParameters")
        sub = self.config.subscription_id
        return self._long_running(
            lambda: completed(self._state.create_account(sub, resource_group_name, account_name, body),
                              accepted=True),
            "StorageAccount", raw, polling)

    def delete(self, resource_group_name: str, account_name: str, custom_headers: Optional[Dict[str, str]] = None,
               raw: bool = False, **operation_config: Any) -> Any:
        """Delete the account and its data (blobs, shares); ``None``, also when it did not exist."""
        self._account(resource_group_name, account_name)
        sub = self.config.subscription_id

        def run() -> None:
            self._state.delete_account(sub, resource_group_name, account_name)

        return self._call(run, None, raw)

    def get_properties(self, resource_group_name: str, account_name: str,
                       custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
                       **operation_config: Any) -> Any:
        """The ``StorageAccount``, or ``CloudError`` 404 ``ResourceNotFound`` / ``ResourceGroupNotFound``."""
        self._account(resource_group_name, account_name)
        sub = self.config.subscription_id
        return self._call(lambda: self._state.get_account(sub, resource_group_name, account_name),
                          "StorageAccount", raw)

    def update(self, resource_group_name: str, account_name: str, parameters: Any,
               custom_headers: Optional[Dict[str, str]] = None, raw: bool = False, **operation_config: Any) -> Any:
        """Change tags, SKU, kind, access tier, HTTPS-only, network rules, encryption or custom domain."""
        self._account(resource_group_name, account_name)
        body = self._serialize_body(parameters, "StorageAccountUpdateParameters")
        sub = self.config.subscription_id
        return self._call(lambda: self._state.update_account(sub, resource_group_name, account_name, body),
                          "StorageAccount", raw)

    def list(self, custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
             **operation_config: Any) -> Any:
        """Every account of the subscription, as a ``StorageAccountPaged``."""
        sub = self.config.subscription_id
        return self._single_page(models.StorageAccountPaged, self._validate_subscription,
                                 lambda: self._state.list_accounts(sub), raw)

    def list_by_resource_group(self, resource_group_name: str, custom_headers: Optional[Dict[str, str]] = None,
                               raw: bool = False, **operation_config: Any) -> Any:
        """The accounts of one resource group, as a ``StorageAccountPaged``."""
        sub = self.config.subscription_id

        def validate() -> None:
            self._serialize.url("resource_group_name", resource_group_name, "str", **RESOURCE_GROUP)
            self._validate_subscription()

        def fetch() -> List[Body]:
            accounts: List[Body] = self._state.list_accounts(sub, resource_group_name)
            return accounts

        return self._single_page(models.StorageAccountPaged, validate, fetch, raw)

    def list_keys(self, resource_group_name: str, account_name: str, custom_headers: Optional[Dict[str, str]] = None,
                  raw: bool = False, **operation_config: Any) -> Any:
        """``key1`` and ``key2`` (``StorageAccountListKeysResult``); pass either to the storage classes."""
        self._account(resource_group_name, account_name)
        sub = self.config.subscription_id
        return self._call(lambda: self._state.list_keys(sub, resource_group_name, account_name),
                          "StorageAccountListKeysResult", raw)

    def regenerate_key(self, resource_group_name: str, account_name: str, key_name: str,
                       custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
                       **operation_config: Any) -> Any:
        """A new value for ``key1`` or ``key2``; returns both keys."""
        self._account(resource_group_name, account_name)
        params = models.StorageAccountRegenerateKeyParameters(key_name=key_name)
        self._serialize_body(params, "StorageAccountRegenerateKeyParameters")
        sub = self.config.subscription_id
        return self._call(lambda: self._state.regenerate_key(sub, resource_group_name, account_name, key_name),
                          "StorageAccountListKeysResult", raw)

    def list_account_sas(self, resource_group_name: str, account_name: str, parameters: Any,
                         custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
                         **operation_config: Any) -> Any:
        """Not supported locally; use ``BlockBlobService.generate_account_shared_access_signature``."""
        self._account(resource_group_name, account_name)
        self._serialize_body(parameters, "AccountSasParameters")
        return self._call(_refuse_sas, "ListAccountSasResponse", raw)

    def list_service_sas(self, resource_group_name: str, account_name: str, parameters: Any,
                         custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
                         **operation_config: Any) -> Any:
        """Not supported locally; use the storage classes' ``generate_*_shared_access_signature``."""
        self._account(resource_group_name, account_name)
        self._serialize_body(parameters, "ServiceSasParameters")
        return self._call(_refuse_sas, "ListServiceSasResponse", raw)


def _refuse_sas() -> Body:
    raise NotSupported(message="storage_accounts.list_account_sas/list_service_sas are not supported by "
                       "batchai_compat's local storage accounts; the local BlockBlobService/FileService generate "
                       "SAS tokens themselves (generate_*_shared_access_signature).")
