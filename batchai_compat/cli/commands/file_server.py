"""``batchai file-server create/delete/list/show`` (azure-cli-batchai 0.4.10, and the 0.2.x/0.1.x spellings).

``create`` merges the config file (``-f/--config-file``; pre-workspace CLI ``-c/--config``) with the
options, options winning, and checks what 0.4.10 checked (disk size, disk count, storage SKU, VM
size, admin account). 0.4.10 ran it with ``no_wait_param='raw'``: ``--no-wait`` returns at once.
0.4.10 read ``-g``/``-w`` defaults of ``file-server create`` from ``[defaults] default_workspace_resource_group``
/ ``default_workspace_name``; those keys come first, then ``group`` / ``workspace``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Optional

from knack.util import CLIError

from batchai_compat.cli._core import add_help, command_group

MODULE = __name__
OLD_CREATE_ARGS = ("location",)
#: ``id_part``s of 0.4.10's ``_params.py`` (``--ids`` on delete/show)
IDS = {"resource_group": "resource_group", "workspace_name": "name", "file_server_name": "child_name_1"}


def file_server_show_table_format(result: Dict[str, Any]) -> Dict[str, Any]:
    """Columns of 0.4.10's ``file_server_show_table_format``."""
    row: Dict[str, Any] = OrderedDict()
    row["Name"] = result["name"]
    row["Resource Group"] = result["resourceGroup"]
    row["Size"] = result["vmSize"]
    disks = result.get("dataDisks")
    if disks:
        row["Disks"] = "{} x {} Gb".format(disks["diskCount"], disks["diskSizeInGb"])
    mount = result.get("mountSettings")
    if mount:
        row["Public IP"] = mount["fileServerPublicIp"]
        row["Internal IP"] = mount["fileServerInternalIp"]
        if "/workspaces/" not in result["id"].lower():  # the 0.2.x table had a Type column
            row["Type"] = mount.get("fileServerType")
        row["Mount Point"] = mount["mountPoint"]
    return row


def file_server_list_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One row per file server."""
    return [file_server_show_table_format(item) for item in result]


def load_commands(loader: Any) -> None:
    """Register the file-server commands."""
    add_help("file-server", "Commands to manage file servers.", kind="group")
    add_help("file-server create", "Create a file server.", examples=[
        ("Create an NFS with two 10 GB disks (admin user: the current user, key ~/.ssh/id_rsa.pub)",
         "file-server create -g MyRG -w MyWorkspace -n MyNFS -s Standard_D14 --disk-count 2 --disk-size 10 "
         "--storage-sku Premium_LRS"),
        ("Create it from a configuration file", "file-server create -g MyRG -w MyWorkspace -n MyNFS -f nfs.json")])
    both: Dict[str, Any] = {"shape": "both", "workspace_arg": "workspace_name"}
    with command_group(loader, "file-server", MODULE) as g:
        g.command("create", "create_file_server", old_args=OLD_CREATE_ARGS, supports_no_wait=True,
                  legacy_options=("--config", "--admin-user-name"), **both)
        g.command("delete", "delete_file_server", supports_no_wait=True, confirmation=True, id_parts=IDS, **both)
        g.command("show", "show_file_server", table_transformer=file_server_show_table_format, show=True,
                  id_parts=IDS, **both)
        g.command("list", "list_file_servers", table_transformer=file_server_list_table_format,
                  new_required=("resource_group",), **both)


def load_arguments(loader: Any) -> None:
    """Options of 0.4.10's ``_params.py`` for ``batchai file-server``."""
    with loader.argument_context("file-server") as c:
        c.argument("workspace_name", options_list=["--workspace", "-w"], configured_default="workspace",
                   help="Name of workspace. Omit it (and configure no default) to use the pre-workspace CLI "
                        "shape: the resource group's default workspace 'default'.")
        c.argument("file_server_name", options_list=["--name", "-n"], help="Name of file server.")
    with loader.argument_context("file-server create") as c:
        # 0.4.10 gave create (its custom command) these [defaults] keys; show/delete/list took "group"
        c.argument("resource_group", options_list=["--resource-group", "-g"],
                   configured_default="default_workspace_resource_group|group",
                   help="Name of resource group. You can configure a default value by setting up default workspace "
                        "(`az configure --defaults default_workspace_resource_group=<name>` or group=<name>).")
        c.argument("workspace_name", options_list=["--workspace", "-w"],
                   configured_default="default_workspace_name|workspace",
                   help="Name or ARM ID of the workspace (`az configure --defaults default_workspace_name=<name>` "
                        "or workspace=<name>). Omit it to use the pre-workspace CLI shape.")
        c.argument("vm_size", options_list=["--vm-size", "-s"], help="VM size.")
        c.argument("json_file", options_list=["--config-file", "-f"], arg_group="Advanced",
                   help="A path to a json file containing file server create parameters (json representation of "
                        "azure.mgmt.batchai.models.FileServerCreateParameters). Note, parameters given via command "
                        "line will overwrite parameters specified in the configuration file.")
        c.argument("config", options_list=["--config", "-c"], arg_group="Advanced",
                   help="Pre-workspace CLI: a path to the json file with file server create parameters (the "
                        "same as --config-file).")
        c.argument("location", options_list=["--location", "-l"], configured_default="location",
                   help="Pre-workspace CLI: location of the file server (default: the resource group's).")
        c.argument("disk_count", type=int, arg_group="Storage Disks", help="Number of disks.")
        c.argument("disk_size", type=int, arg_group="Storage Disks", help="Disk size in Gb.")
        c.argument("caching_type", choices=["none", "readonly", "readwrite"], arg_group="Storage Disks",
                   help="Caching type for premium disks. If not provided via command line or in configuration "
                        "file, no caching will be used.")
        c.argument("storage_sku", choices=["Premium_LRS", "Standard_LRS"], arg_group="Storage Disks",
                   help="The sku of storage account to persist VM.")
        c.argument("user_name", options_list=["--user-name", "-u", "--admin-user-name"], arg_group="Admin Account",
                   help="Name of admin user account to be created on NFS node (default: the current user's name).")
        c.argument("ssh_key", options_list=["--ssh-key", "-k"], arg_group="Admin Account",
                   help="Optional SSH public key value or path (default: ~/.ssh/id_rsa.pub unless a password is "
                        "given).")
        c.argument("generate_ssh_keys", action="store_true", arg_group="Admin Account",
                   help="Generate SSH public and private key files in ~/.ssh directory (if missing).")
        c.argument("password", options_list=["--password", "-p"], arg_group="Admin Account",
                   help="Optional password for the admin user created on the NFS node.")
        c.argument("subnet", options_list=["--subnet"], arg_group="Virtual Network",
                   help="ARM ID of a virtual network subnet to put the file server in.")
    with loader.argument_context("file-server list") as c:
        c.argument("resource_group", options_list=["--resource-group", "-g"], configured_default="group",
                   help="Name of resource group (optional for the pre-workspace shape: all file servers).")


def _scope(cmd: Any, resource_group: Optional[str], workspace_name: Optional[str]) -> List[Any]:
    if cmd.old_shape:
        return [resource_group]
    from batchai_compat.cli._mounts import parse_resource_id

    parts = parse_resource_id(workspace_name or "")
    if parts:  # 0.4.10 took a workspace name or ARM id here
        return [parts["resource_group"], parts["name"]]
    return [resource_group, workspace_name]


def create_file_server(cmd: Any, resource_group: str, file_server_name: str, workspace_name: Optional[str] = None,
                       json_file: Optional[str] = None, config: Optional[str] = None, location: Optional[str] = None,
                       vm_size: Optional[str] = None, user_name: Optional[str] = None, ssh_key: Optional[str] = None,
                       password: Optional[str] = None, generate_ssh_keys: bool = False,
                       disk_count: Optional[int] = None, disk_size: Optional[int] = None,
                       caching_type: Optional[str] = None, storage_sku: Optional[str] = None,
                       subnet: Optional[str] = None) -> Any:
    """Create a file server."""
    from msrestazure.azure_exceptions import CloudError

    from batchai_compat.cli import _admin, _mounts
    from batchai_compat.cli._config_files import load_config_file

    models = cmd.models()
    client = cmd.client()
    scope = _scope(cmd, resource_group, workspace_name)
    json_file, ssh_key = _admin.config_file_and_ssh_key(json_file, config, generate_ssh_keys, ssh_key)
    try:
        client.file_servers.get(*scope, file_server_name)
    except CloudError as exc:
        if getattr(exc, "status_code", None) != 404:
            raise
    else:
        where = scope[1] if len(scope) > 1 else "default"
        raise CLIError(f'"{file_server_name}" already exists in "{scope[0]}" resource group under {where} '
                       "resource group.")
    if json_file:
        params = load_config_file(json_file, "FileServerCreateParameters", models)
    elif cmd.old_shape:
        params = models.FileServerCreateParameters(location=None, vm_size=None, ssh_configuration=None,
                                                   data_disks=None)
    else:
        params = models.FileServerCreateParameters(vm_size=None, ssh_configuration=None, data_disks=None)
    params = _admin.update_user_account_settings(params, models, user_name, ssh_key, password)
    if cmd.old_shape:
        params.location = location or params.location or \
            cmd.resource_client().resource_groups.get(resource_group).location
    else:
        client.workspaces.get(*scope)  # 0.4.10 read the workspace's location here: a missing one is an error
    if not params.data_disks:
        params.data_disks = models.DataDisks(disk_size_in_gb=None, disk_count=None, storage_account_type=None)
    if disk_size:
        params.data_disks.disk_size_in_gb = disk_size
    if not params.data_disks.disk_size_in_gb:
        raise CLIError("Please provide disk size in Gb.")
    if disk_count:
        params.data_disks.disk_count = disk_count
    if not params.data_disks.disk_count:
        raise CLIError("Please provide number of data disks (at least one disk is required).")
    if caching_type:
        params.data_disks.caching_type = caching_type
    if storage_sku:
        params.data_disks.storage_account_type = storage_sku
    if not params.data_disks.storage_account_type:
        raise CLIError("Please provide storage account type (storage sku).")
    if vm_size:
        params.vm_size = vm_size
    if not params.vm_size:
        raise CLIError("Please provide VM size.")
    if subnet:
        if not _mounts.is_valid_resource_id(subnet):
            raise CLIError("Ill-formed subnet resource id")
        params.subnet = models.ResourceId(id=subnet)
    return cmd.lro(client.file_servers.create(*scope, file_server_name, params))


def delete_file_server(cmd: Any, resource_group: str, file_server_name: str,
                       workspace_name: Optional[str] = None) -> Any:
    """Delete a file server."""
    return cmd.lro(cmd.client().file_servers.delete(*_scope(cmd, resource_group, workspace_name), file_server_name))


def show_file_server(cmd: Any, resource_group: str, file_server_name: str,
                     workspace_name: Optional[str] = None) -> Any:
    """Show information about a file server."""
    return cmd.client().file_servers.get(*_scope(cmd, resource_group, workspace_name), file_server_name)


def list_file_servers(cmd: Any, resource_group: Optional[str] = None, workspace_name: Optional[str] = None) -> Any:
    """List file servers (of a workspace; pre-workspace shape: of the resource group or the subscription)."""
    servers = cmd.client().file_servers
    if not cmd.old_shape:
        return list(servers.list_by_workspace(*_scope(cmd, resource_group, workspace_name)))
    if resource_group:
        return list(servers.list_by_resource_group(resource_group))
    return list(servers.list())
