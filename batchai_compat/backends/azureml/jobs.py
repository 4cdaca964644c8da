"""Jobs ↔ ScriptRunConfig runs (``docs/azureml-mapping.md`` §1.4, §1.7, §1.8).

:func:`.plan.plan` (in :mod:`.plan`, which imports no azureml) is the pure translation of
``JobCreateParameters.properties`` (what runs where, which image, which variables, which mounts, which
secrets, which process layout); :func:`environment` and :func:`script_run_config` turn a plan into the
real azureml-core (SDK v1) objects. The run's command is always the node side of the launcher
(:mod:`.nodeside`), so Batch AI semantics (``AZ_BATCHAI_*``, job preparation, per-role TensorFlow
arguments, ``stdouterr`` file names, secrets) come from the same code as on the local backend.

Multi-node jobs get one Azure ML process per node (``MpiConfiguration(process_count_per_node=1)`` for
MPI toolkits, ``TensorflowConfiguration(worker_count=nodes)`` for the others: see :mod:`.plan`), each
running the launcher for its node ("node mode", see :mod:`.nodeside`): setup task and job
preparation on every node, a barrier on node 0, then every toolkit's processes on the nodes Batch AI
put them on (TensorFlow roles over the nodes' addresses, PyTorch/Caffe2 ranks, one mpirun from
node 0), and the job ends when every worker on every node has ended.

Deviations (warned): ``$AZ_BATCHAI_SHARED_JOB_TEMP`` is per node (warned for Caffe2 and for jobs
that name it); multi-node PyTorch gets a ``tcp://`` init method; jobs without ``containerSettings``
run in a default image; ``schedulingPriority`` is ignored; ``mountOptions`` / ``fileMode`` /
``directoryMode`` are ignored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Optional, Tuple

from batchai_compat.backends.base import Body

from . import plan as plan_mod
from . import source, translate

# The pure translation lives in plan.py (no azureml import); kept importable from here.
from .plan import DEFAULT_IMAGE, _seconds, clusters_compute_name, datastore_name, mounts_of, plan  # noqa: F401


def environment(job_plan: Dict[str, Any]) -> Any:
    """The azureml ``Environment`` of a plan: built from :func:`.plan.runtime_dockerfile` (the job's image
    plus the node side's own Python under ``/opt/batchai_compat/python``), no conda layer
    (``user_managed_dependencies``), that Python as ``interpreter_path``. The registry credentials of a
    private image are the environment's ``base_image_registry`` (unverified on Azure for Dockerfile
    builds: attaching the registry to the workspace is the documented way)."""
    from azureml.core import Environment
    from azureml.core.container_registry import ContainerRegistry

    from . import _internals

    registry = None
    if job_plan["registry"]:
        registry = ContainerRegistry()
        registry.address = job_plan["registry"]["address"]
        registry.username = job_plan["registry"]["username"]
        registry.password = job_plan["registry"]["password"]
    dockerfile = plan_mod.runtime_dockerfile(job_plan["image"])
    name = "batchai-" + hashlib.sha256(dockerfile.encode()).hexdigest()[:12]
    env = Environment(name)
    env.docker.base_image = None
    env.docker.base_dockerfile = dockerfile
    if registry is not None:
        env.docker.base_image_registry = registry
    _internals.clear_environment_variables(env)  # every Environment starts with EXAMPLE_ENV_VAR
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = plan_mod.INTERPRETER
    return env


def script_run_config(job_plan: Dict[str, Any], source_directory: str, data_references: Dict[str, Any]) -> Any:
    """The ``ScriptRunConfig`` for a plan (no ``run_config=``: it would silently drop the target)."""
    from azureml.core import ScriptRunConfig
    from azureml.core.runconfig import DockerConfiguration, MpiConfiguration, TensorflowConfiguration

    distributed = None
    layout = job_plan.get("distribution")
    if layout and layout["kind"] == "mpi":
        # One process per node (the MPI rank is the node index); the image brings MPI and ssh (MPI toolkits).
        distributed = MpiConfiguration(process_count_per_node=1, node_count=layout["node_count"])
    elif layout:
        # One process per node with TF_CONFIG (every node's address): needs nothing in the image.
        distributed = TensorflowConfiguration(worker_count=layout["worker_count"],
                                              parameter_server_count=layout["parameter_server_count"])
    docker = DockerConfiguration(use_docker=True, shm_size=job_plan["shm_size"]) if job_plan["shm_size"] \
        else DockerConfiguration(use_docker=True)
    config = ScriptRunConfig(source_directory=source_directory, command=source.COMMAND,
                             compute_target=job_plan["compute"], environment=environment(job_plan),
                             distributed_job_config=distributed, max_run_duration_seconds=job_plan["max_seconds"],
                             docker_runtime_config=docker)
    config.run_config.node_count = job_plan["node_count"]
    config.run_config.environment_variables = dict(job_plan["env"])
    if data_references:
        config.run_config.data_references = data_references
    return config


def run_facts(run: Any) -> Dict[str, Any]:
    """Plain values of a ``Run`` (from its DTO; no request) for :func:`translate.job_body`."""
    from . import _internals

    dto = _internals.run_dto(run)
    error = dto.get("error")
    message = None
    if error:
        inner = error.get("error") if isinstance(error, dict) else getattr(error, "error", None)
        if isinstance(inner, dict):
            message = inner.get("message")
        elif inner is not None:
            message = getattr(inner, "message", None)
        if message is None and isinstance(error, dict):
            message = error.get("message")
    tags = dict(getattr(run, "tags", None) or {})
    return {"status": dto.get("status") or getattr(run, "status", None),
            "start": dto.get("start_time_utc"), "end": dto.get("end_time_utc"), "created": dto.get("created_utc"),
            "error_message": message, "deleted": tags.get(translate.TAG_DELETED) == "true"}


def stored_spec(run: Any) -> Tuple[Optional[Body], Dict[str, str]]:
    props = dict(getattr(run, "properties", None) or {})
    try:
        spec = json.loads(translate.spec_from_properties(props) or "null")
    except ValueError:
        spec = None
    return spec, props
