"""``batchai cluster ...``: create/delete/list/show/resize/auto-scale, ``node list/exec``, ``file list``.

The command tree and options are those of azure-cli-batchai 0.4.10 (``commands.py``, ``_params.py``,
``custom.py``), plus the pre-workspace spellings of the 2018-03-01 / 2017-09-01-preview CLIs
(azure-cli-batchai 0.2.3 / 0.1.6): ``cluster list-nodes``, ``cluster list-files``, ``-c/--config``
(the config file), ``-l/--location``, ``--nfs-name``, ``--nfs-resource-group``, ``--container-name``,
``--container-mount-path``. Which shape a command line runs in is decided once, by
:func:`batchai_compat.cli._core.choose_generation`.
"""

from __future__ import annotations

import os
import random
import string
from collections import OrderedDict, namedtuple
from typing import Any, Dict, List, Optional

from knack.log import get_logger
from knack.util import CLIError

from batchai_compat.cli._core import add_help, command_group

logger = get_logger(__name__)
MODULE = __name__

#: Auto-storage names of 0.4.10 (``custom.py``).
AUTO_STORAGE_RESOURCE_GROUP = "batchaiautostorage"
AUTO_STORAGE_CONTAINER_NAME = "batchaicontainer"
AUTO_STORAGE_SHARE_NAME = "batchaishare"
AUTO_STORAGE_ACCOUNT_PREFIX = "bai"
AUTO_STORAGE_CONTAINER_PATH = "autobfs"
AUTO_STORAGE_SHARE_PATH = "autoafs"
DEFAULT_URL_EXPIRY_MIN = 60

#: ``--image`` aliases of 0.4.10: alias -> (publisher, offer, sku).
SUPPORTED_IMAGE_ALIASES = OrderedDict([
    ("UbuntuLTS", ("Canonical", "UbuntuServer", "16.04-LTS")),
    ("UbuntuDSVM", ("microsoft-ads", "linux-data-science-vm-ubuntu", "linuxdsvmubuntu")),
])

#: Entries of ``cluster file list`` (0.4.10 printed a namedtuple: snake_case keys).
LogFile = namedtuple("LogFile", "name download_url is_directory size")

#: old-only options that select the pre-workspace shape (``-c/--config``, a file as ``-f``, does not)
OLD_CREATE_ARGS = ("location", "nfs_resource_group")
#: ``id_part``s of 0.4.10's ``_params.py`` (``--ids`` on delete/show/resize/auto-scale)
IDS = {"resource_group": "resource_group", "workspace_name": "name", "cluster_name": "child_name_1"}


# --------------------------------------------------------------------------------------------
# table formats (columns of 0.4.10 _format.py)
# --------------------------------------------------------------------------------------------


def _workspace_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[8] if len(parts) > 8 else ""


def cluster_show_table_format(result: Dict[str, Any]) -> Dict[str, Any]:
    """Name, resource group, workspace, VM size, state and node counts."""
    row: Dict[str, Any] = OrderedDict()
    row["Name"] = result["name"]
    row["Resource Group"] = result["resourceGroup"]
    if "/workspaces/" in result["id"].lower():  # the pre-workspace CLI (0.2.x) had no Workspace column
        row["Workspace"] = _workspace_of(result["id"])
    row["VM Size"] = result["vmSize"]
    row["State"] = "deleting" if result.get("provisioningState") == "deleting" else result["allocationState"]
    counts = result.get("nodeStateCounts") or {}
    for column, key in (("Idle", "idleNodeCount"), ("Running", "runningNodeCount"),
                        ("Preparing", "preparingNodeCount"), ("Leaving", "leavingNodeCount"),
                        ("Unusable", "unusableNodeCount")):
        row[column] = str(counts.get(key))
    return row


def cluster_list_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One row per cluster."""
    return [cluster_show_table_format(item) for item in result]


def remote_login_table_format(result: List[Dict[str, Any]], port_column: str = "SSH Port") -> List[Dict[str, Any]]:
    """ID, IP and SSH port of each node."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["ID"] = item["nodeId"]
        row["IP"] = item["ipAddress"]
        row[port_column] = int(item["port"])
        table.append(row)
    return table


def remote_login_table_format_old(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``list-nodes`` of the pre-workspace CLI (0.2.x): the port column was ``Port``."""
    return remote_login_table_format(result, "Port")


def node_setup_files_list_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Name, directory flag and size of the setup task's files."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["Name"] = item["name"]
        row["Is directory"] = "yes" if item["is_directory"] else "no"
        row["Size"] = "" if item["size"] is None else (item["size"] or "0")
        table.append(row)
    return table


# --------------------------------------------------------------------------------------------
# registration
# --------------------------------------------------------------------------------------------


def load_commands(loader: Any) -> None:
    """Register the cluster commands (0.4.10's tree plus the old-only names)."""
    add_help("cluster", "Commands to manage clusters.", kind="group")
    add_help("cluster node", "Commands to work with cluster nodes.", kind="group")
    add_help("cluster file", "Commands to work with files generated by node setup task.", kind="group")
    add_help("cluster create", "Create a cluster.", examples=[
        ("Create a single-node GPU cluster with the default image and the current user's ssh key",
         "cluster create -g MyRG -w MyWorkspace -n MyCluster -s Standard_NC6 -t 1 --generate-ssh-keys"),
        ("Create an auto-scaling cluster mounting an Azure File share and a blob container",
         "cluster create -g MyRG -w MyWorkspace -n MyCluster -s Standard_NC6 --min 0 --max 4 "
         "--storage-account-name mystorage --afs-name data --bfs-name models -u alice -p MyPassw0rd"),
        ("Create a cluster from a configuration file (options given beside it win)",
         "cluster create -g MyRG -w MyWorkspace -n MyCluster -f cluster.json"),
        ("The pre-workspace CLI's spelling (resources in the resource group's default workspace)",
         "cluster create -g MyRG -n MyCluster -l eastus -c cluster.json")])
    add_help("cluster node exec", "Execute a command line on a cluster's node (local backend: no ssh needed).",
             examples=[("Print the GPUs of the first node", "cluster node exec -g MyRG -w MyWorkspace -c MyCluster "
                                                           "--exec nvidia-smi")])
    both: Dict[str, Any] = {"shape": "both", "workspace_arg": "workspace_name"}
    with command_group(loader, "cluster", MODULE) as g:
        g.command("create", "create_cluster", old_args=OLD_CREATE_ARGS, supports_no_wait=True,
                  legacy_options=("--config", "--container-name", "--container-mount-path", "--nfs-name"), **both)
        g.command("delete", "delete_cluster", supports_no_wait=True, confirmation=True, id_parts=IDS, **both)
        g.command("show", "show_cluster", table_transformer=cluster_show_table_format, show=True, id_parts=IDS,
                  **both)
        g.command("list", "list_clusters", table_transformer=cluster_list_table_format,
                  new_required=("resource_group",), **both)
        g.command("resize", "resize_cluster", id_parts=IDS, **both)
        g.command("auto-scale", "set_cluster_auto_scale_parameters", id_parts=IDS, **both)
        g.command("list-nodes", "list_nodes_old", table_transformer=remote_login_table_format_old, shape="old")
        g.command("list-files", "list_node_setup_files_old", table_transformer=node_setup_files_list_table_format,
                  shape="old")
    with command_group(loader, "cluster node", MODULE) as g:
        g.command("list", "list_nodes", table_transformer=remote_login_table_format, **both)
        g.command("exec", "exec_on_node", **both)
    with command_group(loader, "cluster file", MODULE) as g:
        g.command("list", "list_node_setup_files", table_transformer=node_setup_files_list_table_format, **both)


def load_arguments(loader: Any) -> None:
    """Options of 0.4.10's ``_params.py`` (and the old CLIs' for the old spellings)."""
    with loader.argument_context("cluster") as c:
        c.argument("workspace_name", options_list=["--workspace", "-w"], configured_default="workspace",
                   help="Name of workspace. Omit it (and configure no default) to use the pre-workspace CLI "
                        "shape: the resource group's default workspace 'default'.")
        c.argument("cluster_name", options_list=["--name", "-n"], help="Name of cluster.")
    with loader.argument_context("cluster create") as c:
        c.argument("json_file", options_list=["--config-file", "-f"], arg_group="Advanced",
                   help="A path to a json file containing cluster create parameters (json representation of "
                        "azure.mgmt.batchai.models.ClusterCreateParameters).")
        c.argument("config", options_list=["--config", "-c"], arg_group="Advanced",
                   help="Pre-workspace CLI: a path to the json file with cluster create parameters (the same "
                        "as --config-file; 0.4.10 read --config as its abbreviation).")
        c.argument("location", options_list=["--location", "-l"], configured_default="location",
                   help="Pre-workspace CLI: location of the cluster (default: the resource group's).")
        c.argument("setup_task", arg_group="Setup Task",
                   help="A command line which should be executed on each compute node when it's got allocated or "
                        "rebooted.")
        c.argument("setup_task_output", arg_group="Setup Task",
                   help="Directory path to store where setup-task's logs.")
        c.argument("subnet", options_list=["--subnet"], arg_group="Virtual Network",
                   help="ARM ID of a virtual network subnet to put the cluster in.")
        c.argument("user_name", options_list=["--user-name", "-u"], arg_group="Admin Account",
                   help="Name of admin user account to be created on each compute node (default: the current "
                        "user's name).")
        c.argument("ssh_key", options_list=["--ssh-key", "-k"], arg_group="Admin Account",
                   help="Optional SSH public key value or path (default: ~/.ssh/id_rsa.pub unless a password is "
                        "given).")
        c.argument("generate_ssh_keys", action="store_true", arg_group="Admin Account",
                   help="Generate SSH public and private key files in ~/.ssh directory (if missing).")
        c.argument("password", options_list=["--password", "-p"], arg_group="Admin Account",
                   help="Optional password for the admin user account to be created on each compute node.")
        c.argument("use_auto_storage", action="store_true", arg_group="Auto Storage",
                   help='Create (or reuse) a storage account in resource group "batchaiautostorage" with share '
                        '"batchaishare" and container "batchaicontainer", mounted at $AZ_BATCHAI_MOUNT_ROOT/autoafs '
                        'and $AZ_BATCHAI_MOUNT_ROOT/autobfs.')
        c.argument("image", options_list=["--image", "-i"], arg_group="Nodes",
                   help="Operation system image for cluster nodes: an alias ({}) or "
                        "publisher:offer:sku:version.".format(", ".join(SUPPORTED_IMAGE_ALIASES)))
        c.argument("custom_image", arg_group="Nodes",
                   help="ARM ID of a virtual machine image to be used for nodes creation (needs --image).")
        c.argument("vm_size", options_list=["--vm-size", "-s"], arg_group="Nodes",
                   help="VM size for cluster nodes (e.g. Standard_NC6 for 1 GPU node)")
        c.argument("target", options_list=["--target", "-t"], type=int, arg_group="Nodes",
                   help="Number of nodes which should be allocated immediately after cluster creation.")
        c.argument("min_nodes", options_list=["--min"], type=int, arg_group="Nodes",
                   help="Min nodes count for the auto-scale cluster.")
        c.argument("max_nodes", options_list=["--max"], type=int, arg_group="Nodes",
                   help="Max nodes count for the auto-scale cluster.")
        c.argument("vm_priority", options_list=["--vm-priority"], choices=["dedicated", "lowpriority"],
                   arg_group="Nodes", help="VM priority.")
        c.argument("nfs", options_list=["--nfs", "--nfs-name"], arg_group="File Server Mount",
                   help="Name or ARM ID of a file server to be mounted on each cluster node.")
        c.argument("nfs_resource_group", options_list=["--nfs-resource-group"], arg_group="File Server Mount",
                   help="Pre-workspace CLI: resource group of the file server given with --nfs.")
        c.argument("nfs_mount_path", options_list=["--nfs-mount-path"], arg_group="File Server Mount",
                   help="Relative mount path for NFS ($AZ_BATCHAI_MOUNT_ROOT/<relative_mount_path>).")
        c.argument("account_name", options_list=["--storage-account-name"], arg_group="Azure Storage Mount",
                   help="Storage account name for Azure File Shares and/or Azure Storage Containers to be mounted "
                        "on each cluster node. Can be specified using AZURE_BATCHAI_STORAGE_ACCOUNT environment "
                        "variable.")
        c.argument("account_key", options_list=["--storage-account-key"], arg_group="Azure Storage Mount",
                   help="Storage account key. Can be specified using AZURE_BATCHAI_STORAGE_KEY environment "
                        "variable.")
        c.argument("azure_file_share", options_list=["--afs-name"], arg_group="Azure Storage Mount",
                   help="Name of Azure File Share to be mounted on each cluster node.")
        c.argument("afs_mount_path", options_list=["--afs-mount-path"], arg_group="Azure Storage Mount",
                   help="Relative mount path for Azure File share.")
        c.argument("container_name", options_list=["--bfs-name", "--container-name"],
                   arg_group="Azure Storage Mount",
                   help="Name of Azure Storage container to be mounted on each cluster node.")
        c.argument("container_mount_path", options_list=["--bfs-mount-path", "--container-mount-path"],
                   arg_group="Azure Storage Mount", help="Relative mount path for Azure Storage container.")
    with loader.argument_context("cluster resize") as c:
        c.argument("target", options_list=["--target", "-t"], type=int, help="Target number of compute nodes.")
    with loader.argument_context("cluster auto-scale") as c:
        c.argument("min_nodes", options_list=["--min"], type=int, help="Minimum number of nodes.")
        c.argument("max_nodes", options_list=["--max"], type=int, help="Maximum number of nodes.")
    for group in ("cluster file", "cluster node"):
        with loader.argument_context(group) as c:
            c.argument("cluster_name", options_list=["--cluster", "-c"], help="Name of cluster.")
    for scope in ("cluster file list", "cluster list-files"):
        with loader.argument_context(scope) as c:
            c.argument("path", options_list=["--path", "-p"],
                       help="Relative path of a subfolder inside of the node setup task output directory.")
            c.argument("expiry", options_list=["--expiry"] + (["-e"] if scope.endswith("list-files") else []),
                       type=int, help="Time in minutes for how long generated download URLs should remain valid.")
    with loader.argument_context("cluster list") as c:
        c.argument("resource_group", options_list=["--resource-group", "-g"], configured_default="group",
                   help="Name of resource group (optional for the pre-workspace shape: all clusters).")
    with loader.argument_context("cluster node exec") as c:
        c.argument("cmdline", options_list=["--exec"],
                   help="Command line to be executed on the node (local backend: run in the node's directory).")
        c.argument("node_id", options_list=["--node-id", "-n"],
                   help="ID of the node (default: the first node of the cluster).")
        c.argument("ports", options_list=["--address", "-L"], action="append",
                   help="Port forwarding (not needed on the local backend: nodes listen on loopback addresses).")
        c.argument("password", options_list=["--password", "-p"], help="Optional password to establish SSH connection.")
        c.argument("ssh_private_key", options_list=["--ssh-private-key", "-k"],
                   help="Optional SSH private key path to establish SSH connection.")


# --------------------------------------------------------------------------------------------
# create
# --------------------------------------------------------------------------------------------


def _scope(cmd: Any, resource_group: str, workspace_name: Optional[str]) -> List[Any]:
    """Leading operation arguments: (rg, workspace) for 2018-05-01, (rg,) for the old shape."""
    return [resource_group] if cmd.old_shape else [resource_group, workspace_name]


def _image_reference(models: Any, image: Optional[str], custom_image: Optional[str]) -> Any:
    from batchai_compat.cli._mounts import is_valid_resource_id

    if custom_image and not image:
        raise CLIError("You need to specify --image argument with information about the custom image")
    if custom_image and not is_valid_resource_id(custom_image):
        raise CLIError("Ill-formed custom image resource id")
    assert image is not None
    if ":" in image:
        parts = image.split(":")
        if len(parts) != 4:
            raise CLIError('--image must have format "publisher:offer:sku:version" or "publisher:offer:sku:"')
        publisher, offer, sku, version = parts
        for value, what in ((publisher, "publisher"), (offer, "offer"), (sku, "sku")):
            if not value:
                raise CLIError(f"Image {what} must be provided in --image argument")
        return models.ImageReference(publisher=publisher, offer=offer, sku=sku, version=version or None,
                                     virtual_machine_image_id=custom_image)
    for alias, (publisher, offer, sku) in SUPPORTED_IMAGE_ALIASES.items():
        if alias.lower() == image.lower():
            return models.ImageReference(publisher=publisher, offer=offer, sku=sku,
                                         virtual_machine_image_id=custom_image)
    raise CLIError('Unsupported image alias "{}", supported aliases are {}'.format(
        image, ", ".join(SUPPORTED_IMAGE_ALIASES)))


def _scale_settings(models: Any, initial: Optional[int], min_count: Optional[int], max_count: Optional[int]) -> Any:
    """0.4.10's ``_get_scale_settings``: manual when only --target (or --min == --max), else auto-scale."""
    if not initial and not min_count and not max_count:
        return None
    if (min_count is None) != (max_count is None):
        raise CLIError("You need to either provide both min and max node counts or not provide any of them")
    if min_count is not None and max_count is not None and min_count > max_count:
        raise CLIError("Maximum nodes count must be greater or equal to minimum nodes count")
    if min_count == max_count:
        if min_count is None or initial == min_count:
            return models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=initial))
        if initial is None:
            return models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=min_count))
    return models.ScaleSettings(auto_scale=models.AutoScaleSettings(
        minimum_node_count=min_count, maximum_node_count=max_count, initial_node_count=initial or 0))


def _not_found(exc: BaseException) -> bool:
    return getattr(getattr(exc, "response", None), "status_code", None) == 404 or \
        getattr(exc, "status_code", None) == 404


def _ensure_cluster_absent(cmd: Any, resource_group: str, workspace_name: Optional[str], name: str) -> None:
    from msrestazure.azure_exceptions import CloudError

    try:
        cmd.client().clusters.get(*_scope(cmd, resource_group, workspace_name), name)
    except CloudError as exc:
        if _not_found(exc):
            return
        raise
    where = workspace_name if not cmd.old_shape else "default"
    raise CLIError(f'"{name}" already exists in "{resource_group}" resource group under {where} resource group.')


def _generate_auto_storage_account_name() -> str:
    letters = list(string.ascii_lowercase * 12)
    random.SystemRandom().shuffle(letters)
    return AUTO_STORAGE_ACCOUNT_PREFIX + "".join(letters[:12])


def _configure_auto_storage(cmd: Any, location: str) -> Any:
    """0.4.10's auto-storage: account in ``batchaiautostorage`` (reused per location), share and container."""
    from batchai_compat.cli._mounts import storage_account_key
    from batchai_compat.storage import BlockBlobService, FileService

    resources = cmd.resource_client()
    if resources.resource_groups.check_existence(AUTO_STORAGE_RESOURCE_GROUP):
        logger.warning("BatchAI will use existing %s resource group for auto-storage account",
                       AUTO_STORAGE_RESOURCE_GROUP)
    else:
        logger.warning("Creating %s resource group for auto-storage account", AUTO_STORAGE_RESOURCE_GROUP)
        resources.resource_groups.create_or_update(AUTO_STORAGE_RESOURCE_GROUP, {"location": location})
    storage = cmd.storage_client()
    account = None
    wanted = location.lower().replace(" ", "")
    for item in storage.storage_accounts.list_by_resource_group(AUTO_STORAGE_RESOURCE_GROUP):
        if (item.primary_location or "").lower() == wanted:
            account = item.name
            logger.warning("Using existing %s storage account as an auto-storage account", account)
            break
    if account is None:
        name = _generate_auto_storage_account_name()
        while not storage.storage_accounts.check_name_availability(name).name_available:
            name = _generate_auto_storage_account_name()
        storage.storage_accounts.create(AUTO_STORAGE_RESOURCE_GROUP, name, {
            "sku": {"name": "Standard_LRS"}, "kind": "Storage", "location": location}).result()
        account = name
        logger.warning("Created auto storage account %s", account)
    key = storage_account_key(cmd, account, None)
    FileService(account, key).create_share(AUTO_STORAGE_SHARE_NAME, fail_on_exist=False)
    BlockBlobService(account, key).create_container(AUTO_STORAGE_CONTAINER_NAME, fail_on_exist=False)
    return account, key


def create_cluster(cmd: Any, resource_group: str, cluster_name: str, workspace_name: Optional[str] = None,
                   json_file: Optional[str] = None, config: Optional[str] = None, location: Optional[str] = None,
                   user_name: Optional[str] = None, ssh_key: Optional[str] = None, password: Optional[str] = None,
                   generate_ssh_keys: bool = False, image: Optional[str] = None, custom_image: Optional[str] = None,
                   use_auto_storage: bool = False, vm_size: Optional[str] = None, vm_priority: Optional[str] = None,
                   target: Optional[int] = None, min_nodes: Optional[int] = None, max_nodes: Optional[int] = None,
                   subnet: Optional[str] = None, nfs: Optional[str] = None, nfs_resource_group: Optional[str] = None,
                   nfs_mount_path: str = "nfs", azure_file_share: Optional[str] = None, afs_mount_path: str = "afs",
                   container_name: Optional[str] = None, container_mount_path: str = "bfs",
                   account_name: Optional[str] = None, account_key: Optional[str] = None,
                   setup_task: Optional[str] = None, setup_task_output: Optional[str] = None) -> Any:
    """Create a cluster."""
    from batchai_compat.cli import _admin, _mounts
    from batchai_compat.cli._config_files import load_config_file

    models = cmd.models()
    client = cmd.client()
    scope = _scope(cmd, resource_group, workspace_name)
    json_file, ssh_key = _admin.config_file_and_ssh_key(json_file, config, generate_ssh_keys, ssh_key)
    _ensure_cluster_absent(cmd, resource_group, workspace_name, cluster_name)
    nfs_rg, nfs_ws, nfs_name = _mounts.effective_resource(nfs, nfs_resource_group or resource_group, workspace_name)
    if subnet and not _mounts.is_valid_resource_id(subnet):
        raise CLIError("Ill-formed subnet resource id")
    if json_file:
        params = load_config_file(json_file, "ClusterCreateParameters", models)
    else:
        params = models.ClusterCreateParameters(vm_size=None, user_account_settings=None) if not cmd.old_shape \
            else models.ClusterCreateParameters(location=None, vm_size=None, user_account_settings=None)
    if params.node_setup:
        params.node_setup.mount_volumes = _mounts.patch_mount_volumes(
            cmd, models, params.node_setup.mount_volumes, account_name, account_key)
    params = _admin.update_user_account_settings(params, models, user_name, ssh_key, password)
    if cmd.old_shape:
        params.location = location or params.location or \
            cmd.resource_client().resource_groups.get(resource_group).location
    if vm_size:
        params.vm_size = vm_size
    if not params.vm_size:
        raise CLIError("Please provide VM size")
    if vm_priority:
        params.vm_priority = vm_priority
    if image or custom_image:
        params.virtual_machine_configuration = models.VirtualMachineConfiguration(
            image_reference=_image_reference(models, image, custom_image))
    scale = _scale_settings(models, target, min_nodes, max_nodes)
    if scale:
        params.scale_settings = scale
    if not params.scale_settings or (not params.scale_settings.manual and not params.scale_settings.auto_scale):
        raise CLIError("Please provide scale setting for the cluster via command line or configuration file")
    mount_volumes = params.node_setup.mount_volumes if params.node_setup else None
    if nfs_name:
        nfs_scope = [nfs_rg] if cmd.old_shape or nfs_ws is None else [nfs_rg, nfs_ws]
        file_server = client.file_servers.get(*nfs_scope, nfs_name)
        if subnet and file_server.subnet is not None and file_server.subnet.id != subnet:
            raise CLIError("Cluster and mounted NFS must be in the same subnet.")
        mount_volumes = _mounts.add_nfs(models, mount_volumes, file_server.id, nfs_mount_path)
    if azure_file_share:
        mount_volumes = _mounts.add_azure_file_share(cmd, models, mount_volumes, azure_file_share, afs_mount_path,
                                                     account_name, account_key)
    if container_name:
        mount_volumes = _mounts.add_blob_container(cmd, models, mount_volumes, container_name,
                                                   container_mount_path, account_name, account_key)
    if use_auto_storage:
        if cmd.old_shape:
            auto_location = params.location
        else:
            auto_location = client.workspaces.get(resource_group, workspace_name).location
        auto_account, auto_key = _configure_auto_storage(cmd, auto_location)
        mount_volumes = _mounts.add_azure_file_share(cmd, models, mount_volumes, AUTO_STORAGE_SHARE_NAME,
                                                     AUTO_STORAGE_SHARE_PATH, auto_account, auto_key)
        mount_volumes = _mounts.add_blob_container(cmd, models, mount_volumes, AUTO_STORAGE_CONTAINER_NAME,
                                                   AUTO_STORAGE_CONTAINER_PATH, auto_account, auto_key)
    if mount_volumes:
        params.node_setup = params.node_setup or models.NodeSetup()
        params.node_setup.mount_volumes = mount_volumes
    if subnet:
        params.subnet = models.ResourceId(id=subnet)
    if setup_task:
        if setup_task_output is None:
            raise CLIError("--setup-task requires providing of --setup-task-output")
        params.node_setup = params.node_setup or models.NodeSetup()
        task: Dict[str, Any] = {"command_line": setup_task, "std_out_err_path_prefix": setup_task_output}
        if "run_elevated" in getattr(models.SetupTask, "_attribute_map", {}):
            task["run_elevated"] = False
        params.node_setup.setup_task = models.SetupTask(**task)
    return cmd.lro(client.clusters.create(*scope, cluster_name, params))


# --------------------------------------------------------------------------------------------
# the other commands
# --------------------------------------------------------------------------------------------


def delete_cluster(cmd: Any, resource_group: str, cluster_name: str, workspace_name: Optional[str] = None) -> Any:
    """Delete a cluster."""
    return cmd.lro(cmd.client().clusters.delete(*_scope(cmd, resource_group, workspace_name), cluster_name))


def show_cluster(cmd: Any, resource_group: str, cluster_name: str, workspace_name: Optional[str] = None) -> Any:
    """Show information about a cluster."""
    return cmd.client().clusters.get(*_scope(cmd, resource_group, workspace_name), cluster_name)


def list_clusters(cmd: Any, resource_group: Optional[str] = None, workspace_name: Optional[str] = None) -> Any:
    """List clusters (of a workspace; pre-workspace shape: of the resource group or the subscription)."""
    clusters = cmd.client().clusters
    if not cmd.old_shape:
        return list(clusters.list_by_workspace(resource_group, workspace_name))
    if resource_group:
        return list(clusters.list_by_resource_group(resource_group))
    return list(clusters.list())


def resize_cluster(cmd: Any, resource_group: str, cluster_name: str, target: int,
                   workspace_name: Optional[str] = None) -> Any:
    """Resize a cluster (manual scale to --target nodes)."""
    models = cmd.models()
    scale = models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=target))
    return cmd.client().clusters.update(*_scope(cmd, resource_group, workspace_name), cluster_name,
                                        scale_settings=scale)


def set_cluster_auto_scale_parameters(cmd: Any, resource_group: str, cluster_name: str, min_nodes: int,
                                      max_nodes: int, workspace_name: Optional[str] = None) -> Any:
    """Set auto-scale parameters of a cluster."""
    models = cmd.models()
    scale = models.ScaleSettings(auto_scale=models.AutoScaleSettings(minimum_node_count=min_nodes,
                                                                     maximum_node_count=max_nodes))
    return cmd.client().clusters.update(*_scope(cmd, resource_group, workspace_name), cluster_name,
                                        scale_settings=scale)


def list_nodes(cmd: Any, resource_group: str, cluster_name: str, workspace_name: Optional[str] = None) -> Any:
    """List remote login information for the cluster's nodes."""
    return list(cmd.client().clusters.list_remote_login_information(
        *_scope(cmd, resource_group, workspace_name), cluster_name))


def list_nodes_old(cmd: Any, resource_group: str, cluster_name: str) -> Any:
    """List remote login information for the cluster's nodes (pre-workspace CLI spelling)."""
    return list_nodes(cmd, resource_group, cluster_name)


def _is_on_mount_point(path: str, mount_path: str) -> bool:
    path = os.path.normpath(path).replace("\\", "/")
    mount_path = os.path.normpath(mount_path).replace("\\", "/")
    return path == mount_path or path.startswith(mount_path + "/")


def _storage_path(path: str) -> str:
    result = os.path.normpath(path).replace("\\", "/")
    return result[:-2] if result.endswith("/.") else result


def _files_from_afs(cmd: Any, afs: Any, path: str, expiry: int) -> List[Any]:
    import datetime

    from batchai_compat.cli._mounts import storage_account_key
    from batchai_compat.storage import File, FilePermissions, FileService

    service: Any = FileService(afs.account_name, storage_account_key(cmd, afs.account_name, None))
    share = afs.azure_file_url.rstrip("/").split("/")[-1]
    directory = _storage_path(path)
    if not service.exists(share, directory):
        return []
    result = []
    item: Any
    for item in service.list_directories_and_files(share, directory):
        if isinstance(item, File):
            sas = service.generate_file_shared_access_signature(
                share, directory, item.name, permission=FilePermissions(read=True),
                expiry=datetime.datetime.utcnow() + datetime.timedelta(minutes=expiry))
            url = service.make_file_url(share, directory, item.name, "https", sas)
            result.append(LogFile(item.name, url, False, item.properties.content_length))
        else:
            result.append(LogFile(item.name, None, True, None))
    return result


def _files_from_bfs(cmd: Any, bfs: Any, path: str, expiry: int) -> List[Any]:
    import datetime

    from batchai_compat.cli._mounts import storage_account_key
    from batchai_compat.storage import Blob, BlobPermissions, BlockBlobService

    service: Any = BlockBlobService(bfs.account_name, storage_account_key(cmd, bfs.account_name, None))
    prefix = _storage_path(path)
    result = []
    folders = set()
    item: Any
    for item in service.list_blobs(bfs.container_name, prefix + "/", delimiter="/"):
        if isinstance(item, Blob):
            sas = service.generate_blob_shared_access_signature(
                bfs.container_name, item.name, BlobPermissions(read=True),
                expiry=datetime.datetime.utcnow() + datetime.timedelta(minutes=expiry))
            url = service.make_blob_url(bfs.container_name, item.name, "https", sas)
            result.append(LogFile(os.path.basename(str(item.name)), url, False, item.properties.content_length))
        else:
            name = item.name.rstrip("/").split("/")[-1]
            folders.add(name)
            result.append(LogFile(name, None, True, None))
    return [f for f in result if f.is_directory or f.name not in folders]


def _node_setup_files(cmd: Any, cluster: Any, path: str, expiry: int) -> List[Any]:
    unsupported = ("List files is supported only for clusters with startup task configure to store its output on "
                   "Azure File Share or Azure Blob Container")
    if cluster.node_setup is None or cluster.node_setup.setup_task is None:
        return []
    prefix = cluster.node_setup.setup_task.std_out_err_path_prefix
    if not _is_on_mount_point(prefix, "$AZ_BATCHAI_MOUNT_ROOT"):
        raise CLIError(unsupported)
    suffix = cluster.node_setup.setup_task.std_out_err_path_suffix
    if not suffix:
        raise CLIError("List files is not supported for this cluster")
    relative = prefix[len("$AZ_BATCHAI_MOUNT_ROOT/"):]
    volumes = cluster.node_setup.mount_volumes
    if volumes is None:
        raise CLIError(unsupported)
    for afs in volumes.azure_file_shares or []:
        if _is_on_mount_point(relative, afs.relative_mount_path):
            inner = relative[len(afs.relative_mount_path):].strip("/")
            return _files_from_afs(cmd, afs, os.path.join(inner, suffix, path), expiry)
    for bfs in volumes.azure_blob_file_systems or []:
        if _is_on_mount_point(relative, bfs.relative_mount_path):
            inner = relative[len(bfs.relative_mount_path):].strip("/")
            return _files_from_bfs(cmd, bfs, os.path.join(inner, suffix, path), expiry)
    raise CLIError(unsupported)


def list_node_setup_files(cmd: Any, resource_group: str, cluster_name: str, workspace_name: Optional[str] = None,
                          path: str = ".", expiry: int = DEFAULT_URL_EXPIRY_MIN) -> Any:
    """List the node setup task's log files (on the Azure File share or container they were written to)."""
    cluster = cmd.client().clusters.get(*_scope(cmd, resource_group, workspace_name), cluster_name)
    return _node_setup_files(cmd, cluster, path, expiry)


def list_node_setup_files_old(cmd: Any, resource_group: str, cluster_name: str, path: str = ".",
                              expiry: int = DEFAULT_URL_EXPIRY_MIN) -> Any:
    """List the node setup task's log files (pre-workspace CLI spelling)."""
    return list_node_setup_files(cmd, resource_group, cluster_name, None, path, expiry)


def exec_on_node(cmd: Any, resource_group: str, cluster_name: str, workspace_name: Optional[str] = None,
                 node_id: Optional[str] = None, ports: Optional[List[str]] = None, cmdline: Optional[str] = None,
                 password: Optional[str] = None, ssh_private_key: Optional[str] = None) -> Any:
    """Execute a command line on a cluster node (local backend: in the node's directory, no ssh)."""
    if not any((cmdline, ports)):
        return None
    client = cmd.client()
    scope = _scope(cmd, resource_group, workspace_name)
    nodes = list(client.clusters.list_remote_login_information(*scope, cluster_name))
    if node_id:
        chosen = [n for n in nodes if n.node_id == node_id]
        if not chosen:
            raise CLIError(f"Cannot find a node with id={node_id}")
        node = chosen[0]
    else:
        if not nodes:
            raise CLIError("No nodes available in the cluster")
        node = nodes[0]
    return run_on_local_node(client, node.node_id, node.ip_address, node.port, cmdline, ports)


def run_on_local_node(client: Any, node_id: str, ip: str, port: Any, cmdline: Optional[str],
                      ports: Optional[List[str]]) -> None:
    """Run ``cmdline`` on a local-backend node: ``bash -lc`` in the node's directory, its mount root exported.

    0.4.10 opened an ssh session (paramiko) to the node's public address; the local backend's nodes are
    directories on this machine with no ssh server, so the command runs here, with
    ``AZ_BATCHAI_MOUNT_ROOT`` pointing at the node's mounts; the process's exit code becomes the
    command's. ``-L`` port forwarding is refused: the node's services listen on its loopback address.
    """
    import subprocess

    backend = getattr(client, "backend", None)
    store = getattr(backend, "store", None)
    if store is None:
        raise CLIError("'node exec' runs commands on local-backend nodes only; this backend's nodes are reached "
                       f"with ssh at {ip}:{port}.")
    if ports:
        raise CLIError(f"Port forwarding (-L/--address) is not needed on the local backend: connect to the node's "
                       f"own address {ip} directly.")
    with store.read() as conn:
        row = conn.execute("SELECT root FROM nodes WHERE node_id=?", (node_id,)).fetchone()
    if row is None:
        raise CLIError(f"Cannot find a node with id={node_id}")
    root = str(row[0])
    env = dict(os.environ)
    env["AZ_BATCHAI_MOUNT_ROOT"] = os.path.join(root, "mounts")
    env["AZ_BATCHAI_NODE_IP"] = str(ip)
    proc = subprocess.run(["bash", "-lc", cmdline or ""], cwd=root, env=env, check=False)
    if proc.returncode:
        raise SystemExit(proc.returncode)
    return None
