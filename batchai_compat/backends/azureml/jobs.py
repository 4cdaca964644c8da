"""Jobs ↔ ScriptRunConfig runs (``docs/azureml-mapping.md`` §1.4, §1.7, §1.8).

:func:`plan` is the pure translation of ``JobCreateParameters.properties`` (what runs where, which
image, which variables, which mounts, which secrets); :func:`script_run_config` turns a plan into the
real azureml-core objects. The run's command is always the node side of the launcher
(:mod:`.nodeside`), so Batch AI semantics (``AZ_BATCHAI_*``, job preparation, per-role TensorFlow
arguments, ``stdouterr`` file names, secrets) come from the same code as on the local backend.

Multi-node jobs get one Azure ML process per node (``MpiConfiguration(process_count_per_node=1)``),
each running the launcher for its node ("node mode", see :mod:`.nodeside`): setup task and job
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
import re
import secrets as secrets_mod
from datetime import timedelta
from typing import Any, Dict, List, Optional, Tuple

from batchai_compat.backends import errors
from batchai_compat.backends.base import Body, JobRef
from batchai_compat.launcher.toolkits import shares_job_temp

from . import clusters, source, translate
from . import plan as plan_mod

DEFAULT_IMAGE = plan_mod.DEFAULT_IMAGE
_NO_CURATED_IMAGE = ("cntk", "caffe", "caffe2", "chainer")


def _seconds(duration: Any) -> int:
    if isinstance(duration, timedelta):
        return int(duration.total_seconds())
    import isodate

    value = isodate.parse_duration(str(duration or "P7D"))
    if not isinstance(value, timedelta):  # years/months: a Duration object
        value = value.totimedelta(start=isodate.parse_datetime("2000-01-01T00:00:00Z"))
    return max(1, int(value.total_seconds()))


def datastore_name(kind: str, account: str, container: str) -> str:
    """Deterministic datastore name for a Batch AI mount (``[a-z0-9_]``, at most 255 chars)."""
    stem = re.sub(r"[^a-z0-9_]", "_", f"bai_{kind}_{account}_{container}".lower())
    if len(stem) > 200:
        stem = stem[:190] + "_" + hashlib.sha256(stem.encode()).hexdigest()[:8]
    return stem


def mounts_of(volumes: Optional[Body], level: str) -> List[Dict[str, Any]]:
    """Mount descriptions (datastore + data reference names) of a ``mountVolumes`` body."""
    result: List[Dict[str, Any]] = []
    volumes = volumes or {}
    for i, share in enumerate(volumes.get("azureFileShares") or []):
        url = str(share.get("azureFileUrl") or "").rstrip("/")
        name = url.rsplit("/", 1)[-1] if url else ""
        result.append({"kind": "azure_file_share", "account": share.get("accountName"), "container": name,
                       "relative_mount_path": share.get("relativeMountPath"),
                       "credentials": share.get("credentials") or {},
                       "datastore": datastore_name("share", str(share.get("accountName")), name),
                       "reference": f"bai_{level[0]}share{i}"})
    for i, blob in enumerate(volumes.get("azureBlobFileSystems") or []):
        result.append({"kind": "azure_blob", "account": blob.get("accountName"),
                       "container": blob.get("containerName"), "relative_mount_path": blob.get("relativeMountPath"),
                       "credentials": blob.get("credentials") or {},
                       "datastore": datastore_name("blob", str(blob.get("accountName")),
                                                   str(blob.get("containerName"))),
                       "reference": f"bai_{level[0]}blob{i}"})
    return result


def plan(ref: JobRef, props: Body, cluster_props: Optional[Body], run_id: str) -> Dict[str, Any]:
    """What to submit for a job. ``props`` are the normalized job properties (secrets included).

    Returns ``{"node_count", "compute", "image", "registry", "shm_size", "max_seconds", "env",
    "secrets" ({var: key vault name}), "secret_values" ({key vault name: value}), "mounts" (by level),
    "aml_spec" (shipped to the node, no secret values), "notes" (degradations to warn about)}``.
    """
    notes: List[str] = []
    clusters.check_mount_volumes(props.get("mountVolumes"), "mountVolumes")
    tool, key = translate.toolkit(props)
    node_count = int(props.get("nodeCount") or 1)
    _sub, _rg, _ws, cluster_name = translate.parse_cluster_id((props.get("cluster") or {}).get("id", ""))
    if node_count > 1 and shares_job_temp(props):
        notes.append(f"multi-node job ({node_count} nodes) relying on $AZ_BATCHAI_SHARED_JOB_TEMP: on Azure ML it "
                     "is a directory on each node, not one directory shared by the job's nodes as on Batch AI, so "
                     "a file-based rendezvous across nodes (e.g. Caffe2's file store) will not meet; use a TCP "
                     "rendezvous (e.g. on $AZ_BATCHAI_MPI_MASTER_NODE) or files on a mounted datastore")
    if node_count > 1 and tool == "pytorch" and \
            str((props.get("pyTorchSettings") or {}).get("communicationBackend") or "").lower() != "mpi":
        notes.append("multi-node PyTorch job: $AZ_BATCHAI_PYTORCH_INIT_METHOD is tcp://<node 0>:<port> on Azure ML "
                     "(file:// in the shared job temp directory on Batch AI, which Azure ML nodes do not share); "
                     "scripts that pass it to torch.distributed.init_process_group work unchanged")
    container = props.get("containerSettings") or {}
    registry_body = container.get("imageSourceRegistry") or {}
    image = registry_body.get("image")
    registry = None
    if image:
        creds = registry_body.get("credentials") or {}
        if creds.get("passwordSecretReference"):
            raise errors.NotSupported("SecretReferenceNotSupported",
                                      "containerSettings.imageSourceRegistry.credentials.passwordSecretReference "
                                      "(a Key Vault reference) is not supported by the azureml backend: pass the "
                                      "registry password itself, or attach the registry to the Azure ML workspace")
        plan_mod.check_image(str(image))
        if registry_body.get("serverUrl") or creds.get("username"):
            registry = {"address": registry_body.get("serverUrl"), "username": creds.get("username"),
                        "password": creds.get("password")}
    else:
        image = DEFAULT_IMAGE
        notes.append(f"the job has no containerSettings: Azure ML runs every job in a container, so it runs in "
                     f"the default image {DEFAULT_IMAGE} (pass containerSettings with the image your job needs)")
        if tool in _NO_CURATED_IMAGE:
            notes.append(f"toolType {tool}: there are no curated {tool} images on Azure ML; pass containerSettings "
                         "with an image that has the framework installed")
    if str(props.get("schedulingPriority") or "normal").lower() != "normal":
        notes.append("schedulingPriority is ignored: Azure ML compute clusters schedule runs first in, first out")
    secrets: Dict[str, str] = {}
    secret_values: Dict[str, str] = {}
    for i, secret in enumerate(props.get("secrets") or []):
        if secret.get("valueSecretReference"):
            raise errors.NotSupported("SecretReferenceNotSupported",
                                      f"secrets[{secret.get('name')}].valueSecretReference (a Key Vault reference) "
                                      "is not supported by the azureml backend: pass the value (it is stored in "
                                      "the workspace's Key Vault, never in the run definition)")
        vault_name = translate.secret_name(run_id, i)
        secrets[str(secret["name"])] = vault_name
        secret_values[vault_name] = str(secret.get("value") or "")
        translate.check_secret_value(f"secrets[{secret.get('name')}]", secret_values[vault_name])
    job_mounts = mounts_of(props.get("mountVolumes"), "job")
    cluster_mounts = mounts_of(((cluster_props or {}).get("nodeSetup") or {}).get("mountVolumes"), "cluster")
    for mount in job_mounts + cluster_mounts:
        if (mount["credentials"] or {}).get("accountKeySecretReference"):
            raise errors.NotSupported("SecretReferenceNotSupported",
                                      "mount credentials.accountKeySecretReference (a Key Vault reference) is not "
                                      "supported by the azureml backend: pass accountKey")
    if any(v.get("mountOptions") for v in ((props.get("mountVolumes") or {}).get("azureBlobFileSystems") or [])):
        notes.append("azureBlobFileSystems[].mountOptions are ignored: Azure ML mounts blob containers itself")
    env = {str(v["name"]): str(v.get("value") or "") for v in props.get("environmentVariables") or []}
    stored = translate.strip_job_secrets(props)
    compute = clusters_compute_name(cluster_name)
    task = ((cluster_props or {}).get("nodeSetup") or {}).get("setupTask")
    setup_task = None
    if task:
        setup_task = {k: task.get(k) for k in ("commandLine", "environmentVariables", "stdOutErrPathPrefix",
                                               "stdOutErrPathSuffix")}
        setup_task["secrets"] = {str(s["name"]): clusters.setup_secret_name(compute, i)
                                 for i, s in enumerate(task.get("secrets") or [])}
    aml_spec = {
        "job": {"id": translate.job_id(ref), "name": ref.job, "properties": stored},
        "node_count": node_count,
        # Set by the backend from AmlCompute.supported_vmsizes (runs.py); None: the node counts its GPUs.
        "gpus_per_node": None,
        "secrets": secrets,
        "setup_task": setup_task,
        "mounts": {level: [{"relative_mount_path": m["relative_mount_path"], "kind": m["kind"],
                            "reference": m["reference"]} for m in ms]
                   for level, ms in (("cluster", cluster_mounts), ("job", job_mounts))},
    }
    if node_count > 1:
        # The launchers of the job's nodes authenticate each other with it (launcher/group.py).
        aml_spec["group_token"] = secrets_mod.token_urlsafe(24)
    return {
        "node_count": node_count,
        "compute": compute,
        "tool": tool,
        # None, or the MPI / TensorFlow layout of a multi-node job (plan.distribution: no MPI for toolkits
        # whose Batch AI layout did not use it).
        "distribution": plan_mod.distribution(tool, node_count, (props.get(key) or {}) if key else {}),
        "image": image,
        "registry": registry,
        "shm_size": container.get("shmSize"),
        "max_seconds": _seconds((props.get("constraints") or {}).get("maxWallClockTime")),
        "env": env,
        "secrets": secrets,
        "secret_values": secret_values,
        "mounts": {"cluster": cluster_mounts, "job": job_mounts},
        "aml_spec": aml_spec,
        "notes": notes,
    }


def clusters_compute_name(cluster_name: str) -> str:
    return translate.compute_name(cluster_name)


def environment(job_plan: Dict[str, Any]) -> Any:
    """The azureml ``Environment`` of a plan: built from :func:`.plan.runtime_dockerfile` (the job's image
    plus the node side's own Python under ``/opt/batchai_compat/python``), no conda layer
    (``user_managed_dependencies``), that Python as ``interpreter_path``. The registry credentials of a
    private image are the environment's ``base_image_registry`` (unverified on Azure for Dockerfile
    builds: attaching the registry to the workspace is the documented way)."""
    from azureml.core import Environment
    from azureml.core.container_registry import ContainerRegistry

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
    env.environment_variables = {}  # every Environment starts with EXAMPLE_ENV_VAR
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
