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

import re
from typing import Any, Dict, Optional

from batchai_compat.backends import errors

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
    return (f"BATCHAI_PY={INTERPRETER}; [ -x $BATCHAI_PY ] || BATCHAI_PY=python3; "
            f"exec $BATCHAI_PY -m batchai_compat._aml_node {spec_path}")


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
