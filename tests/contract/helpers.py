"""Builders and waiters shared by the contract tests (modelled on the SDK's scenario helpers).

The standard objects (``docs/service-behaviour.md`` §g conventions): workspace ``workspace``, experiment
``experiment``, ``STANDARD_D1`` low-priority clusters with admin ``demoUser`` and the Azure File
share ``share`` mounted at ``azfiles``; the standard custom job writes stdout/stderr under
``$AZ_BATCHAI_MOUNT_ROOT/azfiles`` and has output directory ``OUTPUTS`` (suffix ``files``) and
input directory ``INPUT``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import requests

import batchai_compat.models as models
from batchai_compat import _home

SUB = "00000000-0000-0000-0000-000000000000"
RG = "batchai_rg"
LOCATION = "northeurope"
WS = "workspace"
EXP = "experiment"
ACCOUNT = "teststorage"
SHARE = "share"
ACCOUNT_KEY = "c2VjcmV0LWFjY291bnQta2V5"
ADMIN_PASSWORD = "Pa$$w0rd-never-echoed"
MOUNT_ROOT = "$AZ_BATCHAI_MOUNT_ROOT"
JOB_MOUNT_ROOT = "$AZ_BATCHAI_JOB_MOUNT_ROOT"
OUTPUT_ID = "OUTPUTS"
INPUT_ID = "INPUT"
FINAL = ("succeeded", "failed")
IPV4 = re.compile(r"^\d+(?:\.\d+){3}$")


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05,
             message: str = "condition") -> Any:
    """Poll ``predicate`` with short sleeps until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def share_mount(relative: str = "azfiles", share: str = SHARE) -> models.AzureFileShareReference:
    return models.AzureFileShareReference(
        account_name=ACCOUNT, azure_file_url=f"https://{ACCOUNT}.file.core.windows.net/{share}",
        credentials=models.AzureStorageCredentialsInfo(account_key=ACCOUNT_KEY), relative_mount_path=relative)


def blob_mount(relative: str, container: str) -> models.AzureBlobFileSystemReference:
    return models.AzureBlobFileSystemReference(
        account_name=ACCOUNT, container_name=container,
        credentials=models.AzureStorageCredentialsInfo(account_key=ACCOUNT_KEY), relative_mount_path=relative)


def cluster_parameters(target: int = 1, setup_task: Optional[models.SetupTask] = None,
                       scale: Optional[models.ScaleSettings] = None, file_servers: Optional[List[Any]] = None,
                       extra_shares: Optional[List[Any]] = None, blobs: Optional[List[Any]] = None
                       ) -> models.ClusterCreateParameters:
    return models.ClusterCreateParameters(
        vm_size="STANDARD_D1", vm_priority="lowpriority",
        scale_settings=scale or models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=target)),
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser",
                                                         admin_user_password=ADMIN_PASSWORD),
        node_setup=models.NodeSetup(
            setup_task=setup_task,
            mount_volumes=models.MountVolumes(azure_file_shares=[share_mount()] + list(extra_shares or []),
                                              azure_blob_file_systems=blobs, file_servers=file_servers)),
    )


def job_parameters(cluster_id: str, command: Optional[str] = None, *, node_count: int = 1,
                   prep: Optional[str] = None, image: Optional[str] = None, **extra: Any) -> models.JobCreateParameters:
    """The SDK helper's standard custom job (pass ``custom_toolkit_settings=None`` plus another toolkit)."""
    toolkit = models.CustomToolkitSettings(command_line=command) if command is not None else None
    fields: Dict[str, Any] = {
        "cluster": models.ResourceId(id=cluster_id),
        "node_count": node_count,
        "std_out_err_path_prefix": f"{MOUNT_ROOT}/azfiles",
        "output_directories": [models.OutputDirectory(id=OUTPUT_ID, path_prefix=f"{MOUNT_ROOT}/azfiles/",
                                                      path_suffix="files")],
        "input_directories": [models.InputDirectory(id=INPUT_ID, path=f"{MOUNT_ROOT}/azfiles/input")],
        "custom_toolkit_settings": toolkit,
    }
    if prep is not None:
        fields["job_preparation"] = models.JobPreparation(command_line=prep)
    if image is not None:
        fields["container_settings"] = models.ContainerSettings(
            image_source_registry=models.ImageSourceRegistry(image=image))
    fields.update(extra)
    return models.JobCreateParameters(**fields)


class Ctx:
    """A client on a fresh home, with the helpers the scenario tests use."""

    def __init__(self, client: Any, home: Path, backend_name: str) -> None:
        self.client = client
        self.home = Path(home)
        self.backend_name = backend_name

    def setup_workspace(self, workspace: str = WS, experiment: str = EXP) -> None:
        self.client.workspaces.create(RG, workspace, LOCATION).result()
        self.client.experiments.create(RG, workspace, experiment).result()
        self.create_storage(shares=[SHARE])

    def create_storage(self, shares: Sequence[str] = (), containers: Sequence[str] = ()) -> None:
        """Create shares and containers with the storage classes, as Batch AI users had to: a mount
        of storage that does not exist fails (the service never created storage)."""
        from batchai_compat.storage import BlockBlobService, FileService

        for share in shares:
            FileService(ACCOUNT, ACCOUNT_KEY).create_share(share, fail_on_exist=False)
        for container in containers:
            BlockBlobService(ACCOUNT, ACCOUNT_KEY).create_container(container, fail_on_exist=False)

    # -- storage ---------------------------------------------------------------------------------
    def share_dir(self, share: str = SHARE) -> Path:
        return _home.share_path(ACCOUNT, share, self.home)

    def container_dir(self, container: str) -> Path:
        return _home.container_path(ACCOUNT, container, self.home)

    # -- clusters --------------------------------------------------------------------------------
    def create_cluster(self, name: str = "cluster", target: int = 1, wait: bool = True, workspace: str = WS,
                       **kwargs: Any) -> models.Cluster:
        cluster = self.client.clusters.create(RG, workspace, name, cluster_parameters(target, **kwargs)).result()
        if wait:
            self.wait_for_nodes(name, target, workspace=workspace)
        return cluster

    def wait_for_nodes(self, name: str, idle: int, timeout: float = 60.0, workspace: str = WS) -> models.Cluster:
        def ready() -> Any:
            cluster = self.client.clusters.get(RG, workspace, name)
            counts = cluster.node_state_counts
            return cluster if counts.idle_node_count == idle and cluster.allocation_state != "resizing" else None
        return wait_for(ready, timeout, message=f"{idle} idle nodes in {name}")

    def node_ids(self, cluster: str = "cluster") -> List[str]:
        return [n.node_id for n in self.client.clusters.list_remote_login_information(RG, WS, cluster)]

    # -- jobs ------------------------------------------------------------------------------------
    def create_job(self, name: str, params: models.JobCreateParameters, experiment: str = EXP) -> models.Job:
        return self.client.jobs.create(RG, WS, experiment, name, params).result()

    def get_job(self, name: str, experiment: str = EXP) -> models.Job:
        return self.client.jobs.get(RG, WS, experiment, name)

    def wait_for_job(self, name: str, timeout: float = 60.0, experiment: str = EXP) -> models.Job:
        def done() -> Any:
            job = self.get_job(name, experiment)
            return job if job.execution_state in FINAL else None
        return wait_for(done, timeout, message=f"job {name} to finish")

    def wait_for_state(self, name: str, state: str, timeout: float = 60.0) -> models.Job:
        return wait_for(lambda: (lambda j: j if j.execution_state == state else None)(self.get_job(name)),
                        timeout, message=f"job {name} to be {state}")

    def run_job(self, name: str, params: models.JobCreateParameters, timeout: float = 60.0) -> models.Job:
        self.create_job(name, params)
        return self.wait_for_job(name, timeout)

    def list_files(self, job: str, output_id: str, directory: str = ".", **options: Any) -> List[models.File]:
        opts = models.JobsListOutputFilesOptions(outputdirectoryid=output_id, directory=directory, **options)
        return list(self.client.jobs.list_output_files(RG, WS, EXP, job, opts))

    def files(self, job: str, output_id: str, directory: str = ".") -> Dict[str, Optional[str]]:
        """``{name: content fetched over HTTP}`` (``None`` for directories), like the SDK helper:
        ``execution*.log`` ignored, but at least one required in ``stdouterr``."""
        result: Dict[str, Optional[str]] = {}
        logs = 0
        for item in self.list_files(job, output_id, directory):
            if item.file_type == "directory":
                result[item.name] = None
                continue
            if item.name.startswith("execution") and item.name.endswith(".log"):
                logs += 1
                continue
            response = requests.get(item.download_url, timeout=10)
            assert response.status_code == 200, (item.name, response.status_code)
            result[item.name] = response.content.decode("utf-8")
        if output_id == "stdouterr":
            assert logs >= 1, f"no execution*.log in stdouterr of {job}: {sorted(result)}"
        return result
