"""The azureml-independent half of a job's submission: which image the run builds, how the node side
is started in it, and how the job's processes are laid out over the nodes.

Nothing here imports azureml (a test asserts it): :mod:`.jobs` turns these plain values into
azureml-core (SDK v1) objects, and an ``azure-ai-ml`` (SDK v2) adapter would turn the same values into
a v2 ``command`` job (``environment=Environment(build=BuildContext(dockerfile...))``,
``distribution=TensorFlowDistribution(worker_count=...)`` / ``MpiDistribution(...)``).

**The node side's own interpreter** (``docs/azureml-mapping.md`` §1.7). The run's command starts
``batchai_compat._aml_node`` (Python ≥ 3.7) from the snapshot, but Batch AI–era images bring Python 2.7
(``tensorflow/tensorflow:1.8.0-gpu``), 3.5 (its ``-py3`` tag, CNTK 2.x), 3.6 (PyTorch 0.4) or none
(``ubuntu``). So every job's environment is built from a Dockerfile (:func:`runtime_dockerfile`)::

    FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04 AS batchai_runtime
    FROM <the job's image>
    COPY --from=batchai_runtime /opt/miniconda /opt/batchai_compat/python

The Azure ML base images carry a self-contained conda prefix at ``/opt/miniconda`` (Python 3, its own
OpenSSL, zlib, libffi...; https://github.com/Azure/AzureML-Containers, the ``openmpi4.1.0-ubuntu20.04``
Dockerfile). A conda Python finds its standard library relative to its executable and its libraries
through an ``$ORIGIN``-relative RPATH, so a copy under another prefix works; the one library it takes
from the image is glibc, and conda's packages are built against glibc 2.17 (conda's sysroot), older
than that of any Ubuntu ≥ 14.04 / Debian ≥ 8 / CentOS ≥ 7 image. The copy needs no network at build
time beyond the two registries, and Azure ML builds the image once per Dockerfile (it caches by the
environment's digest: https://learn.microsoft.com/azure/machine-learning/concept-environments#image-caching-and-reuse).
The environment is ``user_managed_dependencies=True`` with ``interpreter_path`` = :data:`INTERPRETER`,
the interpreter Azure ML uses for anything it runs in Python in the container
(https://learn.microsoft.com/python/api/azureml-core/azureml.core.environment.pythonsection).
The job's own commands keep the image's ``PATH`` and ``python``: only the node side runs under
:data:`INTERPRETER` (:func:`command` names it by absolute path).

Images that cannot work are refused at ``jobs.create`` (:func:`check_image`): musl images (Alpine,
BusyBox without ``:glibc``; a glibc-linked Python does not start there) and Windows images (Azure ML
compute clusters run Linux containers for these jobs).

**Distribution** (:func:`distribution`). Multi-node jobs of toolkits whose Batch AI layout started
processes with ``mpirun`` (custom MPI, Horovod, CNTK, Chainer, Caffe, PyTorch with the MPI backend;
``docs/service-behaviour.md`` §c.3–§c.7, §c.9) are submitted with an MPI configuration (one process per
node): those images bring MPI and ssh anyway. Every other toolkit (TensorFlow, PyTorch over TCP/Gloo,
Caffe2, the custom toolkit: §c.2, §c.8–§c.10) gets a TensorFlow parameter-server configuration with one
worker per node and no parameter server: Azure ML starts one process per node and gives each
``TF_CONFIG`` (every worker's address), which needs nothing in the image (no MPI, no ssh;
https://learn.microsoft.com/azure/machine-learning/how-to-train-tensorflow#distributed-training), and
the node side reads its node index and every node's address from it.
"""

from __future__ import annotations

import hashlib
import re
import secrets as secrets_mod
from datetime import timedelta
from typing import Any, Dict, List, Optional

from batchai_compat.backends import errors
from batchai_compat.backends.base import Body, JobRef
from batchai_compat.launcher.toolkits import shares_job_temp

from . import clusters, translate

DEFAULT_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
# The Azure ML base image whose conda prefix is copied into the job's image, and where it lives there.
RUNTIME_IMAGE = DEFAULT_IMAGE
RUNTIME_PREFIX_IN_BASE = "/opt/miniconda"
RUNTIME_PREFIX = "/opt/batchai_compat/python"
INTERPRETER = RUNTIME_PREFIX + "/bin/python3"
RUNTIME_STAGE = "batchai_runtime"

# Toolkits whose Batch AI layout used mpirun (docs/service-behaviour.md §c.3-§c.7; PyTorch with the MPI
# backend §c.9).
MPI_TOOLKITS = frozenset({"mpi", "horovod", "cntk", "chainer", "caffe"})

_NO_CURATED_IMAGE = ("cntk", "caffe", "caffe2", "chainer")

_MUSL = re.compile(r"(^|[/:_.-])(alpine|musl)([/:_.-]|$)", re.IGNORECASE)
_WINDOWS = re.compile(r"(^|/)(windows|nanoserver|servercore)([/:_.-]|$)|mcr\.microsoft\.com/windows", re.IGNORECASE)


def check_image(image: str) -> None:
    """Refuse an image in which the node side cannot start (raises ``NotSupported``)."""
    name = str(image or "").strip()
    repo = name.split("@", 1)[0]
    base = repo.rsplit("/", 1)[-1]
    if _WINDOWS.search(repo):
        raise errors.NotSupported(
            "ImageNotSupported",
            f"containerSettings image '{name}' is a Windows image: the azureml backend runs Batch AI jobs in "
            "Linux containers on Azure ML compute clusters (a Linux image with glibc is required; pass one, e.g. "
            f"{DEFAULT_IMAGE})")
    musl = bool(_MUSL.search(repo)) or (base.split(":", 1)[0] == "busybox" and ":glibc" not in base)
    if musl:
        raise errors.NotSupported(
            "ImageNotSupported",
            f"containerSettings image '{name}' is a musl-libc image (Alpine/BusyBox): the azureml backend "
            "copies a glibc-linked Python into the job's image to start the job's nodes, and it cannot run "
            "there. Use a glibc-based image (Debian, Ubuntu, CentOS...), e.g. the -slim or Debian variant of "
            "the same image")


def runtime_dockerfile(image: str) -> str:
    """The Dockerfile of the job's Azure ML environment: the job's image plus the node side's Python."""
    return (f"FROM {RUNTIME_IMAGE} AS {RUNTIME_STAGE}\n"
            f"FROM {image}\n"
            f"COPY --from={RUNTIME_STAGE} {RUNTIME_PREFIX_IN_BASE} {RUNTIME_PREFIX}\n")


def command(spec_path: str) -> str:
    """The run's command (Azure ML runs a command string in a shell): the node side under the copied
    interpreter, whatever ``python`` the image has; ``python3`` of the ``PATH`` only where that interpreter
    is absent (an environment not built from :func:`runtime_dockerfile`, e.g. the emulator without image
    environments)."""
    # -E -s: the image's PYTHONPATH / PYTHONHOME / user site (e.g. a Python 2.7 site-packages with its own
    # `typing` or `enum` backports) must not reach this interpreter; the job's processes still get them.
    return (f"BATCHAI_PY={INTERPRETER}; [ -x $BATCHAI_PY ] || BATCHAI_PY=python3; "
            f"exec $BATCHAI_PY -E -s -m batchai_compat._aml_node {spec_path}")


def uses_mpi(tool: str, settings: Optional[Dict[str, Any]] = None) -> bool:
    """Whether the toolkit's Batch AI layout started its processes with mpirun."""
    if tool == "pytorch":
        return str((settings or {}).get("communicationBackend") or "").lower() == "mpi"
    return tool in MPI_TOOLKITS


def distribution(tool: str, node_count: int,
                 settings: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """``None`` (one process on one node), ``{"kind": "mpi", "node_count": n, "process_count_per_node": 1}``
    or ``{"kind": "tensorflow", "worker_count": n, "parameter_server_count": 0}`` (see the module docstring)."""
    if node_count < 2:
        return None
    if uses_mpi(tool, settings):
        return {"kind": "mpi", "node_count": node_count, "process_count_per_node": 1}
    return {"kind": "tensorflow", "worker_count": node_count, "parameter_server_count": 0}


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
        check_image(str(image))
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
        "distribution": distribution(tool, node_count, (props.get(key) or {}) if key else {}),
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
