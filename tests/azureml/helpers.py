"""Builders and waiters for the end-to-end azureml backend tests."""

from __future__ import annotations

import time
import warnings
from typing import Any, Callable, Dict, List, Optional

import requests

import batchai_compat.models as models

from .conftest import RG, WS

EXP = "experiment"
FINAL = ("succeeded", "failed")


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1,
             message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def create_cluster(client: Any, name: str = "cluster", nodes: int = 1, **extra: Any) -> Any:
    params = models.ClusterCreateParameters(
        vm_size="STANDARD_D1_V2", vm_priority="lowpriority",
        scale_settings=extra.pop("scale_settings", None) or models.ScaleSettings(
            manual=models.ManualScaleSettings(target_node_count=nodes,
                                              node_deallocation_option="waitforjobcompletion")),
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser",
                                                         admin_user_password="Pa$$w0rd-never-echoed"),
        **extra)
    return client.clusters.create(RG, WS, name, params).result()


# Images of the emulator's catalogue (batchai_compat/testing/amlemu/images.py): jobs see only what their image
# has, as on Azure ML. ``ubuntu``: a shell, no Python, no MPI; the Azure ML base image: conda's Python as
# python/python3, Open MPI, ssh; TensorFlow 1.8's GPU image: Python 2.7 as python, no MPI.
UBUNTU = "ubuntu"
AML_MPI = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
TF18 = "tensorflow/tensorflow:1.8.0-gpu"


def job_params(cluster: Any, node_count: int = 1, image: str = UBUNTU, **extra: Any) -> models.JobCreateParameters:
    extra.setdefault("custom_toolkit_settings", models.CustomToolkitSettings(command_line="echo hi"))
    return models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=node_count,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        output_directories=[models.OutputDirectory(id="OUTPUTS", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
                                                   path_suffix="files")],
        container_settings=models.ContainerSettings(image_source_registry=models.ImageSourceRegistry(
            image=image)),
        **extra)


def create_job(client: Any, name: str, params: Any, experiment: str = EXP) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return client.jobs.create(RG, WS, experiment, name, params).result()


def wait_job(client: Any, name: str, timeout: float = 90.0, experiment: str = EXP) -> Any:
    return wait_for(lambda: _final(client.jobs.get(RG, WS, experiment, name)), timeout=timeout,
                    message=f"job {name} to finish")


def _final(job: Any) -> Optional[Any]:
    return job if job.execution_state in FINAL else None


def files(client: Any, job: str, output_id: str = "stdouterr", directory: str = ".",
          experiment: str = EXP) -> Dict[str, Any]:
    options = models.JobsListOutputFilesOptions(outputdirectoryid=output_id, directory=directory)
    return {f.name: f for f in client.jobs.list_output_files(RG, WS, experiment, job, options)}


def contents(client: Any, job: str, output_id: str = "stdouterr", experiment: str = EXP) -> Dict[str, str]:
    result = {}
    for name, f in files(client, job, output_id, experiment=experiment).items():
        if f.file_type == "file":
            response = requests.get(f.download_url, timeout=30)
            assert response.status_code == 200
            result[name] = response.text
    return result


def without_logs(names: List[str]) -> List[str]:
    return sorted(n for n in names if not n.startswith("execution"))
