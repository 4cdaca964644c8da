"""What the ``batchai job ...`` commands do, written after ``azure-cli-batchai``'s ``custom.py``.

The handlers take a Batch AI client of the command's generation (2018-05-01 ``batchai_compat``,
2018-03-01 ``batchai_compat.v2018_03_01`` or 2017-09-01-preview ``batchai_compat.v2017_09_01_preview``)
and the parsed options, and return the SDK objects the output layer prints. The behaviours they
reproduce, with the version of ``azure/cli/command_modules/batchai/custom.py`` each comes from:

* ``job create`` (0.4.10 ``create_job``): the job must not exist yet; the parameters come from the
  ``-f`` file; ``-c`` (a cluster name, or an ARM id for a cluster of another workspace) wins over the
  file's ``cluster``; the file's mount volumes get their storage placeholders
  (``<AZURE_BATCHAI_STORAGE_ACCOUNT>``, ``<AZURE_BATCHAI_STORAGE_KEY>``) and missing keys filled in;
  ``--nfs``, ``--afs-name`` and ``--bfs-name`` *add* job-level mounts to the file's.
* ``job wait`` (0.4.10 ``wait_for_job_completion``): progress lines on stderr (``WARNING: Job state:
  running``...), polling every ``--interval`` seconds (15), and the process exit code set to the job's.
* ``job file stream`` (0.4.10 ``tail_file``): waits (1 s polls) for the file to appear in the output
  directory, then polls its download URL once a second with ``Range: bytes=<printed>-`` and prints
  what is new, until the job has finished.

Where the original had an outright bug we do what it meant, and ``docs/cli-jobs.md`` says so.
"""

from __future__ import annotations

import codecs
import os
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from knack.log import get_logger
from knack.util import CLIError

from batchai_compat.cli import _mounts

logger = get_logger(__name__)

STANDARD_OUTPUT_DIRECTORY_ID = "stdouterr"
DEFAULT_URL_EXPIRY_MIN = 60
#: ``job wait``'s default polling interval (seconds), as in 0.4.10.
DEFAULT_WAIT_INTERVAL = 15
#: ``job file stream``'s polling interval (seconds): fixed in every CLI version.
STREAM_INTERVAL = 1.0

FINISHED = ("succeeded", "failed")

#: ``(section, option, default) -> value``: the az configuration (``[batchai] storage_account`` ...,
#: knack also reads them from ``AZURE_BATCHAI_STORAGE_ACCOUNT``/``_KEY``).
ConfigGet = Callable[[str, str, str], str]


def _env_config(section: str, option: str, default: str) -> str:
    """Fallback configuration: knack's environment variable spelling only."""
    return os.environ.get(f"AZURE_{section.upper()}_{option.upper()}", default)


def _status_code(error: BaseException) -> Optional[int]:
    return getattr(error, "status_code", None)


# ------------------------------------------------------------------------------------ resources

def is_resource_id(value: Optional[str]) -> bool:
    """An ARM id as ``msrestazure.tools.is_valid_resource_id`` accepted one (subscription, group, provider)."""
    if not value or not value.startswith("/"):
        return False
    parts = [p.lower() for p in value.split("/")]
    return (len(parts) >= 9 and parts[1] == "subscriptions" and parts[3] == "resourcegroups"
            and parts[5] == "providers")


def parse_resource_id(value: str) -> Dict[str, str]:
    """``resource_group``, ``name`` (first resource: the workspace) and ``resource_name`` (the last child)."""
    segments = value.strip("/").split("/")
    result = {"subscription": segments[1], "resource_group": segments[3]}
    names = segments[6:]
    pairs = [(names[i], names[i + 1]) for i in range(0, len(names) - 1, 2)]
    if pairs:
        result["name"] = pairs[0][1]
        result["resource_name"] = pairs[-1][1]
    return result


def effective_resource(name_or_id: Optional[str], resource_group: str, workspace: Optional[str]
                       ) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(group, workspace, name) of a resource given by name (this workspace) or by ARM id (any)."""
    if not name_or_id:
        return None, None, None
    if is_resource_id(name_or_id):
        parts = parse_resource_id(name_or_id)
        return parts["resource_group"], parts.get("name"), parts.get("resource_name")
    return resource_group, workspace, name_or_id


# ------------------------------------------------------------------------------------- storage

class _ConfigView:
    """What :mod:`batchai_compat.cli._mounts` reads of a command (``cmd.config.get``, ``cmd.storage_client()``),
    built from the plain callables the job operations take (so they stay callable without a knack command)."""

    def __init__(self, config: Optional[ConfigGet], storage_client: Optional[Callable[[], Any]]) -> None:
        self.config = _Config(config or _env_config)
        self.storage_client = storage_client or _local_storage_client


class _Config:
    def __init__(self, get: ConfigGet) -> None:
        self.get = get


def _local_storage_client() -> Any:
    from batchai_compat.storage_mgmt import StorageManagementClient

    return StorageManagementClient(object(), "00000000-0000-0000-0000-000000000000")


def apply_mount_options(models: Any, params: Any, storage: _ConfigView, *, account_name: Optional[str],
                        account_key: Optional[str], file_server_id: Optional[str], nfs_mount_path: Optional[str],
                        azure_file_share: Optional[str], afs_mount_path: Optional[str],
                        container_name: Optional[str], container_mount_path: Optional[str]) -> None:
    """The file's volumes patched, then the command line's NFS, share and container appended: the same
    ``_mounts`` functions as ``cluster create`` (0.4.10 shared them between the two commands)."""
    if getattr(params, "mount_volumes", None):
        params.mount_volumes = _mounts.patch_mount_volumes(storage, models, params.mount_volumes, account_name,
                                                           account_key)
    if file_server_id or azure_file_share or container_name:
        params.mount_volumes = params.mount_volumes or models.MountVolumes()
    volumes = getattr(params, "mount_volumes", None)
    if file_server_id:
        volumes = _mounts.add_nfs(models, volumes, file_server_id, nfs_mount_path)
    if azure_file_share:
        volumes = _mounts.add_azure_file_share(storage, models, volumes, azure_file_share, afs_mount_path,
                                               account_name, account_key)
    if container_name:
        volumes = _mounts.add_blob_container(storage, models, volumes, container_name, container_mount_path,
                                             account_name, account_key)
    if volumes is not None:
        params.mount_volumes = volumes


# --------------------------------------------------------------------------------- job create

def ensure_job_absent(get: Callable[[], Any], message: str) -> None:
    """Refuse to overwrite a job (the service would have answered 409 or replaced nothing)."""
    from msrestazure.azure_exceptions import CloudError

    try:
        get()
    except CloudError as error:
        if _status_code(error) != 404:
            raise
        return
    raise CLIError(message)


def create_job(client: Any, models: Any, load_params: Callable[[], Any], resource_group: str, workspace_name: str,
               experiment_name: str, job_name: str, cluster: Optional[str], *, nfs: Optional[str] = None,
               nfs_mount_path: Optional[str] = "nfs", azure_file_share: Optional[str] = None,
               afs_mount_path: Optional[str] = "afs", container_name: Optional[str] = None,
               container_mount_path: Optional[str] = "bfs", account_name: Optional[str] = None,
               account_key: Optional[str] = None, config: Optional[ConfigGet] = None,
               storage_client: Optional[Callable[[], Any]] = None, no_wait: bool = False) -> Any:
    """0.4.10's ``job create``: returns the created job (``--no-wait``: returns nothing at once)."""
    ensure_job_absent(lambda: client.jobs.get(resource_group, workspace_name, experiment_name, job_name),
                      "A job with given name, experiment, workspace and resource group already exists.")
    params = load_params()
    if not cluster:
        cluster = params.cluster.id if params.cluster is not None else None
    if not cluster:
        raise CLIError("Please provide cluster information via command line or configuration file.")
    cluster_group, cluster_workspace, cluster_name = effective_resource(cluster, resource_group, workspace_name)
    existing = client.clusters.get(cluster_group, cluster_workspace, cluster_name)
    params.cluster = models.ResourceId(id=existing.id)
    storage = _ConfigView(config, storage_client)
    file_server_id = None
    if nfs:
        nfs_group, nfs_workspace, nfs_name = effective_resource(nfs, resource_group, workspace_name)
        file_server_id = client.file_servers.get(nfs_group, nfs_workspace, nfs_name).id
    apply_mount_options(models, params, storage, account_name=account_name, account_key=account_key,
                        file_server_id=file_server_id, nfs_mount_path=nfs_mount_path,
                        azure_file_share=azure_file_share, afs_mount_path=afs_mount_path,
                        container_name=container_name, container_mount_path=container_mount_path)
    poller = client.jobs.create(resource_group, workspace_name, experiment_name, job_name, params)
    if no_wait:
        return None
    return poller.result()


def create_job_pre_workspace(client: Any, models: Any, load_params: Callable[[], Any], resource_group: str,
                             job_name: str, *, location: Optional[str] = None, cluster_name: Optional[str] = None,
                             cluster_resource_group: Optional[str] = None, nfs_name: Optional[str] = None,
                             nfs_resource_group: Optional[str] = None, nfs_mount_path: Optional[str] = "nfs",
                             azure_file_share: Optional[str] = None, afs_mount_path: Optional[str] = "afs",
                             container_name: Optional[str] = None, container_mount_path: Optional[str] = "bfs",
                             account_name: Optional[str] = None, account_key: Optional[str] = None,
                             config: Optional[ConfigGet] = None, storage_client: Optional[Callable[[], Any]] = None,
                             group_location: Optional[Callable[[str], str]] = None, no_wait: bool = False) -> Any:
    """The pre-workspace ``job create -c job.json [-r cluster]`` (0.2.3; 0.1.6 without mount options).

    The job goes to the resource group's default workspace and experiment (``batchai_compat._generations``).
    ``location``: ``-l``, else the file's, else the resource group's (0.2.3 asked the resource manager).
    """
    ensure_job_absent(lambda: client.jobs.get(resource_group, job_name),
                      f'"{job_name}" already exists in "{resource_group}" resource group')
    params = load_params()
    if location:
        params.location = location
    if not params.location and group_location is not None:
        params.location = group_location(resource_group)
    if not params.location:
        raise CLIError("Please provide location for job creation.")
    if cluster_name is not None:
        found = client.clusters.get(cluster_resource_group or resource_group, cluster_name)
        params.cluster = models.ResourceId(id=found.id)
    if params.cluster is None:
        raise CLIError("Please provide cluster information via command line or configuration file.")
    if hasattr(params, "mount_volumes"):
        storage = _ConfigView(config, storage_client)
        file_server_id = None
        if nfs_name:
            file_server_id = client.file_servers.get(nfs_resource_group or resource_group, nfs_name).id
        apply_mount_options(models, params, storage, account_name=account_name, account_key=account_key,
                            file_server_id=file_server_id, nfs_mount_path=nfs_mount_path,
                            azure_file_share=azure_file_share, afs_mount_path=afs_mount_path,
                            container_name=container_name, container_mount_path=container_mount_path)
    poller = client.jobs.create(resource_group, job_name, params)
    if no_wait:
        return None
    return poller.result()


# ---------------------------------------------------------------------------------- job files

def output_files_options(models: Any, output_directory_id: str, path: Optional[str], expiry: Optional[int]) -> Any:
    """``JobsListOutputFilesOptions`` of the client's generation (0.2.0 had no ``directory``)."""
    kwargs: Dict[str, Any] = {"outputdirectoryid": output_directory_id}
    if expiry is not None:
        kwargs["linkexpiryinminutes"] = int(expiry)
    if "directory" in getattr(models.JobsListOutputFilesOptions, "_attribute_map", {}) or _accepts(
            models.JobsListOutputFilesOptions, "directory"):
        kwargs["directory"] = path if path is not None else "."
    return models.JobsListOutputFilesOptions(**kwargs)


def _accepts(cls: Any, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(cls).parameters
    except (TypeError, ValueError):  # pragma: no cover - every model has a signature
        return False


class JobAddress:
    """How to reach one job with the client's generation: ``args`` precede the job-specific arguments."""

    def __init__(self, client: Any, resource_group: str, job_name: str, workspace_name: Optional[str] = None,
                 experiment_name: Optional[str] = None) -> None:
        self.client = client
        self.resource_group = resource_group
        self.job_name = job_name
        self.workspace_name = workspace_name
        self.experiment_name = experiment_name
        self.pre_workspace = workspace_name is None

    @property
    def args(self) -> Tuple[str, ...]:
        if self.pre_workspace:
            return (self.resource_group, self.job_name)
        return (self.resource_group, str(self.workspace_name), str(self.experiment_name), self.job_name)

    def get(self) -> Any:
        return self.client.jobs.get(*self.args)

    def list_files(self, options: Any) -> List[Any]:
        return list(self.client.jobs.list_output_files(*self.args, options))

    def remote_login(self) -> List[Any]:
        return list(self.client.jobs.list_remote_login_information(*self.args))


def list_files(job: JobAddress, models: Any, output_directory_id: str = STANDARD_OUTPUT_DIRECTORY_ID,
               path: Optional[str] = ".", expiry: Optional[int] = DEFAULT_URL_EXPIRY_MIN) -> List[Any]:
    """``job file list``: the files (and directories) of one output directory."""
    return job.list_files(output_files_options(models, output_directory_id, path, expiry))


def _exit_on_sigint(*_: Any) -> None:
    # As the CLI did: Ctrl-C ends the stream quietly with status 0, without a traceback.
    sys.stdout.flush()
    os._exit(0)


def state_of(job: Any) -> Optional[str]:
    """The job's execution state as a string (0.2.0's models deserialize it to a plain ``Enum``)."""
    state = job.execution_state
    return getattr(state, "value", state)


def _finished(job: JobAddress) -> bool:
    return state_of(job.get()) in FINISHED


def tail_file(job: JobAddress, models: Any, file_name: str, output_directory_id: str = STANDARD_OUTPUT_DIRECTORY_ID,
              path: Optional[str] = ".", *, interval: float = STREAM_INTERVAL, out: Any = None,
              install_sigint: bool = True) -> None:
    """``job file stream``: print the file as it grows and return once the job has finished.

    As 0.4.10: warn once that the file is not there yet, poll the listing every second, announce
    the URL when found, then fetch ``Range: bytes=<n>-`` every second and stop when the job is
    ``succeeded`` or ``failed``. Two races of the original are closed: the listing is read once more
    after the job is seen finished (a file created in its last second is still streamed), and the
    file is read once more after that (bytes written between the last read and the end are printed).
    """
    import requests

    out = out or sys.stdout
    if install_sigint:
        signal.signal(signal.SIGINT, _exit_on_sigint)
    options = output_files_options(models, output_directory_id, path, None)

    def find() -> Optional[str]:
        for item in job.list_files(options):
            if item.name == file_name:
                return item.download_url
        return None

    url = find()
    reported_absence = False
    while url is None:
        if _finished(job):
            url = find()
            break
        if not reported_absence:
            logger.warning('The file "%s" not found. Waiting for the job to generate it.', file_name)
            reported_absence = True
        time.sleep(interval)
        url = find()
    if url is None:
        logger.warning('The file "%s" not found for the completed job.', file_name)
        return
    logger.warning('File found with URL "%s". Start streaming', url)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    downloaded = 0

    def fetch() -> None:
        nonlocal downloaded
        response = requests.get(url, headers={"Range": f"bytes={downloaded}-"}, timeout=60)
        if response.status_code // 100 == 2:
            downloaded += len(response.content)
            text = decoder.decode(response.content)
            if text:
                out.write(text)
                out.flush()

    while True:
        fetch()
        if _finished(job):
            fetch()
            break
        time.sleep(interval)
    tail = decoder.decode(b"", final=True)
    if tail:
        out.write(tail)
        out.flush()


# ----------------------------------------------------------------------------------- job wait

class JobExit(SystemExit):
    """``job wait``'s verdict: the process exits with the job's exit code (0.4.10 called ``sys.exit``)."""


def wait_for_job_completion(job: JobAddress, check_interval_sec: float = DEFAULT_WAIT_INTERVAL,
                            sleep: Callable[[float], None] = time.sleep) -> None:
    """``job wait``: report progress on stderr and set the exit code to the job's.

    Lines (knack prints ``WARNING: `` before each): ``Job submitted at <creation time>``, ``Job
    started execution at <start time>`` once, ``Job state: <state>`` on every change, then
    ``Job completed at <end>; execution took <duration>`` (exit 0) or the failure report and the
    job's exit code. A failed job without an exit code exits 255 (0.4.10's ``sys.exit(-1)``).
    """
    current = job.get()
    logger.warning("Job submitted at %s", str(current.creation_time))
    last_state = None
    reported_start = False
    while True:
        info = current.execution_info
        if info and not reported_start:
            logger.warning("Job started execution at %s", str(info.start_time))
            reported_start = True
        state = state_of(current)
        if state != last_state:
            logger.warning("Job state: %s", state)
            last_state = state
        if state == "succeeded":
            logger.warning("Job completed at %s; execution took %s", str(info.end_time if info else None),
                           _duration(info))
            return
        if state == "failed":
            raise JobExit(_report_failed_job(job.resource_group, current))
        sleep(check_interval_sec)
        current = job.get()


def _duration(info: Any) -> str:
    if info is None or info.start_time is None or info.end_time is None:
        return "None"
    return str(info.end_time - info.start_time)


def _report_failed_job(resource_group: str, job: Any) -> int:
    """0.4.10's ``_log_failed_job``; returns the process exit status."""
    logger.warning('The job "%s" in resource group "%s" failed.', job.name, resource_group)
    info = job.execution_info
    if not info:
        logger.warning("Failed job has no execution info")
        return 255
    logger.warning("Job failed with exit code %s at %s; execution took %s",
                   info.exit_code, str(info.end_time), _duration(info))
    for error in info.errors or []:
        details = "<none>"
        if error.details:
            details = "\n" + "\n".join(f"{d.name}: {d.value}" for d in error.details)
        logger.warning("Error message: %s\nDetails:\n %s", error.message, details)
    if info.exit_code is None:
        return 255
    return int(info.exit_code) & 0xFF


# ------------------------------------------------------------------------------------ job node

def first_job_node(job: JobAddress, node_id: Optional[str]) -> str:
    """The node ``job node exec`` addresses: ``-n``, else the first node that ran the job."""
    if node_id:
        return node_id
    nodes = job.remote_login()
    if not nodes:
        raise CLIError("No nodes available in the cluster")
    return str(nodes[0].node_id)


def job_cluster(job: JobAddress) -> Tuple[str, str, str]:
    """(group, workspace, cluster) of the cluster the job runs on (a pre-workspace id: workspace ``default``)."""
    current = job.get()
    parts = parse_resource_id(current.cluster.id)
    if "/workspaces/" in current.cluster.id.lower():
        return parts["resource_group"], parts["name"], parts["resource_name"]
    return parts["resource_group"], "default", parts["resource_name"]
