"""``batchai storage account|share|directory|file|container|blob ...``: the ``az storage`` commands of the recipes.

Options, defaults, output shapes and table columns as azure-cli-storage 2.2.0 (``commands.py``,
``_params.py``, ``__init__.py``'s ``StorageCommandGroup``/``StorageArgumentContext``, ``_format.py``,
``_transformers.py``); handlers in :mod:`batchai_compat.cli._companion`. Shares and containers live
where the local backend mounts them (docs/storage-layout.md). See docs/cli-companion.md.
"""

from __future__ import annotations

from typing import Any

from batchai_compat.cli import _companion as comp
from batchai_compat.cli._core import command_group

_ACCOUNT = "Storage Account"
_PRECONDITION = "Precondition"
_CONTENT = "Content Control"

_DATA_PLANE = ("storage share", "storage directory", "storage file", "storage container", "storage blob")


def load_commands(loader: Any) -> None:
    """Register the ``storage`` commands."""
    mod = comp.MODULE
    boolean = comp.transform_boolean_for_table
    with command_group(loader, "storage account", mod) as g:
        g.command("create", "create_storage_account")
        g.command("show", "show_storage_account")
        g.command("list", "list_storage_accounts")
        g.command("delete", "delete_storage_account", confirmation=True)
        g.command("show-connection-string", "show_storage_account_connection_string")
    with command_group(loader, "storage account keys", mod) as g:
        g.command("list", "list_storage_account_keys")
        g.command("renew", "renew_storage_account_key")
    with command_group(loader, "storage share", mod) as g:
        g.command("create", "create_share", table_transformer=boolean)
        g.command("delete", "delete_share", table_transformer=boolean)
        g.command("list", "list_shares", table_transformer=comp.transform_share_list)
        g.command("exists", "share_exists")
    with command_group(loader, "storage directory", mod) as g:
        g.command("create", "create_directory", table_transformer=boolean)
        g.command("exists", "directory_exists")
    with command_group(loader, "storage file", mod) as g:
        g.command("upload", "upload_file")
        g.command("download", "download_file")
        g.command("list", "list_files", table_transformer=comp.transform_file_output)
        g.command("delete", "delete_file", table_transformer=boolean)
        g.command("exists", "file_exists")
    with command_group(loader, "storage container", mod) as g:
        g.command("create", "create_container", table_transformer=boolean)
        g.command("delete", "delete_container", table_transformer=boolean)
        g.command("list", "list_containers", table_transformer=comp.transform_container_list)
        g.command("exists", "container_exists", table_transformer=boolean)
    with command_group(loader, "storage blob", mod) as g:
        g.command("upload", "upload_blob")
        g.command("upload-batch", "upload_blob_batch")
        g.command("download", "download_blob", table_transformer=comp.transform_blob_output)
        g.command("list", "list_blobs", table_transformer=comp.transform_blob_output)
        g.command("delete", "delete_blob", table_transformer=boolean)
        g.command("exists", "blob_exists")


def _account_args(c: Any) -> None:
    """The four credential options every data-plane command has (``_register_data_plane_account_arguments``)."""
    c.argument("account_name", options_list=["--account-name"], arg_group=_ACCOUNT,
               help="Storage account name. Related environment variable: AZURE_STORAGE_ACCOUNT. Must be used in "
                    "conjunction with either storage account key or a SAS token. If neither are present, the "
                    "command will try to query the storage account key using the authenticated Azure account.")
    c.argument("account_key", options_list=["--account-key"], arg_group=_ACCOUNT,
               help="Storage account key. Must be used in conjunction with storage account name. Environment "
                    "variable: AZURE_STORAGE_KEY")
    c.argument("connection_string", options_list=["--connection-string"], arg_group=_ACCOUNT,
               help="Storage account connection string. Environment variable: AZURE_STORAGE_CONNECTION_STRING")
    c.argument("sas_token", options_list=["--sas-token"], arg_group=_ACCOUNT,
               help="A Shared Access Signature (SAS). Must be used in conjunction with storage account name. "
                    "Environment variable: AZURE_STORAGE_SAS_TOKEN")


def _content_args(c: Any, group: Any = None) -> None:
    """``register_content_settings_argument``: the ``--content-*`` options."""
    c.argument("content_type", help="The content MIME type.", arg_group=group)
    c.argument("content_encoding", help="The content encoding type.", arg_group=group)
    c.argument("content_language", help="The content language.", arg_group=group)
    c.argument("content_disposition", arg_group=group,
               help="Conveys additional information about how to process the response payload, and can also be "
                    "used to attach additional metadata.")
    c.argument("content_cache_control", help="The cache control string.", arg_group=group)
    c.argument("content_md5", help="The content's MD5 hash.", arg_group=group)


def load_arguments(loader: Any) -> None:
    """azure-cli-storage 2.2.0's options for these commands."""
    with loader.argument_context("storage") as c:
        c.argument("container_name", options_list=["--container-name", "-c"], help="The container name.")
        c.argument("share_name", options_list=["--share-name", "-s"], help="The file share name.")
        c.argument("directory_name", options_list=["--directory-name", "-d"], help="The directory name.")
        c.argument("metadata", nargs="+",
                   help="Metadata in space-separated key=value pairs. This overwrites any existing metadata.")
        c.argument("timeout", type=int, help="Request timeout in seconds. Applies to each call to the service.")
        c.argument("num_results", type=int)
        c.argument("max_connections", type=int)
        c.argument("start_range", type=int)
        c.argument("end_range", type=int)
        c.argument("quota", type=int)
        c.argument("no_progress", help="Include this flag to disable progress reporting for the command.")
        for dest in ("if_modified_since", "if_unmodified_since", "if_match", "if_none_match"):
            c.argument(dest, arg_group=_PRECONDITION)
    for scope in _DATA_PLANE:
        with loader.argument_context(scope) as c:
            _account_args(c)

    # -- accounts ------------------------------------------------------------------------------
    for item in ("show", "delete", "show-connection-string", "keys"):
        with loader.argument_context(f"storage account {item}") as c:
            c.argument("account_name", options_list=["--name", "-n"], help="The storage account name.")
            c.argument("resource_group_name", options_list=["--resource-group", "-g"], configured_default="group",
                       help="Name of resource group. You can configure the default group using "
                            "`az configure --defaults group=<name>`.")
    with loader.argument_context("storage account keys") as c:
        c.argument("account_name", options_list=["--account-name", "-n"], help="The storage account name.")
    with loader.argument_context("storage account keys renew") as c:
        c.argument("key_name", options_list=["--key"], choices=list(comp.KEY_OPTIONS),
                   help="The key to regenerate.")
    with loader.argument_context("storage account list") as c:
        c.argument("resource_group_name", options_list=["--resource-group", "-g"], configured_default="group",
                   help="Name of resource group. You can configure the default group using "
                        "`az configure --defaults group=<name>`.")
    with loader.argument_context("storage account create") as c:
        c.argument("account_name", options_list=["--name", "-n"], help="The storage account name.")
        c.argument("resource_group_name", options_list=["--resource-group", "-g"], configured_default="group",
                   help="Name of resource group. You can configure the default group using "
                        "`az configure --defaults group=<name>`.")
        c.argument("location", options_list=["--location", "-l"], configured_default="location",
                   help="Location. If not specified, the location of the resource group will be used.")
        c.argument("sku", choices=["Premium_LRS", "Standard_GRS", "Standard_LRS", "Standard_RAGRS", "Standard_ZRS"],
                   help="The storage account SKU.")
        c.argument("kind", choices=["BlobStorage", "Storage", "StorageV2"],
                   help="Indicates the type of storage account.")
        c.argument("tags", nargs="*", help="space-separated tags in 'key[=value]' format.")
        c.argument("custom_domain", help="User domain assigned to the storage account. Name is the CNAME source.")
        c.argument("encryption_services", nargs="+", choices=["blob", "file", "queue", "table"],
                   help="Specifies which service(s) to encrypt.")
        c.argument("access_tier", choices=["Cool", "Hot"],
                   help="The access tier used for billing StandardBlob accounts.")
        c.argument("https_only", choices=["false", "true"], help="Allows https traffic only to storage service.")
        c.argument("bypass", nargs="+", choices=["AzureServices", "Logging", "Metrics", "None"],
                   arg_group="Network Rule", help="Bypass traffic for space-separated uses.")
        c.argument("default_action", choices=["Allow", "Deny"], arg_group="Network Rule",
                   help="Default action to apply when no rule matches.")
        c.argument("assign_identity", help="Generate and assign a new Storage Account Identity for this storage "
                                           "account for use with key management services like Azure KeyVault.")
    with loader.argument_context("storage account show-connection-string") as c:
        c.argument("protocol", choices=["http", "https"], help="The default endpoint protocol.")
        c.argument("key_name", options_list=["--key"], choices=list(comp.KEY_OPTIONS), help="The key to use.")
        for item in ("blob", "file", "queue", "table"):
            c.argument(f"{item}_endpoint", help=f"Custom endpoint for {item}s.")

    # -- shares, directories, files ------------------------------------------------------------
    with loader.argument_context("storage share") as c:
        c.argument("share_name", options_list=["--name", "-n"], help="The file share name.")
    with loader.argument_context("storage share delete") as c:
        c.argument("delete_snapshots", choices=["include"],
                   help="Specify the deletion strategy when the share has snapshots.")
    with loader.argument_context("storage directory") as c:
        c.argument("directory_name", options_list=["--name", "-n"], help="The directory name.")
    for name in ("upload", "download", "delete", "exists"):
        with loader.argument_context(f"storage file {name}") as c:
            c.argument("path", options_list=["--path", "-p"], help="The path to the file within the file share.")
    with loader.argument_context("storage file upload") as c:
        c.argument("path", options_list=["--path", "-p"], required=False,
                   help="The path to the file within the file share. If the file name is omitted, the source file "
                        "name will be used.")
        c.argument("local_file_path", options_list=["--source"], help="Path of the local file to upload as the "
                                                                      "file content.")
        _content_args(c)
    with loader.argument_context("storage file download") as c:
        c.argument("file_path", options_list=["--dest"], required=False,
                   help="Path of the file to write to. The source filename will be used if not specified.")
    with loader.argument_context("storage file list") as c:
        c.argument("directory_name", options_list=["--path", "-p"], help="The directory path within the file share.")
        c.argument("exclude_dir", help="List only files in the given share.")

    # -- containers and blobs ------------------------------------------------------------------
    with loader.argument_context("storage container") as c:
        c.argument("container_name", options_list=["--name", "-n"], help="The container name.")
        c.argument("public_access", choices=["blob", "container", "off"],
                   help="Specifies whether data in the container may be accessed publically. By default, container "
                        "data is private (\"off\") to the account owner. Use \"blob\" to allow public read access "
                        "for blobs. Use \"container\" to allow public read and list access to the entire container.")
    with loader.argument_context("storage container create") as c:
        c.argument("fail_on_exist", help="Throw an exception if the container already exists.")
    with loader.argument_context("storage container delete") as c:
        c.argument("fail_not_exist", help="Throw an exception if the container does not exist.")
    with loader.argument_context("storage blob") as c:
        c.argument("blob_name", options_list=["--name", "-n"], help="The blob name.")
        c.argument("blob_type", options_list=["--type", "-t"], choices=["append", "block", "page"])
        c.argument("destination_path", help="The destination path that will be appended to the blob name.")
    for name in ("upload", "download"):
        with loader.argument_context(f"storage blob {name}") as c:
            c.argument("file_path", options_list=["--file", "-f"])
    with loader.argument_context("storage blob upload") as c:
        _content_args(c)
    with loader.argument_context("storage blob upload-batch") as c:
        c.argument("source", options_list=["--source", "-s"])
        c.argument("destination", options_list=["--destination", "-d"])
        c.argument("pattern", help="The pattern used for globbing files or blobs in the source.")
        c.argument("dryrun", help="Show the summary of the operations to be taken instead of actually uploading "
                                  "the file(s).")
        _content_args(c, _CONTENT)
    with loader.argument_context("storage blob list") as c:
        c.argument("include", help="Specifies additional datasets to include: (c)opy-info, (m)etadata, "
                                   "(s)napshots, (d)eleted-soft. Can be combined.")
        c.argument("num_results", type=int, help="Specifies the maximum number of blobs to return. Must be in range "
                                                 "[1,5000]. If this parameter is not provided, all blobs will be "
                                                 "returned.")
    with loader.argument_context("storage blob delete") as c:
        c.argument("delete_snapshots", choices=["include", "only"])
