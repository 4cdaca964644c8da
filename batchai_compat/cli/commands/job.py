"""``batchai job ...``: the job commands of ``azure-cli-batchai`` 0.4.10 and of the pre-workspace CLIs.

2018-05-01 (0.4.10, ``commands.py``/``_params.py``): ``job create/delete/terminate/show/list/wait``,
``job node list/exec``, ``job file list/stream``. 0.4.10 has no ``job file upload`` (inputs were
uploaded with ``az storage``), so neither do we.

The pre-workspace shape (0.2.3 on API 2018-03-01, 0.1.6 on 2017-09-01-preview) runs when no
workspace is given or configured, or when one of its own options is used (``-r/--cluster-name``,
``--cluster-resource-group``, ``-l/--location``, ``--nfs-name``, ``--nfs-resource-group``; ``-n`` for the
job of ``job file ...``); jobs then live in the resource group's default workspace and experiment
(``batchai_compat._generations``). The old command names ``job list-nodes`` (0.1.6/0.2.3),
``job list-files`` and ``job stream-file`` (0.1.6) exist too. ``-c`` is the cluster in 0.4.10 and the
config file in the old CLIs: a ``-c`` naming a file while no ``-f``/``--config`` is given is read as
the file (``--config`` is an alias of ``--config-file``). See docs/cli-jobs.md.

Handlers import the SDK inside their bodies: loading this module costs knack only.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from batchai_compat.cli import _job_format as fmt
from batchai_compat.cli._core import _given, choose_generation, command_group

MODULE = __name__
PREVIEW = "2017-09-01-preview"

# Option strings, for the argparse-style "required" messages of shape-dependent options.
_OPTIONS = {
    "resource_group": "--resource-group/-g",
    "workspace_name": "--workspace/-w",
    "experiment_name": "--experiment/-e",
    "job_name": "--name/-n",
    "json_file": "--config-file/-f",
    "cluster": "--cluster/-c",
    "file_name": "--file-name/-f",
}


# ---------------------------------------------------------------------------------- validators

def _value(ns: Any, dest: str) -> Any:
    return getattr(ns, dest, None)


def _explicit(ns: Any, dest: str) -> bool:
    return _given(_value(ns, dest))


def _is_file_like(value: Any) -> bool:
    return bool(value) and (os.path.isfile(os.path.expanduser(str(value))) or str(value).lower().endswith(".json"))


def _require(ns: Any, dests: List[str]) -> None:
    """argparse's own complaint (usage line, ``error: the following arguments are required``, exit 2)."""
    missing = [_OPTIONS.get(d, "--" + d.replace("_", "-")) for d in dests if not _value(ns, d)]
    if missing:
        raise ValueError("the following arguments are required: " + ", ".join(missing))


def _generation(ns: Any) -> str:
    return choose_generation(ns.func.spec, vars(ns))


def _validate_job_command(ns: Any) -> None:
    """Shape-dependent checks of ``job delete/terminate/show/wait/list`` and ``job node list``.

    2018-05-01 needs ``-e`` (as 0.4.10 did); an ``-e`` without a workspace is 0.4.10's command with
    ``-w`` missing, not the old shape.
    """
    if _explicit(ns, "experiment_name") and not _value(ns, "workspace_name"):
        _require(ns, ["workspace_name"])
    if _generation(ns) == "2018-05-01":
        _require(ns, ["resource_group", "experiment_name"])


def _validate_create(ns: Any) -> None:
    """``job create``: ``-c`` is the cluster (0.4.10) or the config file (the old CLIs); then the checks.

    ``-c`` naming an existing file or ending in ``.json`` while no ``-f``/``--config`` is given is the old
    CLIs' file (no cluster name can contain a dot in API 2018-05-01). That is an old-CLI command line, so a
    workspace that only comes from ``az configure --defaults`` is ignored, as for the old-only options.
    """
    if not ns.json_file and _is_file_like(ns.cluster):
        ns.json_file, ns.cluster = ns.cluster, None
        if not _explicit(ns, "workspace_name"):
            ns.workspace_name = None
    if _explicit(ns, "experiment_name") and not _value(ns, "workspace_name"):
        _require(ns, ["workspace_name"])
    if _generation(ns) == "2018-05-01":
        _require(ns, ["experiment_name", "json_file", "cluster"])
    elif not ns.json_file:
        raise ValueError("the following arguments are required: --config/-c")


def _validate_files(ns: Any) -> None:
    """``job file list/stream``: the job is ``-j`` (0.4.10) or ``-n`` (0.2.3); 0.2.3's ``-e`` is ``--expiry``."""
    stream = hasattr(ns, "file_name")
    if _generation(ns) != "2018-05-01":
        if ns.job_name_old and not ns.job_name:
            ns.job_name = ns.job_name_old
        if _explicit(ns, "experiment_name"):
            if not stream and str(ns.experiment_name).isdigit():
                ns.expiry, ns.experiment_name = int(ns.experiment_name), None
            elif not _value(ns, "workspace_name"):
                _require(ns, ["workspace_name"])  # 0.4.10's command without its -w
            else:
                raise ValueError("unrecognized arguments: --experiment/-e (the pre-workspace CLI has no "
                                 "experiments)")
        if not ns.job_name:
            raise ValueError("the following arguments are required: --name/-n")
    else:
        _require(ns, ["resource_group", "experiment_name"])
        if not ns.job_name:
            raise ValueError("the following arguments are required: --job/-j")
    if stream:
        _require(ns, ["file_name"])


# -------------------------------------------------------------------------------- registration

#: ``id_part``s of 0.4.10's ``_params.py``: ``--ids`` on delete/terminate/show/wait (azure-cli-core adds it
#: to every command but ``create`` whose arguments have them; list/file/node set ``id_part=None``).
IDS = {"resource_group": "resource_group", "workspace_name": "name", "experiment_name": "child_name_1",
       "job_name": "resource_name"}
#: option strings of the old CLIs only: an abbreviation also matching a 0.4.10 option means the 0.4.10 one
OLD_CREATE_OPTIONS = ("--cluster-name", "--cluster-resource-group", "--location", "--nfs-name",
                      "--nfs-resource-group")


#: knack help entries (YAML, parsed only when help is shown): summaries and examples of our own.
HELP = {
    "job": """
    type: group
    short-summary: Commands to manage jobs.
""",
    "job create": """
    type: command
    short-summary: Create a job.
    long-summary: >
        The parameters come from the --config-file JSON file; --cluster wins over the file's cluster and
        --afs-name, --bfs-name and --nfs add job-level mounts. Without a workspace (given or configured) the
        pre-workspace CLI shape applies: -c is then the config file and -r the cluster.
    examples:
        - name: Run job.json on cluster nc6 of the same workspace.
          text: batchai job create -g rg -w ws -e exp -n train -c nc6 -f job.json
        - name: Mount share 'logs' of a storage account for the job only.
          text: >-
            batchai job create -g rg -w ws -e exp -n train -c nc6 -f job.json
            --afs-name logs --storage-account-name mystorage
        - name: The pre-workspace CLI's spelling (the resource group's default workspace).
          text: batchai job create -g rg -n train -c job.json -r nc6
""",
    "job wait": """
    type: command
    short-summary: Wait for a job to finish; the exit code is the job's.
    examples:
        - name: Wait, polling every 5 seconds.
          text: batchai job wait -g rg -w ws -e exp -n train --interval 5
""",
    "job file": """
    type: group
    short-summary: Commands to list and stream files in job's output directories.
""",
    "job file stream": """
    type: command
    short-summary: Stream the content of a file (similar to 'tail -f') until the job ends.
    examples:
        - name: Follow the job's standard output.
          text: batchai job file stream -g rg -w ws -e exp -j train -f stdout.txt
        - name: Follow logs/log.txt of the output directory with id OUTPUTS.
          text: batchai job file stream -g rg -w ws -e exp -j train -d OUTPUTS -p logs -f log.txt
""",
    "job file list": """
    type: command
    short-summary: List job's output files in a directory with given id.
    examples:
        - name: The job's stdout/stderr directory as a table.
          text: batchai job file list -g rg -w ws -e exp -j train -o table
        - name: Download URLs valid for 15 minutes of folder models/best in output directory MODELS.
          text: batchai job file list -g rg -w ws -e exp -j train -d MODELS -p models/best --expiry 15
""",
    "job node": """
    type: group
    short-summary: Commands to work with nodes which executed a job.
""",
}


def load_commands(loader: Any) -> None:
    """Register the ``job`` commands (0.4.10's table plus the pre-workspace names)."""
    from knack.help_files import helps

    helps.update(HELP)
    both = {"shape": "both", "workspace_arg": "workspace_name"}
    with command_group(loader, "job", MODULE) as g:
        g.command("create", "create_job", supports_no_wait=True, validator=_validate_create,
                  old_args=("cluster_name", "cluster_resource_group", "location", "nfs_name",
                            "nfs_resource_group"), legacy_options=OLD_CREATE_OPTIONS, **both)
        g.command("delete", "delete_job", supports_no_wait=True, confirmation=True, id_parts=IDS,
                  validator=_validate_job_command, **both)
        g.command("terminate", "terminate_job", supports_no_wait=True, confirmation=True, id_parts=IDS,
                  validator=_validate_job_command, **both)
        g.command("show", "show_job", table_transformer=table_job_show, show=True, id_parts=IDS,
                  validator=_validate_job_command, **both)
        g.command("list", "list_jobs", table_transformer=table_job_list, validator=_validate_job_command, **both)
        g.command("wait", "wait_job", id_parts=IDS, validator=_validate_job_command, **both)
        # pre-workspace names
        g.command("list-nodes", "list_nodes_old", shape="old",
                  table_transformer=fmt.remote_login_table_format_2017_09_01_preview)
        g.command("list-files", "list_files_0_1", shape="old",
                  table_transformer=fmt.file_list_table_format_2017_09_01_preview)
        g.command("stream-file", "stream_file_0_1", shape="old")
    with command_group(loader, "job node", MODULE) as g:
        g.command("list", "list_job_nodes", table_transformer=table_remote_login, validator=_validate_job_command,
                  **both)
        g.command("exec", "exec_on_job_node", shape="new", workspace_arg="workspace_name")
    with command_group(loader, "job file", MODULE) as g:
        g.command("list", "list_job_files", table_transformer=table_file_list, validator=_validate_files,
                  old_args=("job_name_old",), legacy_options=("--name",), **both)
        g.command("stream", "stream_job_file", validator=_validate_files, old_args=("job_name_old",),
                  legacy_options=("--name",), **both)


def load_arguments(loader: Any) -> None:
    """Options of 0.4.10's ``_params.py`` (and the old CLIs') for ``batchai job``."""
    with loader.argument_context("job") as c:
        c.argument("workspace_name", options_list=["--workspace", "-w"], configured_default="workspace",
                   help="Name of workspace. You can configure the default workspace using "
                        "`az configure --defaults workspace=<name>`.")
        c.argument("job_name", options_list=["--name", "-n"], help="Name of job.")
        c.argument("experiment_name", options_list=["--experiment", "-e"], help="Name of experiment.")

    with loader.argument_context("job create") as c:
        c.argument("json_file", options_list=["--config-file", "-f", "--config"],
                   help="A path to a json file containing job create parameters (json representation of "
                        "azure.mgmt.batchai.models.JobCreateParameters). --config: the pre-workspace CLI's "
                        "spelling (0.4.10 accepted it as an abbreviation).")
        c.argument("cluster", options_list=["--cluster", "-c"],
                   help="Name or ARM ID of the cluster to run the job. You need to provide ARM ID if the cluster "
                        "belongs to a different workspace. (Pre-workspace CLI: -c is the config file.)")
        c.argument("cluster_name", options_list=["--cluster-name", "-r"], arg_group="Pre-workspace CLI",
                   help="(Pre-workspace CLI) If specified, the job will run on the given cluster instead of the "
                        "one configured in the json file.")
        c.argument("cluster_resource_group", options_list=["--cluster-resource-group"],
                   arg_group="Pre-workspace CLI",
                   help="(Pre-workspace CLI) Resource group of the cluster given with --cluster-name. If omitted, "
                        "--resource-group value will be used.")
        c.argument("location", options_list=["--location", "-l"], arg_group="Pre-workspace CLI",
                   help="(Pre-workspace CLI) Location in which to create the job. If omitted, the resource "
                        "group's location.")
        c.argument("nfs_name", options_list=["--nfs-name"], arg_group="Pre-workspace CLI",
                   help="(Pre-workspace CLI) Name of a file server to mount during the job execution.")
        c.argument("nfs_resource_group", options_list=["--nfs-resource-group"], arg_group="Pre-workspace CLI",
                   help="(Pre-workspace CLI) Resource group in which the file server is created.")
    with loader.argument_context("job create") as c:
        c.argument("account_name", options_list=["--storage-account-name"], arg_group="Azure Storage Mount",
                   help="Storage account name for Azure File Shares and/or Azure Storage Containers to be mounted "
                        "on each cluster node. Can be specified using AZURE_BATCHAI_STORAGE_ACCOUNT environment "
                        "variable.")
        c.argument("account_key", options_list=["--storage-account-key"], arg_group="Azure Storage Mount",
                   help="Storage account key. Required if the storage account belongs to a different "
                        "subscription. Can be specified using AZURE_BATCHAI_STORAGE_KEY environment variable.")
        c.argument("azure_file_share", options_list=["--afs-name"], arg_group="Azure Storage Mount",
                   help="Name of Azure File Share to mount during the job execution. The File Share will be "
                        "mounted only on the nodes which are executing the job. Must be used in conjunction with "
                        "--storage-account-name.")
        c.argument("afs_mount_path", options_list=["--afs-mount-path"], arg_group="Azure Storage Mount",
                   help="Relative mount path for Azure File Share. The File Share will be available at "
                        "$AZ_BATCHAI_JOB_MOUNT_ROOT/<relative_mount_path> folder.")
        c.argument("container_name", options_list=["--bfs-name"], arg_group="Azure Storage Mount",
                   help="Name of Azure Storage Blob Container to mount during the job execution. Must be used in "
                        "conjunction with --storage-account-name.")
        c.argument("container_mount_path", options_list=["--bfs-mount-path"], arg_group="Azure Storage Mount",
                   help="Relative mount path for Azure Storage Blob Container. The container will be available at "
                        "$AZ_BATCHAI_JOB_MOUNT_ROOT/<relative_mount_path> folder.")
    with loader.argument_context("job create") as c:
        c.argument("nfs", options_list=["--nfs"], arg_group="File Server Mount",
                   help="Name or ARM ID of the file server to be mounted during the job execution. You need to "
                        "provide ARM ID if the file server belongs to a different workspace.")
        c.argument("nfs_mount_path", options_list=["--nfs-mount-path"], arg_group="File Server Mount",
                   help="Relative mount path for NFS. The NFS will be available at "
                        "$AZ_BATCHAI_JOB_MOUNT_ROOT/<relative_mount_path> folder.")

    with loader.argument_context("job list") as c:
        c.argument("resource_group", options_list=["--resource-group", "-g"], configured_default="group",
                   required=False, help="Name of resource group. You can configure the default group using "
                                        "`az configure --defaults group=<name>`.")

    with loader.argument_context("job wait") as c:
        c.argument("check_interval_sec", options_list=["--interval"], type=float, help="Polling interval in sec.")

    for scope in ("job file", "job node"):
        with loader.argument_context(scope) as c:
            c.argument("job_name", options_list=["--job", "-j"], help="Name of job.")
            c.argument("output_directory_id", options_list=["--output-directory-id", "-d"],
                       help="The Id of the job's output directory (as specified by \"id\" element in "
                            "outputDirectories collection in the job create parameters).")
            c.argument("path", options_list=["--path", "-p"], help="Relative path in the given output directory.")
    for scope in ("job file list", "job file stream"):
        with loader.argument_context(scope) as c:
            c.argument("job_name_old", options_list=["--name", "-n"], arg_group="Pre-workspace CLI",
                       help="(API 2018-03-01 CLI) Name of job.")
    with loader.argument_context("job file stream") as c:
        c.argument("file_name", options_list=["--file-name", "-f"], help="The name of the file to stream.")
    with loader.argument_context("job file list") as c:
        c.argument("expiry", options_list=["--expiry"], type=int,
                   help="Time in minutes for how long generated download URL should remain valid.")

    with loader.argument_context("job node exec") as c:
        c.argument("workspace_name", options_list=["--workspace", "-w"], configured_default="workspace",
                   required=True, help="Name of workspace.")
        c.argument("experiment_name", options_list=["--experiment", "-e"], required=True,
                   help="Name of experiment.")
        c.argument("cmdline", options_list=["--exec"],
                   help="Optional command line to be executed on the node. If not provided, the command will "
                        "perform ports forwarding only.")
        c.argument("node_id", options_list=["--node-id", "-n"],
                   help="ID of the node to forward the ports to. If not provided, the command will be executed on "
                        "the first available node.")
        c.argument("ports", options_list=["--address", "-L"], action="append",
                   help="Specifies that connections to the given TCP port or Unix socket on the local (client) "
                        "host are to be forwarded to the given host and port, or Unix socket, on the remote side. "
                        "e.g. -L 8080:localhost:8080")
        c.argument("password", options_list=["--password", "-p"],
                   help="Optional password to establish SSH connection.")
        c.argument("ssh_private_key", options_list=["--ssh-private-key", "-k"],
                   help="Optional SSH private key path to establish SSH connection. If omitted, the default SSH "
                        "private key will be used.")

    with loader.argument_context("job list-nodes") as c:
        c.argument("job_name", options_list=["--name", "-n"], help="Name of the job.")
    with loader.argument_context("job list-files") as c:
        c.argument("job_name", options_list=["--name", "-n"], help="Name of the job.")
        c.argument("directory", options_list=["--output-directory-id", "-d"],
                   help="The Id of the Job output directory (as specified by \"id\" element in outputDirectories "
                        "collection in job create parameters). Use \"stdouterr\" to access job stdout and stderr "
                        "files.")
    with loader.argument_context("job stream-file") as c:
        c.argument("job_name", options_list=["--job-name", "-j"], help="Name of the job.")
        c.argument("file_name", options_list=["--name", "-n"], help="The name of the file to stream.")
        c.argument("directory", options_list=["--output-directory-id", "-d"],
                   help="The Id of the Job output directory (as specified by \"id\" element in outputDirectories "
                        "collection in job create parameters). Use \"stdouterr\" to access job stdout and stderr "
                        "files.")


# ------------------------------------------------------------------------------ table formats

def _old_id(item: Dict[str, Any]) -> bool:
    return "/workspaces/" not in str(item.get("id") or "").lower()


def table_job_show(job: Dict[str, Any]) -> Dict[str, Any]:
    """0.4.10's job row; 0.2.3's for a job of the pre-workspace shape."""
    if _old_id(job):
        return fmt.job_show_table_format_2018_03_01(job)
    return fmt.job_show_table_format(job)


def table_job_list(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [table_job_show(item) for item in result]


def table_file_list(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """0.4.10's columns; 0.2.3's (``Is directory``) for 2018-03-01 listings."""
    if result and "isDirectory" in result[0] and "fileType" not in result[0]:
        return fmt.file_list_table_format_2018_03_01(result)
    return fmt.file_list_table_format(result)


def table_remote_login(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return fmt.remote_login_table_format(result)


# ------------------------------------------------------------------------------------- helpers

def _address(cmd: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
             experiment_name: Optional[str] = None, generation: Optional[str] = None) -> Any:
    from batchai_compat.cli._job_ops import JobAddress

    if generation is None and not cmd.old_shape:
        return JobAddress(cmd.client(), resource_group, job_name, workspace_name, experiment_name)
    return JobAddress(cmd.client(generation), resource_group, job_name)


def _config_get(cmd: Any) -> Any:
    config = cmd.config

    def get(section: str, option: str, default: str) -> str:
        return str(config.get(section, option, default))

    return get


# ------------------------------------------------------------------------------------ handlers

def create_job(cmd: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
               experiment_name: Optional[str] = None, json_file: Optional[str] = None, cluster: Optional[str] = None,
               nfs: Optional[str] = None, nfs_mount_path: str = "nfs", azure_file_share: Optional[str] = None,
               afs_mount_path: str = "afs", container_name: Optional[str] = None, container_mount_path: str = "bfs",
               account_name: Optional[str] = None, account_key: Optional[str] = None,
               cluster_name: Optional[str] = None, cluster_resource_group: Optional[str] = None,
               location: Optional[str] = None, nfs_name: Optional[str] = None,
               nfs_resource_group: Optional[str] = None) -> Any:
    """Create a job."""
    from batchai_compat.cli import _job_ops as ops
    from batchai_compat.cli._config_files import load_config_file

    models = cmd.models()
    common: Dict[str, Any] = {
        "azure_file_share": azure_file_share, "afs_mount_path": afs_mount_path, "container_name": container_name,
        "container_mount_path": container_mount_path, "account_name": account_name, "account_key": account_key,
        "config": _config_get(cmd), "storage_client": cmd.storage_client, "no_wait": cmd.no_wait}
    if not cmd.old_shape:
        def load() -> Any:
            return load_config_file(str(json_file), "JobCreateParameters", models)

        return ops.create_job(cmd.client(), models, load, resource_group, str(workspace_name), str(experiment_name),
                              job_name, cluster, nfs=nfs, nfs_mount_path=nfs_mount_path, **common)
    path = str(json_file)
    return ops.create_job_pre_workspace(
        cmd.client(), models, lambda: load_config_file(path, "JobCreateParameters", models), resource_group, job_name,
        location=location, cluster_name=cluster_name or cluster, cluster_resource_group=cluster_resource_group,
        nfs_name=nfs_name or nfs, nfs_resource_group=nfs_resource_group, nfs_mount_path=nfs_mount_path,
        group_location=lambda group: cmd.resource_client().resource_groups.get(group).location, **common)


def delete_job(cmd: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
               experiment_name: Optional[str] = None) -> Any:
    """Delete a job."""
    job = _address(cmd, resource_group, job_name, workspace_name, experiment_name)
    return cmd.lro(job.client.jobs.delete(*job.args))


def terminate_job(cmd: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
                  experiment_name: Optional[str] = None) -> Any:
    """Terminate a job."""
    job = _address(cmd, resource_group, job_name, workspace_name, experiment_name)
    return cmd.lro(job.client.jobs.terminate(*job.args))


def show_job(cmd: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
             experiment_name: Optional[str] = None) -> Any:
    """Show information about a job."""
    return _address(cmd, resource_group, job_name, workspace_name, experiment_name).get()


def list_jobs(cmd: Any, resource_group: Optional[str] = None, workspace_name: Optional[str] = None,
              experiment_name: Optional[str] = None) -> Any:
    """List jobs."""
    client = cmd.client()
    if not cmd.old_shape:
        return list(client.jobs.list_by_experiment(resource_group, workspace_name, experiment_name))
    if resource_group:
        return list(client.jobs.list_by_resource_group(resource_group))
    return list(client.jobs.list())


def wait_job(cmd: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
             experiment_name: Optional[str] = None, check_interval_sec: float = 15) -> Any:
    """Waits for specified job completion and setups the exit code to the job's exit code."""
    from batchai_compat.cli._job_ops import wait_for_job_completion

    wait_for_job_completion(_address(cmd, resource_group, job_name, workspace_name, experiment_name),
                            check_interval_sec)


def list_job_nodes(cmd: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
                   experiment_name: Optional[str] = None) -> Any:
    """List remote login information for nodes which executed the job."""
    return _address(cmd, resource_group, job_name, workspace_name, experiment_name).remote_login()


def exec_on_job_node(cmd: Any, resource_group: str, workspace_name: str, experiment_name: str, job_name: str,
                     node_id: Optional[str] = None, ports: Optional[List[str]] = None, cmdline: Optional[str] = None,
                     password: Optional[str] = None, ssh_private_key: Optional[str] = None) -> Any:
    """Executes a command line on a cluster's node used to execute the job with optional ports forwarding."""
    from batchai_compat.cli import _job_ops as ops

    if not any((cmdline, ports)):
        return None
    job = _address(cmd, resource_group, job_name, workspace_name, experiment_name)
    node = ops.first_job_node(job, node_id)
    group, workspace, cluster = ops.job_cluster(job)
    from batchai_compat.cli.commands.cluster import exec_on_node

    return exec_on_node(cmd, group, cluster, workspace_name=workspace, node_id=node, ports=ports, cmdline=cmdline,
                        password=password, ssh_private_key=ssh_private_key)


def list_job_files(cmd: Any, resource_group: str, job_name: Optional[str] = None,
                   workspace_name: Optional[str] = None, experiment_name: Optional[str] = None,
                   output_directory_id: str = "stdouterr", path: str = ".", expiry: int = 60,
                   job_name_old: Optional[str] = None) -> Any:
    """List job's output files in a directory with given id."""
    from batchai_compat.cli._job_ops import list_files

    job = _address(cmd, resource_group, str(job_name), workspace_name, experiment_name)
    return list_files(job, cmd.models(), output_directory_id, path, expiry)


def stream_job_file(cmd: Any, resource_group: str, file_name: Optional[str] = None, job_name: Optional[str] = None,
                    workspace_name: Optional[str] = None, experiment_name: Optional[str] = None,
                    output_directory_id: str = "stdouterr", path: str = ".",
                    job_name_old: Optional[str] = None) -> Any:
    """Stream the content of a file (similar to 'tail -f').

    Waits for the job to create the given file and starts streaming it similar to 'tail -f' command. The command
    completes when the job finished execution.
    """
    from batchai_compat.cli._job_ops import tail_file

    job = _address(cmd, resource_group, str(job_name), workspace_name, experiment_name)
    tail_file(job, cmd.models(), str(file_name), output_directory_id, path)


def list_nodes_old(cmd: Any, resource_group: str, job_name: str) -> Any:
    """List remote login information for nodes on which the job was run (pre-workspace CLI)."""
    return _address(cmd, resource_group, job_name).remote_login()


def list_files_0_1(cmd: Any, resource_group: str, job_name: str, directory: str) -> Any:
    """List job's output files (API 2017-09-01-preview CLI)."""
    from batchai_compat.cli._job_ops import list_files

    job = _address(cmd, resource_group, job_name, generation=PREVIEW)
    return list_files(job, cmd.models(PREVIEW), directory, None, None)


def stream_file_0_1(cmd: Any, resource_group: str, job_name: str, directory: str, file_name: str) -> Any:
    """Output the current content of the file and outputs appended data as the file grows (similar to 'tail -f').

    The command completes when the job finished execution (API 2017-09-01-preview CLI).
    """
    from batchai_compat.cli._job_ops import tail_file

    job = _address(cmd, resource_group, job_name, generation=PREVIEW)
    tail_file(job, cmd.models(PREVIEW), file_name, directory, None)
