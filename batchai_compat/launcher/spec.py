"""The launch spec: everything the node launcher needs to run one Batch AI job.

The engine that owns the job (the local backend's supervisor, or an Azure ML run) writes a spec
file and starts ``python -m batchai_compat.launcher --spec FILE``. The spec holds secrets (secret
environment variables, storage keys), so the file is written with mode 0600 and removed when the
job ends; nothing from it is ever written into ``stdouterr``.

Layout of a job on its nodes (``docs/service-behaviour.md`` §c, §d):

* ``nodes[i].root`` is the node's private disk. The launcher creates, per node:
  ``<root>/mounts`` (``$AZ_BATCHAI_MOUNT_ROOT``: symlinks for cluster-level mounts),
  ``<root>/jobs`` (``$AZ_BATCHAI_JOB_TEMP_DIR``), ``<root>/jobs/<job-uid>`` (``$AZ_BATCHAI_JOB_TEMP``)
  and ``<root>/jobs/<job-uid>/mounts`` (``$AZ_BATCHAI_JOB_MOUNT_ROOT``: job-level mounts, removed
  after the job).
* ``shared_job_temp`` is one directory visible to every node (``$AZ_BATCHAI_SHARED_JOB_TEMP``).
* Mount volumes are resolved to host directories by the engine (``MountSpec.source``) because only
  the engine knows where storage lives; the launcher only links them into place.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional


@dataclass
class NodeSpec:
    """One (virtual) node of the job's allocation, in allocation order (node 0 is the master)."""

    id: str  # e.g. "tvm-1234567890_1-20260101t000000z"
    address: str  # the node's IP as jobs see it, e.g. "127.0.0.2"
    root: str  # absolute directory: this node's private disk


@dataclass
class MountSpec:
    """A mount volume resolved to a host directory."""

    relative_mount_path: str
    source: str  # absolute host directory the mount exposes
    kind: str  # "azure_file_share" | "azure_blob" | "file_server" | "unmanaged"
    read_only: bool = False


@dataclass
class LaunchSpec:
    """Everything needed to run a job. ``job`` is the stored Job REST body *with* secrets."""

    job: Dict[str, Any]  # {"id", "name", "properties": {...JobProperties incl. secrets' values...}}
    nodes: List[NodeSpec]
    shared_job_temp: str  # absolute dir shared by all nodes of this job
    job_uid: str  # unique per job instance (the uuid at the end of jobOutputDirectoryPathSegment)
    cluster_mounts: List[MountSpec] = field(default_factory=list)  # nodeSetup.mountVolumes
    job_mounts: List[MountSpec] = field(default_factory=list)  # JobCreateParameters.mountVolumes
    result_path: Optional[str] = None  # where the launcher writes its JSON result (outside stdouterr)
    python: Optional[str] = None  # interpreter for framework toolkits when pythonInterpreterPath is unset
    gpus_per_node: int = 0
    container_runtime: Optional[str] = None  # e.g. "docker"/"podman"; None = run on the host
    extra_env: Dict[str, str] = field(default_factory=dict)  # engine-specific variables
    # Node mode only: how the launchers of the job's nodes find each other (see group.py):
    # {"token": shared secret, "port": first port tried on node 0's address, "ports": how many,
    #  "timeout": seconds to wait for the other nodes}. None: no coordination between nodes.
    group: Optional[Dict[str, Any]] = None

    # -- (de)serialization ---------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LaunchSpec":
        raw = json.loads(text)
        raw["nodes"] = [NodeSpec(**n) for n in raw["nodes"]]
        raw["cluster_mounts"] = [MountSpec(**m) for m in raw.get("cluster_mounts", [])]
        raw["job_mounts"] = [MountSpec(**m) for m in raw.get("job_mounts", [])]
        return cls(**raw)

    def write(self, path: os.PathLike) -> Path:
        """Write the spec with mode 0600 (it contains secrets)."""
        path = Path(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
        return path

    @classmethod
    def read(cls, path: os.PathLike) -> "LaunchSpec":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


@dataclass
class LaunchResult:
    """What the launcher reports when the job ends (written to ``LaunchSpec.result_path``).

    ``error_code`` is ``None`` on success, else the Batch AI code: ``JobFailed``,
    ``JobPreparationFailed``, ``JobTerminated`` (the launcher was signalled), or a launch error
    such as ``FailedStartingContainer``. ``exit_code`` is ``None`` when no process exit status
    applies (terminated jobs).
    """

    exit_code: Optional[int]
    error_code: Optional[str] = None
    error_message: Optional[str] = None
    start_time: Optional[str] = None  # ISO 8601 UTC
    end_time: Optional[str] = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LaunchResult":
        return cls(**json.loads(text))
