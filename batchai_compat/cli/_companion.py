"""Handlers of the companion commands ``batchai group ...`` and ``batchai storage ...``.

A Batch AI recipe's ``cli-instructions.md`` creates its resource group, storage account, file
shares, directories, files, blob containers and blobs with ``az group`` / ``az storage`` before it
runs ``az batchai``. These handlers are those commands, with the options, defaults, output shapes
and messages of azure-cli 2.0.4x (``azure-cli-resource`` 2.1.0, ``azure-cli-storage`` 2.2.0 with
``azure-multiapi-storage`` 0.2.2, API 2018-03-28), over what batchai_compat already has:

* resource groups: :mod:`batchai_compat.resource` (the local ``ResourceManagementClient``);
* storage accounts and keys: :mod:`batchai_compat.storage_mgmt` (the local ``StorageManagementClient``);
* shares, directories, files, containers and blobs: :mod:`batchai_compat.storage` (``FileService``,
  ``BlockBlobService``; local mode under ``BATCHAI_COMPAT_HOME``: exactly the directories the local
  backend mounts for ``azureFileUrl`` / blob containers, see ``docs/storage-layout.md``).

Credentials of the data-plane commands are resolved as azure-cli's storage module did
(``_validators.validate_client_parameters``): ``--connection-string``, else ``--account-name`` with
``--account-key`` / ``--sas-token``, each falling back to ``AZURE_STORAGE_CONNECTION_STRING``,
``AZURE_STORAGE_ACCOUNT``, ``AZURE_STORAGE_KEY``, ``AZURE_STORAGE_SAS_TOKEN`` (or the ``[storage]``
section of ``$AZURE_CONFIG_DIR/config``); an account name without key or token makes the command look
the key up with the management client, as ``az`` did through ARM. Keys are printed only by
``storage account keys list|renew`` and ``storage account show-connection-string``, never logged.

Module-level imports are knack only: the SDK stand-ins are imported inside the handlers.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from knack.log import get_logger
from knack.util import CLIError

logger = get_logger(__name__)

MODULE = __name__

#: azure-cli-storage 2.2.0 ``_client_factory.NO_CREDENTIALS_ERROR_MESSAGE`` (the text users saw).
NO_CREDENTIALS_ERROR_MESSAGE = """
No credentials specified to access storage service. Please provide any of the following:
    (1) account name and key (--account-name and --account-key options or
        set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY environment variables)
    (2) connection string (--connection-string option or
        set AZURE_STORAGE_CONNECTION_STRING environment variable)
    (3) account name and SAS token (--sas-token option used with either the --account-name
        option or AZURE_STORAGE_ACCOUNT environment variable)
"""

#: ``az storage account ... --key`` names (azure-cli-storage ``storage_account_key_options``).
KEY_OPTIONS = {"primary": "key1", "secondary": "key2"}

#: The public cloud's storage suffix, as ``az storage account show-connection-string`` wrote it.
ENDPOINT_SUFFIX = "core.windows.net"

EXIT_NOT_FOUND = 3  # azure-cli-core's show commands exit 3 on a 404 (commands/arm.py, _cli_show_command)


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


@contextmanager
def storage_errors() -> Iterator[None]:
    """Service errors of the storage classes as ``ERROR: <message>``, exit 1; warnings as ``WARNING:``.

    The legacy storage SDK raised ``AzureHttpError`` (message ending in ``ErrorCode: <code>``), which
    azure-cli printed as its message. batchai_compat's ``BatchAICompatWarning`` (what local mode cannot
    keep, e.g. metadata) become knack warnings on stderr instead of Python's warning lines.
    """
    from batchai_compat.storage._errors import AzureException

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except AzureException as exc:
            raise CLIError(str(exc)) from None
        finally:
            for warning in caught:
                logger.warning(str(warning.message))


def _not_found_exit_3(exc: Exception) -> None:
    """Re-raise a 404 CloudError of a ``show`` command with azure-cli's exit code 3."""
    if getattr(getattr(exc, "response", exc), "status_code", None) == 404 or getattr(exc, "status_code", None) == 404:
        raise CLIError(getattr(exc, "message", None) or str(exc), EXIT_NOT_FOUND) from None
    raise exc


def parse_tags(values: Optional[List[str]]) -> Optional[Dict[str, str]]:
    """``--tags a=b c`` as azure-cli's ``tags_type`` read it: ``{"a": "b", "c": ""}``; ``None`` if absent."""
    if values is None:
        return None
    tags: Dict[str, str] = {}
    for item in values:
        key, _, value = item.partition("=")
        tags[key] = value
    return tags


def parse_metadata(values: Optional[List[str]]) -> Optional[Dict[str, str]]:
    """``--metadata k=v ...`` as azure-cli's ``validate_metadata``: each item must be ``key=value``."""
    if values is None:
        return None
    metadata: Dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise CLIError(f"usage error: --metadata KEY=VALUE [KEY=VALUE ...]: {item!r} is not KEY=VALUE")
        metadata[key] = value
    return metadata


def _boolean(name: str, value: Any) -> Dict[str, Any]:
    """azure-cli's ``create_boolean_result_output_transformer``: ``{"created": true}`` and friends."""
    return {name: value}


def transform_boolean_for_table(result: Dict[str, Any]) -> Dict[str, Any]:
    """azure-cli-storage ``_format.transform_boolean_for_table``: values as ``True``/``False`` strings."""
    return OrderedDict((key, str(value)) for key, value in result.items())


def _value_from_path(item: Any, path: str) -> Any:
    obj = item
    try:
        for part in path.split("."):
            obj = obj.get(part, None)
    except AttributeError:
        obj = None
    return obj or " "


def _build_table(result: Any, projection: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """azure-cli-storage ``_format.build_table_output``: one row per item, ``' '`` for empty cells."""
    items = result if isinstance(result, list) else [result]
    return [OrderedDict((column, _value_from_path(item, path)) for column, path in projection) for item in items]


# --------------------------------------------------------------------------------------------
# az group
# --------------------------------------------------------------------------------------------


def transform_resource_group_list(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``az group list -o table`` (azure-cli-resource ``commands.transform_resource_group_list``)."""
    return [OrderedDict([("Name", r["name"]), ("Location", r["location"]),
                         ("Status", (r.get("properties") or {}).get("provisioningState"))]) for r in result]


def create_resource_group(cmd: Any, rg_name: str, location: str, tags: Optional[List[str]] = None) -> Any:
    """Create a resource group."""
    from batchai_compat.resource.models import ResourceGroup

    return cmd.resource_client().resource_groups.create_or_update(
        rg_name, ResourceGroup(location=location, tags=parse_tags(tags)))


def delete_resource_group(cmd: Any, resource_group_name: str) -> Any:
    """Delete a resource group with everything in it (storage accounts, Batch AI workspaces)."""
    return cmd.lro(cmd.resource_client().resource_groups.delete(resource_group_name))


def show_resource_group(cmd: Any, resource_group_name: str) -> Any:
    """Show a resource group."""
    from msrestazure.azure_exceptions import CloudError

    try:
        return cmd.resource_client().resource_groups.get(resource_group_name)
    except CloudError as exc:
        _not_found_exit_3(exc)


def resource_group_exists(cmd: Any, resource_group_name: str) -> Any:
    """Tell whether a resource group exists (prints true or false)."""
    return cmd.resource_client().resource_groups.check_existence(resource_group_name)


def list_resource_groups(cmd: Any, tag: Optional[str] = None) -> Any:
    """List resource groups, optionally those with a tag (--tag key[=value])."""
    filters = []
    if tag:
        key, _, value = tag.partition("=")
        filters.append(f"tagName eq '{key}'")
        filters.append(f"tagValue eq '{value}'")
    return list(cmd.resource_client().resource_groups.list(filter=" and ".join(filters) if filters else None))


# --------------------------------------------------------------------------------------------
# az storage account
# --------------------------------------------------------------------------------------------


def _account_resource_group(cmd: Any, account_name: str, resource_group_name: Optional[str]) -> str:
    """azure-cli-storage ``process_resource_group``/``_query_account_rg``: find the account's group."""
    if resource_group_name:
        return resource_group_name
    from msrestazure.tools import parse_resource_id

    account = next((a for a in cmd.storage_client().storage_accounts.list() if a.name == account_name), None)
    if account is None:
        raise CLIError(f"Storage account '{account_name}' not found.")
    return str(parse_resource_id(account.id)["resource_group"])


def create_storage_account(cmd: Any, resource_group_name: str, account_name: str, sku: str = "Standard_RAGRS",
                           location: Optional[str] = None, kind: str = "Storage", tags: Optional[List[str]] = None,
                           custom_domain: Optional[str] = None, encryption_services: Optional[List[str]] = None,
                           access_tier: Optional[str] = None, https_only: Optional[str] = None,
                           bypass: Optional[List[str]] = None, default_action: Optional[str] = None,
                           assign_identity: bool = False) -> Any:
    """Create a storage account (local: its data lives under $BATCHAI_COMPAT_HOME/storage/<name>)."""
    from batchai_compat.storage_mgmt import models

    if not location:
        location = cmd.resource_client().resource_groups.get(resource_group_name).location
    extra: Dict[str, Any] = {}
    if custom_domain:
        extra["custom_domain"] = models.CustomDomain(name=custom_domain, use_sub_domain=None)
    if encryption_services:
        services = {name: models.EncryptionService(enabled=True) for name in encryption_services}
        extra["encryption"] = models.Encryption(services=models.EncryptionServices(**services),
                                                key_source="Microsoft.Storage")
    if access_tier:
        extra["access_tier"] = access_tier
    if assign_identity:
        extra["identity"] = models.Identity()
    if https_only is not None:
        extra["enable_https_traffic_only"] = str(https_only).lower() == "true"
    if bypass or default_action:
        if bypass and not default_action:
            raise CLIError("incorrect usage: --default-action ACTION [--bypass SERVICE ...]")
        extra["network_rule_set"] = models.NetworkRuleSet(bypass=",".join(bypass) if bypass else None,
                                                          default_action=default_action)
    params = models.StorageAccountCreateParameters(sku=models.Sku(name=sku), kind=kind, location=location,
                                                   tags=parse_tags(tags), **extra)
    return cmd.storage_client().storage_accounts.create(resource_group_name, account_name, params).result()


def show_storage_account(cmd: Any, account_name: str, resource_group_name: Optional[str] = None) -> Any:
    """Show storage account properties."""
    from msrestazure.azure_exceptions import CloudError

    group = _account_resource_group(cmd, account_name, resource_group_name)
    try:
        return cmd.storage_client().storage_accounts.get_properties(group, account_name)
    except CloudError as exc:
        _not_found_exit_3(exc)


def list_storage_accounts(cmd: Any, resource_group_name: Optional[str] = None) -> Any:
    """List storage accounts (of the subscription, or of a resource group)."""
    accounts = cmd.storage_client().storage_accounts
    if resource_group_name:
        return list(accounts.list_by_resource_group(resource_group_name))
    return list(accounts.list())


def delete_storage_account(cmd: Any, account_name: str, resource_group_name: Optional[str] = None) -> Any:
    """Delete a storage account and its data (shares, containers)."""
    group = _account_resource_group(cmd, account_name, resource_group_name)
    return cmd.storage_client().storage_accounts.delete(group, account_name)


def list_storage_account_keys(cmd: Any, account_name: str, resource_group_name: Optional[str] = None) -> Any:
    """List the two access keys of a storage account (prints them)."""
    group = _account_resource_group(cmd, account_name, resource_group_name)
    return cmd.storage_client().storage_accounts.list_keys(group, account_name).keys


def renew_storage_account_key(cmd: Any, account_name: str, key_name: str,
                              resource_group_name: Optional[str] = None) -> Any:
    """Regenerate an access key of a storage account; prints both keys."""
    group = _account_resource_group(cmd, account_name, resource_group_name)
    return cmd.storage_client().storage_accounts.regenerate_key(group, account_name, KEY_OPTIONS[key_name]).keys


def show_storage_account_connection_string(cmd: Any, account_name: str, resource_group_name: Optional[str] = None,
                                           protocol: str = "https", blob_endpoint: Optional[str] = None,
                                           file_endpoint: Optional[str] = None,
                                           queue_endpoint: Optional[str] = None,
                                           table_endpoint: Optional[str] = None, key_name: str = "primary") -> Any:
    """Print the connection string of a storage account (it contains an account key)."""
    # Built as azure-cli-storage 2.2.0 did. Without endpoint options the string has no
    # BlobEndpoint=/FileEndpoint=, so the storage classes keep it local (docs/storage.md, the mode rule).
    group = _account_resource_group(cmd, account_name, resource_group_name)
    keys = cmd.storage_client().storage_accounts.list_keys(group, account_name).keys
    key = keys[0].value if key_name == "primary" else keys[1].value
    text = (f"DefaultEndpointsProtocol={protocol};EndpointSuffix={ENDPOINT_SUFFIX};"
            f"AccountName={account_name};AccountKey={key}")
    for name, value in (("Blob", blob_endpoint), ("File", file_endpoint), ("Queue", queue_endpoint),
                        ("Table", table_endpoint)):
        if value:
            text += f";{name}Endpoint={value}"
    return {"connectionString": text}


# --------------------------------------------------------------------------------------------
# Data plane: credentials and service objects
# --------------------------------------------------------------------------------------------


def _config_value(cmd: Any, key: str) -> Optional[str]:
    """``AZURE_STORAGE_<KEY>``, else ``[storage] <key>`` of ``$AZURE_CONFIG_DIR/config`` (knack's CLIConfig)."""
    config = getattr(cmd, "config", None)
    if config is not None:
        value = config.get("storage", key, None)
        return str(value) if value else None
    value = os.environ.get(f"AZURE_STORAGE_{key.upper()}")
    return value or None


def resolve_credentials(cmd: Any, account_name: Optional[str], account_key: Optional[str],
                        connection_string: Optional[str], sas_token: Optional[str]
                        ) -> Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]:
    """(name, key, connection string, sas) as azure-cli-storage's ``validate_client_parameters``."""
    if not connection_string:
        connection_string = _config_value(cmd, "connection_string")
    if connection_string:
        parts = {}
        for part in connection_string.split(";"):
            key, sep, value = part.partition("=")
            if sep:
                parts[key.strip()] = value.strip()
        account_name = parts.get("AccountName")
        account_key = parts.get("AccountKey")
        if not account_name or not account_key:
            # azure-cli echoed the string; a string with a key in it is never echoed here.
            raise CLIError("Connection-string is malformed. Some shell environments require the connection "
                           "string to be surrounded by quotes.")
    if not account_name:
        account_name = _config_value(cmd, "account")
    if not account_key:
        account_key = _config_value(cmd, "key")
    if not sas_token:
        sas_token = _config_value(cmd, "sas_token")
    if sas_token:
        sas_token = sas_token.lstrip("?")
    if account_name and not account_key and not sas_token:
        account_key = _query_account_key(cmd, account_name)
    return account_name, account_key, connection_string, sas_token


def _query_account_key(cmd: Any, account_name: str) -> str:
    """azure-cli-storage ``_query_account_key``: the first key of the account, found by name."""
    group = _account_resource_group(cmd, account_name, None)
    return str(cmd.storage_client().storage_accounts.list_keys(group, account_name).keys[0].value)


def _service(cmd: Any, kind: str, account_name: Optional[str], account_key: Optional[str],
             connection_string: Optional[str], sas_token: Optional[str]) -> Any:
    """A ``FileService`` (``kind="file"``) or ``BlockBlobService`` for the resolved credentials."""
    name, key, conn, sas = resolve_credentials(cmd, account_name, account_key, connection_string, sas_token)
    if not name and not conn:
        raise CLIError(NO_CREDENTIALS_ERROR_MESSAGE)
    if kind == "file":
        from batchai_compat.storage import FileService as cls
    else:
        from batchai_compat.storage import BlockBlobService as cls  # type: ignore[assignment]
    with storage_errors():
        if conn:
            return cls(connection_string=conn)
        return cls(account_name=name, account_key=key, sas_token=sas)


def _content_settings(path: Optional[str], content_type: Optional[str], content_encoding: Optional[str],
                      content_language: Optional[str], content_disposition: Optional[str],
                      content_cache_control: Optional[str], content_md5: Optional[str]) -> Any:
    """The ``--content-*`` options as ``ContentSettings``; ``None`` when none was given.

    azure-cli guessed the type from the file name (``util.guess_content_type``); local mode keeps no
    content settings (docs/storage.md), so only options the user gave are passed on (and warned about).
    """
    given = [content_type, content_encoding, content_language, content_disposition, content_cache_control,
             content_md5]
    if not any(given):
        return None
    from batchai_compat.storage import ContentSettings

    return ContentSettings(content_type=content_type, content_encoding=content_encoding,
                           content_language=content_language, content_disposition=content_disposition,
                           cache_control=content_cache_control, content_md5=content_md5)


def split_file_path(path: Optional[str], default_file: Optional[str] = None) -> Tuple[Optional[str], str]:
    """azure-cli-storage ``get_file_path_validator``: ``--path`` into (directory, file name).

    With a default file (``file upload --source``), a path whose last segment has no ``.`` is a
    directory and the source's base name is the file name (so ``--path cntk`` uploads into ``cntk/``).
    """
    directory, name = os.path.split(path) if path else (None, "")
    if default_file is not None and "." not in name:
        directory = path
        name = os.path.split(default_file)[1]
    return (directory or None), name


# --------------------------------------------------------------------------------------------
# az storage share / directory / file
# --------------------------------------------------------------------------------------------


def transform_share_list(result: Any) -> List[Dict[str, Any]]:
    """``az storage share list -o table`` (``_format.transform_share_list``)."""
    return _build_table(result, [("Name", "name"), ("Quota", "properties.quota"),
                                 ("Last Modified", "properties.lastModified")])


def transform_file_output(result: Any) -> List[Dict[str, Any]]:
    """``az storage file list -o table`` (``_format.transform_file_output``): dirs end in ``/``, sorted."""
    rows = []
    items = result if isinstance(result, list) else result.get("items", result)
    for item in items:
        is_dir = item["type"] == "dir"
        row: Dict[str, Any] = OrderedDict()
        row["Name"] = item["name"] + "/" if is_dir else item["name"]
        row["Content Length"] = " " if is_dir else item["properties"]["contentLength"]
        row["Type"] = item["type"]
        row["Last Modified"] = item["properties"]["lastModified"] or " "
        rows.append(row)
    return sorted(rows, key=lambda r: r["Name"])


def create_share(cmd: Any, share_name: str, metadata: Optional[List[str]] = None, quota: Optional[int] = None,
                 fail_on_exist: bool = False, timeout: Optional[int] = None, account_name: Optional[str] = None,
                 account_key: Optional[str] = None, connection_string: Optional[str] = None,
                 sas_token: Optional[str] = None) -> Any:
    """Create a file share in a storage account."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("created", service.create_share(share_name, metadata=parse_metadata(metadata), quota=quota,
                                                        fail_on_exist=fail_on_exist, timeout=timeout))


def delete_share(cmd: Any, share_name: str, fail_not_exist: bool = False, timeout: Optional[int] = None,
                 snapshot: Optional[str] = None, delete_snapshots: Optional[str] = None,
                 account_name: Optional[str] = None, account_key: Optional[str] = None,
                 connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Delete a file share with its content."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    kwargs: Dict[str, Any] = {}
    if snapshot:
        kwargs["snapshot"] = snapshot
    if delete_snapshots:
        kwargs["delete_snapshots"] = delete_snapshots
    with storage_errors():
        return _boolean("deleted", service.delete_share(share_name, fail_not_exist=fail_not_exist, timeout=timeout,
                                                        **kwargs))


def list_shares(cmd: Any, prefix: Optional[str] = None, num_results: Optional[int] = None,
                include_metadata: bool = False, include_snapshots: bool = False, timeout: Optional[int] = None,
                account_name: Optional[str] = None, account_key: Optional[str] = None,
                connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """List the file shares of a storage account."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    kwargs: Dict[str, Any] = {}
    if include_snapshots:
        kwargs["include_snapshots"] = True
    with storage_errors():
        return list(service.list_shares(prefix=prefix, num_results=num_results, include_metadata=include_metadata,
                                        timeout=timeout, **kwargs))


def share_exists(cmd: Any, share_name: str, snapshot: Optional[str] = None, timeout: Optional[int] = None,
                 account_name: Optional[str] = None, account_key: Optional[str] = None,
                 connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Tell whether a file share exists."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("exists", service.exists(share_name, snapshot=snapshot, timeout=timeout))


def create_directory(cmd: Any, share_name: str, directory_name: str, metadata: Optional[List[str]] = None,
                     fail_on_exist: bool = False, timeout: Optional[int] = None, account_name: Optional[str] = None,
                     account_key: Optional[str] = None, connection_string: Optional[str] = None,
                     sas_token: Optional[str] = None) -> Any:
    """Create a directory in a file share (its parent directory must exist)."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("created", service.create_directory(share_name, directory_name,
                                                            metadata=parse_metadata(metadata),
                                                            fail_on_exist=fail_on_exist, timeout=timeout))


def directory_exists(cmd: Any, share_name: str, directory_name: str, snapshot: Optional[str] = None,
                     timeout: Optional[int] = None, account_name: Optional[str] = None,
                     account_key: Optional[str] = None, connection_string: Optional[str] = None,
                     sas_token: Optional[str] = None) -> Any:
    """Tell whether a directory exists in a file share."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("exists", service.exists(share_name, directory_name, snapshot=snapshot, timeout=timeout))


def upload_file(cmd: Any, share_name: str, local_file_path: str, path: Optional[str] = None,
                metadata: Optional[List[str]] = None, max_connections: int = 2, validate_content: bool = False,
                content_type: Optional[str] = None, content_encoding: Optional[str] = None,
                content_language: Optional[str] = None, content_disposition: Optional[str] = None,
                content_cache_control: Optional[str] = None, content_md5: Optional[str] = None,
                no_progress: bool = False, timeout: Optional[int] = None, account_name: Optional[str] = None,
                account_key: Optional[str] = None, connection_string: Optional[str] = None,
                sas_token: Optional[str] = None) -> Any:
    """Upload a local file to a file share."""
    # Prints nothing: the SDK's create_file_from_path returned None, and so did az.
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    directory, name = split_file_path(path, local_file_path)
    source = os.path.expanduser(local_file_path)
    if not os.path.isfile(source):
        raise CLIError(f"[Errno 2] No such file or directory: '{local_file_path}'")
    settings = _content_settings(source, content_type, content_encoding, content_language, content_disposition,
                                 content_cache_control, content_md5)
    with storage_errors():
        service.create_file_from_path(share_name, directory, name, source, content_settings=settings,
                                      metadata=parse_metadata(metadata), validate_content=validate_content,
                                      max_connections=max_connections, timeout=timeout)
    return None


def download_file(cmd: Any, share_name: str, path: str, file_path: Optional[str] = None, open_mode: str = "wb",
                  start_range: Optional[int] = None, end_range: Optional[int] = None,
                  validate_content: bool = False, max_connections: int = 2, no_progress: bool = False,
                  snapshot: Optional[str] = None, timeout: Optional[int] = None, account_name: Optional[str] = None,
                  account_key: Optional[str] = None, connection_string: Optional[str] = None,
                  sas_token: Optional[str] = None) -> Any:
    """Download a file of a file share to a local path (default: its name, in the current directory)."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    directory, name = split_file_path(path)
    dest = os.path.expanduser(file_path) if file_path else None
    if not dest or os.path.isdir(dest):
        dest = os.path.join(dest, name) if dest else name
    kwargs: Dict[str, Any] = {}
    if snapshot:
        kwargs["snapshot"] = snapshot
    with storage_errors():
        result = service.get_file_to_path(share_name, directory, name, dest, open_mode=open_mode,
                                          start_range=start_range, end_range=end_range,
                                          validate_content=validate_content, max_connections=max_connections,
                                          timeout=timeout, **kwargs)
    return result


def list_files(cmd: Any, share_name: str, directory_name: Optional[str] = None, exclude_dir: bool = False,
               snapshot: Optional[str] = None, timeout: Optional[int] = None, account_name: Optional[str] = None,
               account_key: Optional[str] = None, connection_string: Optional[str] = None,
               sas_token: Optional[str] = None) -> Any:
    """List the files and directories of a file share, or of one of its directories."""
    from batchai_compat.storage.models import Directory, File

    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    kwargs: Dict[str, Any] = {}
    if snapshot:
        kwargs["snapshot"] = snapshot
    items = []
    with storage_errors():
        for item in service.list_directories_and_files(share_name, directory_name, timeout=timeout, **kwargs):
            if isinstance(item, File):
                entry = _file_entry(item, "file")
            elif isinstance(item, Directory):
                if exclude_dir:
                    continue
                entry = _file_entry(item, "dir")
            else:  # pragma: no cover - the listing yields only these two
                continue
            items.append(entry)
    return items


def _file_entry(item: Any, kind: str) -> Dict[str, Any]:
    """A listed File/Directory as ``transform_file_directory_result`` left it (no ``content``, a ``type``)."""
    from batchai_compat.cli._core import to_output

    entry = to_output(item)
    entry.pop("content", None)
    entry["type"] = kind
    return entry  # type: ignore[no-any-return]


def delete_file(cmd: Any, share_name: str, path: str, timeout: Optional[int] = None,
                account_name: Optional[str] = None, account_key: Optional[str] = None,
                connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Delete a file from a file share."""
    # {"deleted": null}: the SDK's delete_file returned None, which az 2.0.x wrapped as is.
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    directory, name = split_file_path(path)
    with storage_errors():
        return _boolean("deleted", service.delete_file(share_name, directory, name, timeout=timeout))


def file_exists(cmd: Any, share_name: str, path: str, snapshot: Optional[str] = None, timeout: Optional[int] = None,
                account_name: Optional[str] = None, account_key: Optional[str] = None,
                connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Tell whether a file exists in a file share."""
    service = _service(cmd, "file", account_name, account_key, connection_string, sas_token)
    directory, name = split_file_path(path)
    with storage_errors():
        return _boolean("exists", service.exists(share_name, directory, name, snapshot=snapshot,
                                                 timeout=timeout))


# --------------------------------------------------------------------------------------------
# az storage container / blob
# --------------------------------------------------------------------------------------------


def transform_container_list(result: Any) -> List[Dict[str, Any]]:
    """``az storage container list -o table`` (``_format.transform_container_list``)."""
    return _build_table(result, [("Name", "name"), ("Lease Status", "properties.leaseStatus"),
                                 ("Last Modified", "properties.lastModified")])


def transform_blob_output(result: Any) -> List[Dict[str, Any]]:
    """``az storage blob list|download -o table`` (``_format.transform_blob_output``)."""
    return _build_table(result, [("Name", "name"), ("Blob Type", "properties.blobType"),
                                 ("Blob Tier", "properties.blobTier"), ("Length", "properties.contentLength"),
                                 ("Content Type", "properties.contentSettings.contentType"),
                                 ("Last Modified", "properties.lastModified"), ("Snapshot", "snapshot")])


def create_container(cmd: Any, container_name: str, metadata: Optional[List[str]] = None,
                     public_access: Optional[str] = None, fail_on_exist: bool = False,
                     timeout: Optional[int] = None, account_name: Optional[str] = None,
                     account_key: Optional[str] = None, connection_string: Optional[str] = None,
                     sas_token: Optional[str] = None) -> Any:
    """Create a blob container in a storage account."""
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    access = None if public_access in (None, "off") else public_access
    with storage_errors():
        return _boolean("created", service.create_container(container_name, metadata=parse_metadata(metadata),
                                                            public_access=access, fail_on_exist=fail_on_exist,
                                                            timeout=timeout))


def delete_container(cmd: Any, container_name: str, fail_not_exist: bool = False, lease_id: Optional[str] = None,
                     if_modified_since: Optional[str] = None, if_unmodified_since: Optional[str] = None,
                     timeout: Optional[int] = None, account_name: Optional[str] = None,
                     account_key: Optional[str] = None, connection_string: Optional[str] = None,
                     sas_token: Optional[str] = None) -> Any:
    """Delete a blob container with its blobs."""
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("deleted", service.delete_container(container_name, fail_not_exist=fail_not_exist,
                                                            lease_id=lease_id, if_modified_since=if_modified_since,
                                                            if_unmodified_since=if_unmodified_since,
                                                            timeout=timeout))


def list_containers(cmd: Any, prefix: Optional[str] = None, num_results: Optional[int] = None,
                    include_metadata: bool = False, timeout: Optional[int] = None,
                    account_name: Optional[str] = None, account_key: Optional[str] = None,
                    connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """List the blob containers of a storage account."""
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return list(service.list_containers(prefix=prefix, num_results=num_results,
                                            include_metadata=include_metadata, timeout=timeout))


def container_exists(cmd: Any, container_name: str, timeout: Optional[int] = None,
                     account_name: Optional[str] = None, account_key: Optional[str] = None,
                     connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Tell whether a blob container exists."""
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("exists", service.exists(container_name, timeout=timeout))


def _blob_type(blob_type: Optional[str], file_path: str) -> str:
    """azure-cli-storage ``validate_blob_type``: ``page`` for ``.vhd`` files, else ``block``."""
    if blob_type:
        return blob_type
    return "page" if file_path.endswith(".vhd") else "block"


def _upload_blob(service: Any, container_name: str, blob_name: str, file_path: str, blob_type: Optional[str],
                 settings: Any, metadata: Optional[Dict[str, str]], **kwargs: Any) -> Any:
    kind = _blob_type(blob_type, file_path)
    if kind != "block":
        raise CLIError(f"--type {kind}: only block blobs are provided by batchai_compat (see docs/storage.md).")
    if not os.path.isfile(file_path):
        raise CLIError(f"[Errno 2] No such file or directory: '{file_path}'")
    return service.create_blob_from_path(container_name, blob_name, file_path, content_settings=settings,
                                         metadata=metadata, **kwargs)


def upload_blob(cmd: Any, container_name: str, blob_name: str, file_path: str, blob_type: Optional[str] = None,
                metadata: Optional[List[str]] = None, validate_content: bool = False, max_connections: int = 2,
                lease_id: Optional[str] = None, if_modified_since: Optional[str] = None,
                if_unmodified_since: Optional[str] = None, if_match: Optional[str] = None,
                if_none_match: Optional[str] = None, content_type: Optional[str] = None,
                content_encoding: Optional[str] = None, content_language: Optional[str] = None,
                content_disposition: Optional[str] = None, content_cache_control: Optional[str] = None,
                content_md5: Optional[str] = None, no_progress: bool = False, timeout: Optional[int] = None,
                account_name: Optional[str] = None, account_key: Optional[str] = None,
                connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Upload a local file as a block blob."""
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    path = os.path.expanduser(file_path)
    settings = _content_settings(path, content_type, content_encoding, content_language, content_disposition,
                                 content_cache_control, content_md5)
    with storage_errors():
        return _upload_blob(service, container_name, blob_name, path, blob_type, settings, parse_metadata(metadata),
                            validate_content=validate_content, max_connections=max_connections, lease_id=lease_id,
                            if_modified_since=if_modified_since, if_unmodified_since=if_unmodified_since,
                            if_match=if_match, if_none_match=if_none_match, timeout=timeout)


def upload_blob_batch(cmd: Any, source: str, destination: str, destination_path: Optional[str] = None,
                      pattern: Optional[str] = None, dryrun: bool = False, blob_type: Optional[str] = None,
                      metadata: Optional[List[str]] = None, validate_content: bool = False,
                      max_connections: int = 2, content_type: Optional[str] = None,
                      content_encoding: Optional[str] = None, content_language: Optional[str] = None,
                      content_disposition: Optional[str] = None, content_cache_control: Optional[str] = None,
                      content_md5: Optional[str] = None, no_progress: bool = False, timeout: Optional[int] = None,
                      account_name: Optional[str] = None, account_key: Optional[str] = None,
                      connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Upload every file of a local directory to a blob container (-d CONTAINER or CONTAINER/PREFIX)."""
    # "container/prefix" for --destination: later azure-cli versions accepted it, 2.0.4x took a name or URL.
    import fnmatch
    import mimetypes

    if not os.path.isdir(source):
        raise CLIError("incorrect usage: source must be an existing directory")
    container, _, extra = destination.partition("/")
    prefix = "/".join(p for p in (extra.strip("/"), (destination_path or "").strip("/")) if p)
    root = os.path.realpath(source)
    files: List[Tuple[str, str]] = []
    for folder, _dirs, names in os.walk(root):
        for name in sorted(names):
            full = os.path.join(folder, name)
            relative = os.path.relpath(full, root).replace(os.sep, "/")
            if pattern and not fnmatch.fnmatch(relative, pattern.lstrip("/")):
                continue
            files.append((full, relative))
    files.sort(key=lambda f: f[1])
    service = None if dryrun else _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    url_service = service or _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    settings = _content_settings(None, content_type, content_encoding, content_language, content_disposition,
                                 content_cache_control, content_md5)
    results = []
    with storage_errors():
        for full, relative in files:
            blob_name = f"{prefix}/{relative}" if prefix else relative
            guessed = content_type or mimetypes.guess_type(full)[0]
            if dryrun:
                results.append(OrderedDict([("Blob", url_service.make_blob_url(container, blob_name)),
                                            ("Type", guessed), ("Last Modified", None), ("eTag", None)]))
                continue
            logger.warning("uploading %s", full)
            props = _upload_blob(service, container, blob_name, full, blob_type, settings, parse_metadata(metadata),
                                 validate_content=validate_content, max_connections=max_connections,
                                 timeout=timeout)
            results.append(OrderedDict([("Blob", url_service.make_blob_url(container, blob_name)),
                                        ("Type", guessed), ("Last Modified", props.last_modified),
                                        ("eTag", props.etag)]))
    return results


def download_blob(cmd: Any, container_name: str, blob_name: str, file_path: str, open_mode: str = "wb",
                  snapshot: Optional[str] = None, start_range: Optional[int] = None, end_range: Optional[int] = None,
                  validate_content: bool = False, max_connections: int = 2, lease_id: Optional[str] = None,
                  if_modified_since: Optional[str] = None, if_unmodified_since: Optional[str] = None,
                  if_match: Optional[str] = None, if_none_match: Optional[str] = None, no_progress: bool = False,
                  timeout: Optional[int] = None, account_name: Optional[str] = None,
                  account_key: Optional[str] = None, connection_string: Optional[str] = None,
                  sas_token: Optional[str] = None) -> Any:
    """Download a blob to a local file."""
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    kwargs: Dict[str, Any] = {}
    if snapshot:
        kwargs["snapshot"] = snapshot
    with storage_errors():
        return service.get_blob_to_path(container_name, blob_name, os.path.expanduser(file_path),
                                        open_mode=open_mode, start_range=start_range, end_range=end_range,
                                        validate_content=validate_content, max_connections=max_connections,
                                        lease_id=lease_id, if_modified_since=if_modified_since,
                                        if_unmodified_since=if_unmodified_since, if_match=if_match,
                                        if_none_match=if_none_match, timeout=timeout, **kwargs)


def list_blobs(cmd: Any, container_name: str, prefix: Optional[str] = None, num_results: Optional[int] = None,
               include: Optional[str] = None, delimiter: Optional[str] = None, timeout: Optional[int] = None,
               account_name: Optional[str] = None, account_key: Optional[str] = None,
               connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """List the blobs of a container."""
    # --include letters cmsd, as azure-cli-storage's validate_included_datasets.
    from batchai_compat.storage import Include

    included = None
    if include:
        if set(include) - set("cmsd"):
            raise CLIError("valid values are (c)opy-info (m)etadata (s)napshots (d)eleted or a combination thereof.")
        included = Include(snapshots="s" in include, metadata="m" in include, copy="c" in include,
                           deleted="d" in include)
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return list(service.list_blobs(container_name, prefix=prefix, num_results=num_results, include=included,
                                       delimiter=delimiter, timeout=timeout))


def delete_blob(cmd: Any, container_name: str, blob_name: str, snapshot: Optional[str] = None,
                lease_id: Optional[str] = None, delete_snapshots: Optional[str] = None,
                if_modified_since: Optional[str] = None, if_unmodified_since: Optional[str] = None,
                if_match: Optional[str] = None, if_none_match: Optional[str] = None, timeout: Optional[int] = None,
                account_name: Optional[str] = None, account_key: Optional[str] = None,
                connection_string: Optional[str] = None, sas_token: Optional[str] = None) -> Any:
    """Delete a blob from a container."""
    # {"deleted": null}: the SDK's delete_blob returned None, which az 2.0.x wrapped as is.
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("deleted", service.delete_blob(container_name, blob_name, snapshot=snapshot,
                                                       lease_id=lease_id, delete_snapshots=delete_snapshots,
                                                       if_modified_since=if_modified_since,
                                                       if_unmodified_since=if_unmodified_since, if_match=if_match,
                                                       if_none_match=if_none_match, timeout=timeout))


def blob_exists(cmd: Any, container_name: str, blob_name: str, snapshot: Optional[str] = None,
                timeout: Optional[int] = None, account_name: Optional[str] = None,
                account_key: Optional[str] = None, connection_string: Optional[str] = None,
                sas_token: Optional[str] = None) -> Any:
    """Tell whether a blob exists in a container."""
    service = _service(cmd, "blob", account_name, account_key, connection_string, sas_token)
    with storage_errors():
        return _boolean("exists", service.exists(container_name, blob_name, snapshot=snapshot, timeout=timeout))
