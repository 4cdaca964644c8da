"""Mount volumes, storage accounts and ARM ids for ``cluster create`` and ``job create``.

Behaviour of azure-cli-batchai 0.4.10 (``custom.py``: ``_patch_mount_volumes``,
``_add_*_to_mount_volumes``, ``_get_storage_account_key``, ``_get_effective_resource_parameters``):

* The storage account of ``--afs-name`` / ``--bfs-name`` is ``--storage-account-name``, else the
  ``[batchai] storage_account`` config value or ``AZURE_BATCHAI_STORAGE_ACCOUNT``; its key
  ``--storage-account-key``, else looked up in the subscription's storage accounts (here the local
  ``batchai_compat.storage_mgmt`` accounts), else ``[batchai] storage_key`` /
  ``AZURE_BATCHAI_STORAGE_KEY``.
* Options *add* mounts to those of the config file; ``<AZURE_BATCHAI_STORAGE_ACCOUNT>`` and
  ``<AZURE_BATCHAI_STORAGE_KEY>`` placeholders in the file are replaced; mounts of the file without
  credentials get the account's key.
* ``--nfs`` is a file server name (same resource group and workspace) or its ARM id.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Dict, Optional, Tuple

from knack.util import CLIError

AZURE_BATCHAI_STORAGE_ACCOUNT = "AZURE_BATCHAI_STORAGE_ACCOUNT"
AZURE_BATCHAI_STORAGE_KEY = "AZURE_BATCHAI_STORAGE_KEY"
ACCOUNT_PLACEHOLDER = f"<{AZURE_BATCHAI_STORAGE_ACCOUNT}>"
KEY_PLACEHOLDER = f"<{AZURE_BATCHAI_STORAGE_KEY}>"
MSG_CONFIGURE_STORAGE_ACCOUNT = ("Please configure Azure Storage account name via AZURE_BATCHAI_STORAGE_ACCOUNT or "
                                 "provide storage_account value in batchai section of your az configuration file.")
MSG_CONFIGURE_STORAGE_KEY = ("Please configure Azure Storage account key via AZURE_BATCHAI_STORAGE_KEY or "
                             "provide storage_key value in batchai section of your az configuration file.")
STORAGE_ENDPOINT_SUFFIX = "core.windows.net"

_RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)"
    r"/providers/(?P<namespace>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)"
    r"(?:/(?P<child_type_1>[^/]+)/(?P<child_name_1>[^/]+))?"
    r"(?:/(?P<child_type_2>[^/]+)/(?P<child_name_2>[^/]+))?/?$",
    re.IGNORECASE,
)


def parse_resource_id(value: str) -> Optional[Dict[str, Optional[str]]]:
    """The parts of an ARM id (``name`` is the top resource, ``resource_name`` the last), else None."""
    match = _RESOURCE_ID.match(value or "")
    if not match:
        return None
    parts: Dict[str, Optional[str]] = dict(match.groupdict())
    parts["resource_name"] = parts["child_name_2"] or parts["child_name_1"] or parts["name"]
    return parts


def is_valid_resource_id(value: str) -> bool:
    """Whether ``value`` is a well-formed ARM resource id."""
    return parse_resource_id(value) is not None


def effective_resource(name_or_id: Optional[str], resource_group: str,
                       workspace: Optional[str]) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(resource group, workspace, name) of a name or an ARM id given on the command line."""
    if not name_or_id:
        return None, None, None
    parts = parse_resource_id(name_or_id)
    if parts:
        if parts["child_name_1"]:
            return parts["resource_group"], parts["name"], parts["resource_name"]
        return parts["resource_group"], None, parts["name"]
    return resource_group, workspace, name_or_id


def storage_account_key(cmd: Any, account_name: str, account_key: Optional[str]) -> str:
    """``account_key`` or the first key of the subscription's storage account ``account_name``."""
    if account_key:
        return account_key
    client = cmd.storage_client()
    ids = [a.id for a in client.storage_accounts.list() if a.name == account_name]
    if not ids:
        raise CLIError(f'Cannot find "{account_name}" storage account.')
    parts = parse_resource_id(ids[0]) or {}
    result = client.storage_accounts.list_keys(parts.get("resource_group"), account_name)
    if not result or not result.keys:
        raise CLIError(f'Cannot find a key for "{account_name}" storage account.')
    return str(result.keys[0].value)


def effective_account(cmd: Any, account_name: Optional[str], account_key: Optional[str]) -> Tuple[str, str]:
    """(name, key) from the options, else from ``[batchai]`` config / ``AZURE_BATCHAI_STORAGE_*``."""
    if account_name:
        return account_name, storage_account_key(cmd, account_name, account_key) or ""
    return (cmd.config.get("batchai", "storage_account", "") or "",
            cmd.config.get("batchai", "storage_key", "") or "")


def azure_file_url(account_name: str, share: str) -> str:
    """The share's URL as the CLI built it (public cloud suffix)."""
    return f"https://{account_name}.file.{STORAGE_ENDPOINT_SUFFIX}/{share}"


def _account_from_url(url: Optional[str]) -> str:
    if not url:
        raise CLIError("Azure File URL cannot absent or be empty")
    host = re.sub(r"^[a-z]+://", "", url).split("/", 1)[0]
    if "." not in host:
        raise CLIError(f'Ill-formed Azure File URL "{url}"')
    return host.split(".", 1)[0]


def _credentials(cmd: Any, models: Any, existing: Any, account_name: str) -> Any:
    if existing and (existing.account_key or getattr(existing, "account_key_secret_reference", None)):
        return existing
    return models.AzureStorageCredentialsInfo(account_key=storage_account_key(cmd, account_name, None))


def patch_mount_volumes(cmd: Any, models: Any, volumes: Any, account_name: Optional[str] = None,
                        account_key: Optional[str] = None) -> Any:
    """A copy of the config file's ``mount_volumes`` with placeholders replaced and credentials added."""
    if volumes is None:
        return None
    result = copy.deepcopy(volumes)
    name, key = effective_account(cmd, account_name, account_key)
    need_account = need_key = False
    for ref in result.azure_file_shares or []:
        if not ref.account_name:
            ref.account_name = _account_from_url(ref.azure_file_url)
        if ref.account_name == ACCOUNT_PLACEHOLDER:
            need_account = True
            ref.account_name = name
        if ref.azure_file_url and ACCOUNT_PLACEHOLDER in ref.azure_file_url:
            need_account = True
            ref.azure_file_url = ref.azure_file_url.replace(ACCOUNT_PLACEHOLDER, name)
        if ref.credentials and ref.credentials.account_key == KEY_PLACEHOLDER:
            need_key = True
            ref.credentials.account_key = key
        if not ref.credentials and ref.account_name == name:
            need_key = True
            ref.credentials = models.AzureStorageCredentialsInfo(account_key=key)
        if ref.account_name:
            ref.credentials = _credentials(cmd, models, ref.credentials, ref.account_name)
    for ref in result.azure_blob_file_systems or []:
        if ref.account_name == ACCOUNT_PLACEHOLDER:
            need_account = True
            ref.account_name = name
        if ref.credentials and ref.credentials.account_key == KEY_PLACEHOLDER:
            need_key = True
            ref.credentials.account_key = key
        if not ref.credentials and ref.account_name == name:
            need_key = True
            ref.credentials = models.AzureStorageCredentialsInfo(account_key=key)
        if not ref.account_name:
            raise CLIError("Ill-formed Azure Blob File System reference in the configuration file - no account "
                           "name provided.")
        ref.credentials = _credentials(cmd, models, ref.credentials, ref.account_name)
    if need_account and not name:
        raise CLIError(MSG_CONFIGURE_STORAGE_ACCOUNT)
    if need_key and not key:
        raise CLIError(MSG_CONFIGURE_STORAGE_KEY)
    return result


def add_nfs(models: Any, volumes: Any, file_server_id: str, mount_path: Optional[str]) -> Any:
    """``volumes`` plus the file server, mounted read-write at ``mount_path``."""
    result = copy.deepcopy(volumes) if volumes else models.MountVolumes()
    if not mount_path:
        raise CLIError("File server relative mount path cannot be empty.")
    result.file_servers = list(result.file_servers or [])
    result.file_servers.append(models.FileServerReference(
        relative_mount_path=mount_path, file_server=models.ResourceId(id=file_server_id), mount_options="rw"))
    return result


def _mount_account(cmd: Any, account_name: Optional[str], account_key: Optional[str]) -> Tuple[str, str]:
    """The (name, key) a mount option uses; both must be known."""
    name, key = effective_account(cmd, account_name, account_key)
    if not name:
        raise CLIError(MSG_CONFIGURE_STORAGE_ACCOUNT)
    if not key:
        raise CLIError(MSG_CONFIGURE_STORAGE_KEY)
    return name, key


def add_azure_file_share(cmd: Any, models: Any, volumes: Any, share: str, mount_path: Optional[str],
                         account_name: Optional[str] = None, account_key: Optional[str] = None) -> Any:
    """``volumes`` plus the Azure File share ``share`` of the effective account."""
    result = copy.deepcopy(volumes) if volumes else models.MountVolumes()
    if not mount_path:
        raise CLIError("Azure File share relative mount path cannot be empty.")
    result.azure_file_shares = list(result.azure_file_shares or [])
    name, key = _mount_account(cmd, account_name, account_key)
    result.azure_file_shares.append(models.AzureFileShareReference(
        relative_mount_path=mount_path, account_name=name, azure_file_url=azure_file_url(name, share),
        credentials=models.AzureStorageCredentialsInfo(account_key=key)))
    return result


def add_blob_container(cmd: Any, models: Any, volumes: Any, container: str, mount_path: Optional[str],
                       account_name: Optional[str] = None, account_key: Optional[str] = None) -> Any:
    """``volumes`` plus the blob container ``container`` of the effective account."""
    result = copy.deepcopy(volumes) if volumes else models.MountVolumes()
    if not mount_path:
        raise CLIError("Azure Storage Container relative mount path cannot be empty.")
    result.azure_blob_file_systems = list(result.azure_blob_file_systems or [])
    name, key = _mount_account(cmd, account_name, account_key)
    result.azure_blob_file_systems.append(models.AzureBlobFileSystemReference(
        relative_mount_path=mount_path, account_name=name, container_name=container,
        credentials=models.AzureStorageCredentialsInfo(account_key=key)))
    return result


__all__ = ["ACCOUNT_PLACEHOLDER", "KEY_PLACEHOLDER", "add_azure_file_share", "add_blob_container", "add_nfs",
           "azure_file_url", "effective_account", "effective_resource", "is_valid_resource_id",
           "parse_resource_id", "patch_mount_volumes", "storage_account_key"]
