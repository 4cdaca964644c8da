"""Mount volumes as local directories, and node paths mapped back to host paths.

Storage lives under the home (``_home.py``): an Azure File share is ``_home.share_path(account,
share)`` (the share is the first path segment of ``azureFileUrl``; deeper segments select a
sub-directory), a blob container is ``_home.container_path(account, container)``, a Batch AI file
server is its export directory (``/data``; ``sourceDirectory`` selects a sub-directory of it).
Credentials are ignored: every local "storage account" is accessible (deviation).

Nodes see a mount as ``$AZ_BATCHAI_MOUNT_ROOT/<relativeMountPath>`` (cluster level) or
``$AZ_BATCHAI_JOB_MOUNT_ROOT/<relativeMountPath>`` (job level); :func:`host_path` maps such a
path back to the host directory, which is how output files are listed without visiting a node.
The service's literal mount root ``/mnt/batch/tasks/shared/LS_root/mounts`` (``docs/service-behaviour.md``
§d.1) counts as ``$AZ_BATCHAI_MOUNT_ROOT``: jobs naming it write into their mounts (the launcher maps it,
``launcher/env.py``), so their output is listed from there too.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Optional
from urllib.parse import unquote, urlsplit

from batchai_compat import _home
from batchai_compat.backends.base import Body
from batchai_compat.backends.errors import InvalidInput, NotFound, not_found
from batchai_compat.launcher.env import SERVICE_MOUNT_ROOT

from . import _util

MOUNT_ROOT = "AZ_BATCHAI_MOUNT_ROOT"
JOB_MOUNT_ROOT = "AZ_BATCHAI_JOB_MOUNT_ROOT"


def resolve(conn: sqlite3.Connection, home: Path, volumes: Optional[Body]) -> List[Dict[str, Any]]:
    """``MountSpec`` dicts (relative_mount_path, source, kind, read_only) for ``mountVolumes``."""
    volumes = volumes or {}
    specs = []
    for share in volumes.get("azureFileShares") or ():
        specs.append(_spec(share, _share_dir(home, share), "azure_file_share", share.get("mountOptions")))
    for blob in volumes.get("azureBlobFileSystems") or ():
        try:
            source = _home.container_path(blob.get("accountName") or "", blob.get("containerName") or "", home)
        except ValueError as exc:
            raise InvalidInput("InvalidAzureBlobFileSystem", str(exc)) from exc
        specs.append(_spec(blob, source, "azure_blob", blob.get("mountOptions")))
    for ref in volumes.get("fileServers") or ():
        specs.append(_spec(ref, _file_server_dir(conn, ref), "file_server", ref.get("mountOptions")))
    for spec in specs:
        Path(spec["source"]).mkdir(mode=0o755, parents=True, exist_ok=True)
    return specs


def _spec(ref: Body, source: Path, kind: str, options: Optional[str]) -> Dict[str, Any]:
    rel = _clean_relative(ref.get("relativeMountPath") or "", "relativeMountPath")
    read_only = "ro" in [o.strip() for o in (options or "").split(",")]
    return {"relative_mount_path": rel, "source": str(source), "kind": kind, "read_only": read_only}


def _share_dir(home: Path, share: Body) -> Path:
    url = share.get("azureFileUrl") or ""
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
    if not parts:
        raise InvalidInput("InvalidAzureFileUrl", f"azureFileUrl {url!r} names no file share")
    try:
        base = _home.share_path(share.get("accountName") or "", parts[0], home)
    except ValueError as exc:
        raise InvalidInput("InvalidAzureFileShare", str(exc)) from exc
    sub = _clean_relative("/".join(parts[1:]), "azureFileUrl") if len(parts) > 1 else ""
    return base / sub if sub else base


def _file_server_dir(conn: sqlite3.Connection, ref: Body) -> Path:
    fs_id = (ref.get("fileServer") or {}).get("id") or ""
    row = conn.execute("SELECT export FROM file_servers WHERE key=?", (_util.key(fs_id),)).fetchone()
    if row is None:
        raise not_found("FileServer", fs_id.rstrip("/").rsplit("/", 1)[-1])
    source = ref.get("sourceDirectory") or ""
    source = re.sub(r"^/?(mnt/)?data(/|$)", "", source)  # accept "/data/x" as well as "x"
    sub = _clean_relative(source, "sourceDirectory") if source.strip("/") else ""
    return Path(row["export"]) / sub if sub else Path(row["export"])


def _clean_relative(path: str, what: str) -> str:
    parts = [p for p in PurePosixPath(path.strip("/")).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput("InvalidPath", f"{what} {path!r} must not contain '..'")
    return "/".join(parts)


# -- node paths back to host paths -----------------------------------------------------------------
_VAR = re.compile(r"^\$(?:\{(\w+)\}|(\w+))(/.*)?$")
# The service's own $AZ_BATCHAI_MOUNT_ROOT (docs/service-behaviour.md §d.1), written literally by
# real job configurations; the launcher maps it to the node's mount root (launcher/env.py).
_SERVICE_ROOT = re.compile(re.escape(SERVICE_MOUNT_ROOT) + r"(/|$)")


def host_path(node_path: str, cluster_mounts: List[Dict[str, Any]], job_mounts: List[Dict[str, Any]]) -> Optional[Path]:
    """The host directory behind a node path under a mount root, or ``None`` when not on a mount."""
    node_path = node_path.strip()
    if _SERVICE_ROOT.match(node_path):  # the service's literal mount root names the cluster-level mounts
        node_path = "$" + MOUNT_ROOT + node_path[len(SERVICE_MOUNT_ROOT):]
    match = _VAR.match(node_path)
    if not match:
        return None
    var, rest = match.group(1) or match.group(2), (match.group(3) or "").strip("/")
    mounts = {MOUNT_ROOT: cluster_mounts, JOB_MOUNT_ROOT: job_mounts}.get(var)
    if mounts is None:
        return None
    try:
        rest = _clean_relative(rest, "path")
    except InvalidInput:
        return None
    best = None
    for mount in mounts:
        rel = mount["relative_mount_path"]
        matches = rest == rel or rest.startswith(rel + "/")
        if matches and (best is None or len(rel) > len(best["relative_mount_path"])):
            best = mount
    if best is None:
        return None
    tail = rest[len(best["relative_mount_path"]):].strip("/")
    return Path(best["source"]) / tail if tail else Path(best["source"])


def check_job_mounts(conn: sqlite3.Connection, home: Path, volumes: Optional[Body]) -> None:
    """Fail at job creation (not at start) when a referenced file server does not exist."""
    try:
        resolve(conn, home, volumes)
    except NotFound:
        raise
    except OSError as exc:
        raise InvalidInput("InvalidMountVolumes", f"cannot prepare mount volumes: {exc}") from exc


def is_within(path: Path, base: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(base))
    except ValueError:
        return False
    return True
