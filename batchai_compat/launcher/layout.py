"""Where things live on a (virtual) node and in storage (``docs/service-behaviour.md`` §d.1–§d.3, §e.3).

Per node (``NodeSpec.root`` is the node's private disk)::

    <root>/mounts/<relativeMountPath>               cluster-level mounts  ($AZ_BATCHAI_MOUNT_ROOT)
    <root>/jobs/                                    $AZ_BATCHAI_JOB_TEMP_DIR
    <root>/jobs/<job-uid>/                          $AZ_BATCHAI_JOB_TEMP (also the processes' cwd)
    <root>/jobs/<job-uid>/mounts/<relativeMountPath> job-level mounts     ($AZ_BATCHAI_JOB_MOUNT_ROOT)
    <root>/jobs/<job-uid>/hostfile                  $AZ_BATCHAI_MPI_HOST_FILE

Mounts are symlinks to the host directories the engine resolved (``MountSpec.source``); job-level
ones are removed when the job ends (behaviour 31). In storage::

    <stdOutErrPathPrefix>/<segment>/stdouterr/      stdout.txt, stderr.txt, execution*.log, ...
    <pathPrefix>/<segment>/outputs[/<pathSuffix>]   $AZ_BATCHAI_OUTPUT_<ID>
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from .spec import LaunchSpec, MountSpec, NodeSpec

STDOUTERR = "stdouterr"
OUTPUTS = "outputs"


@dataclass
class NodePaths:
    index: int
    node: NodeSpec
    mount_root: str
    job_temp_dir: str
    job_temp: str
    job_mount_root: str
    hostfile: str


def node_paths(spec: LaunchSpec, index: int) -> NodePaths:
    node = spec.nodes[index]
    root = os.path.abspath(node.root)
    job_temp_dir = os.path.join(root, "jobs")
    job_temp = os.path.join(job_temp_dir, spec.job_uid)
    return NodePaths(
        index=index,
        node=node,
        mount_root=os.path.join(root, "mounts"),
        job_temp_dir=job_temp_dir,
        job_temp=job_temp,
        job_mount_root=os.path.join(job_temp, "mounts"),
        hostfile=os.path.join(job_temp, "hostfile"),
    )


def output_segment(spec: LaunchSpec) -> str:
    """``jobOutputDirectoryPathSegment``; rebuilt from the job id when the body lacks it."""
    props = spec.job.get("properties") or {}
    segment = props.get("jobOutputDirectoryPathSegment")
    if segment:
        return str(segment).strip("/")
    parts = [p for p in str(spec.job.get("id", "")).split("/") if p]
    # /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.BatchAI/workspaces/{ws}/experiments/{e}/jobs/{j}
    lower = [p.lower() for p in parts]
    try:
        sub = parts[lower.index("subscriptions") + 1]
        rg = parts[lower.index("resourcegroups") + 1]
        ws = parts[lower.index("workspaces") + 1]
        exp = parts[lower.index("experiments") + 1]
        job = parts[lower.index("jobs") + 1]
    except (ValueError, IndexError):
        return f"jobs/{spec.job.get('name', 'job')}/{spec.job_uid}"
    return f"{sub}/{rg}/workspaces/{ws}/experiments/{exp}/jobs/{job}/{spec.job_uid}"


def join_prefix(prefix: str, *parts: Optional[str]) -> str:
    """``prefix/part/...`` with a trailing slash on the prefix (and empty parts) normalised away."""
    path = prefix.rstrip("/") or "/"
    for part in parts:
        if part:
            path = path.rstrip("/") + "/" + str(part).strip("/")
    return path


def _link(link_path: str, target: str) -> str:
    """Create (or repair) the symlink ``link_path`` -> ``target``; returns a note for the log."""
    os.makedirs(target, exist_ok=True)
    os.makedirs(os.path.dirname(link_path), exist_ok=True)
    if os.path.islink(link_path):
        if os.readlink(link_path) == target:
            return "already mounted"
        os.unlink(link_path)
    elif os.path.exists(link_path):
        return "a directory already exists at the mount point; left as is"
    os.symlink(target, link_path)
    return "mounted"


def prepare_node(paths: NodePaths, spec: LaunchSpec) -> List[str]:
    """Create the node's directories and mount links. Returns log lines."""
    notes = []
    for directory in (paths.mount_root, paths.job_temp_dir, paths.job_temp, paths.job_mount_root):
        os.makedirs(directory, exist_ok=True)
    for kind, root, mounts in (
        ("cluster", paths.mount_root, spec.cluster_mounts),
        ("job", paths.job_mount_root, spec.job_mounts),
    ):
        for mount in mounts:
            link = os.path.join(root, mount.relative_mount_path.strip("/"))
            note = _link(link, os.path.abspath(mount.source))
            ro = " (read-only is not enforced locally)" if mount.read_only else ""
            notes.append(f"{kind}-level {mount.kind} mount {link}: {note}{ro}")
    return notes


def remove_job_mounts(paths: NodePaths, mounts: List[MountSpec]) -> List[str]:
    """Unmount the job-level volumes: remove their links (never what they point to)."""
    notes = []
    for mount in mounts:
        link = os.path.join(paths.job_mount_root, mount.relative_mount_path.strip("/"))
        if os.path.islink(link):
            os.unlink(link)
            notes.append(f"unmounted {link}")
    # Remove now-empty intermediate directories of nested mount paths, then the mount root.
    for dirpath, _dirs, _files in sorted(os.walk(paths.job_mount_root), key=lambda w: -len(w[0])):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass
    return notes


def write_hostfile(paths: NodePaths, nodes: List[NodeSpec], slots: int) -> None:
    """One line per address; nodes sharing an address (machines that report one address for
    several nodes) share one line with their slots added up: OpenMPI refuses a host listed twice."""
    counts: Dict[str, int] = {}
    for node in nodes:
        counts[node.address] = counts.get(node.address, 0) + slots
    with open(paths.hostfile, "w", encoding="utf-8") as fh:
        for address, total in counts.items():
            fh.write(f"{address} slots={total}\n")


# --------------------------------------------------------------------------------------------------
# stdouterr file names (docs/service-behaviour.md §c.11, §e.3)
# --------------------------------------------------------------------------------------------------
def execution_log_name(node: NodeSpec, multi_node: bool) -> str:
    return f"execution-{node.id}.log" if multi_node else "execution.log"


def job_prep_names(node: NodeSpec, multi_node: bool) -> "tuple[str, str]":
    suffix = f"-{node.id}" if multi_node else ""
    return f"stdout-job_prep{suffix}.txt", f"stderr-job_prep{suffix}.txt"


def job_properties(spec: LaunchSpec) -> Dict[str, Any]:
    return spec.job.get("properties") or {}
