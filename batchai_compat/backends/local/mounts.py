"""Mount volumes as local directories, and node paths mapped back to host paths.

Storage lives under the home (``_home.py``): an Azure File share is ``_home.share_path(account,
share)`` (the share is the first path segment of ``azureFileUrl``; deeper segments select a
sub-directory), a blob container is ``_home.container_path(account, container)``, a Batch AI file
server is its export directory (``/data``; ``sourceDirectory`` selects a sub-directory of it).
Credentials are ignored: every local "storage account" is accessible (deviation). A mount never
creates storage (the service did not either): a share, container or export that does not exist is a
:class:`MountError` when a node mounts it (``docs/service-behaviour.md`` §d.2, §f.2).

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
from batchai_compat.backends.errors import BackendError, InvalidInput, not_found
from batchai_compat.launcher.env import SERVICE_MOUNT_ROOT

from . import _util

MOUNT_ROOT = "AZ_BATCHAI_MOUNT_ROOT"
JOB_MOUNT_ROOT = "AZ_BATCHAI_JOB_MOUNT_ROOT"


class MountError(BackendError):
    """A mount a node cannot make: the storage it names does not exist (``docs/service-behaviour.md`` §f.2).

    The service never created storage (shares, containers and file servers are made with the storage
    SDK or ``file_servers.create``), so a mount of a missing one failed on the node: a job-level mount
    fails the job (``executionInfo.errors``, ``exitCode`` -1), a cluster-level one makes the node
    ``unusable`` with the error in ``Cluster.errors``. Codes: ``AZFMountError`` / "Unable to mount Azure
    File" with a ``details`` entry ``Info`` for Azure File shares, as the service reported it (§f.2); the
    service's codes for blob containers and file servers were never recorded, so those are
    ``MountFailed`` (ours, same shape).
    """

    def __init__(self, code: str, message: str, info: str) -> None:
        super().__init__(code, message, [{"name": "Info", "value": info}])

    def job_error(self) -> Dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": list(self.details or [])}


def resolve(conn: sqlite3.Connection, home: Path, volumes: Optional[Body], *,
            mount: bool = False) -> List[Dict[str, Any]]:
    """``MountSpec`` dicts (relative_mount_path, source, kind, read_only) for ``mountVolumes``.

    ``mount=False`` only resolves (validation, nothing created). ``mount=True`` is what a node does
    when it mounts: every share, container and file-server export must exist (else :class:`MountError`);
    a sub-directory below one (``azureFileUrl`` path, ``sourceDirectory``) is created when missing
    (deviation: the service's mount of a missing sub-directory was never recorded).
    """
    volumes = volumes or {}
    specs = []
    roots: List[tuple] = []  # (storage directory that must exist, the MountError if it does not)
    for share in volumes.get("azureFileShares") or ():
        source, base = _share_dir(home, share)
        specs.append(_spec(share, source, "azure_file_share", share.get("mountOptions")))
        roots.append((base, MountError("AZFMountError", "Unable to mount Azure File", _missing(
            f"The Azure File share {base.name!r} of storage account {share.get('accountName')!r}",
            f"FileService(account, key).create_share({base.name!r})"))))
    for blob in volumes.get("azureBlobFileSystems") or ():
        container = blob.get("containerName") or ""
        try:
            source = _home.container_path(blob.get("accountName") or "", container, home)
        except ValueError as exc:
            raise InvalidInput("InvalidAzureBlobFileSystem", str(exc)) from exc
        specs.append(_spec(blob, source, "azure_blob", blob.get("mountOptions")))
        roots.append((source, MountError("MountFailed", "Unable to mount Azure Blob container", _missing(
            f"The blob container {container!r} of storage account {blob.get('accountName')!r}",
            f"BlockBlobService(account, key).create_container({container!r})"))))
    for ref in volumes.get("fileServers") or ():
        source, export = _file_server_dir(conn, ref)
        specs.append(_spec(ref, source, "file_server", ref.get("mountOptions")))
        roots.append((export, MountError("MountFailed", "Unable to mount file server", (
            f"The export directory {export} of file server {(ref.get('fileServer') or {}).get('id')} is gone"))))
    if mount:
        for root, failure in roots:
            if not Path(root).is_dir():
                raise failure
        for spec in specs:
            Path(spec["source"]).mkdir(mode=0o755, parents=True, exist_ok=True)
    return specs


def _missing(what: str, create: str) -> str:
    return (f"{what} does not exist. Batch AI never creates storage: create it first "
            f"(batchai_compat.storage.{create})")


def mount_failure(conn: sqlite3.Connection, home: Path, volumes: Optional[Body]) -> Optional[MountError]:
    """The :class:`MountError` a node would get mounting ``volumes`` now, or ``None``."""
    try:
        resolve(conn, home, volumes, mount=True)
    except MountError as exc:
        return exc
    except (BackendError, OSError):
        return None  # reported where the mounts are used
    return None


def _spec(ref: Body, source: Path, kind: str, options: Optional[str]) -> Dict[str, Any]:
    rel = _clean_relative(ref.get("relativeMountPath") or "", "relativeMountPath")
    read_only = "ro" in [o.strip() for o in (options or "").split(",")]
    return {"relative_mount_path": rel, "source": str(source), "kind": kind, "read_only": read_only}


def _share_dir(home: Path, share: Body) -> "tuple[Path, Path]":
    """(the mounted directory, the share's own directory)."""
    url = share.get("azureFileUrl") or ""
    split = urlsplit(url)
    parts = [unquote(p) for p in split.path.split("/") if p]
    account = share.get("accountName") or ""
    # A path-style URL on a loopback host, http://127.0.0.1:<port>/<account>/<share>/..., names the
    # account first: the form of a local storage account's primaryEndpoints.file
    # (batchai_compat.storage_mgmt) and of the storage emulator.
    if len(parts) > 1 and parts[0].lower() == account.lower() and (split.hostname or "") in _LOOPBACK_HOSTS:
        parts = parts[1:]
    if not parts:
        raise InvalidInput("InvalidAzureFileUrl", f"azureFileUrl {url!r} names no file share")
    try:
        base = _home.share_path(account, parts[0], home)
    except ValueError as exc:
        raise InvalidInput("InvalidAzureFileShare", str(exc)) from exc
    sub = _clean_relative("/".join(parts[1:]), "azureFileUrl") if len(parts) > 1 else ""
    return _below(base, sub), base


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _file_server_dir(conn: sqlite3.Connection, ref: Body) -> "tuple[Path, Path]":
    """(the mounted directory, the file server's export)."""
    fs_id = (ref.get("fileServer") or {}).get("id") or ""
    row = conn.execute("SELECT export FROM file_servers WHERE key=?", (_util.key(fs_id),)).fetchone()
    if row is None:
        raise not_found("FileServer", fs_id.rstrip("/").rsplit("/", 1)[-1])
    source = ref.get("sourceDirectory") or ""
    source = re.sub(r"^/?(mnt/)?data(/|$)", "", source)  # accept "/data/x" as well as "x"
    sub = _clean_relative(source, "sourceDirectory") if source.strip("/") else ""
    export = Path(row["export"])
    return _below(export, sub), export


def _clean_relative(path: str, what: str) -> str:
    parts = [p for p in PurePosixPath(path.strip("/")).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput("InvalidPath", f"{what} {path!r} must not contain '..'")
    try:  # NUL, over-long components: refused here rather than as an OSError later
        _home.inside_home("/", *parts)
    except ValueError as exc:
        raise InvalidInput("InvalidPath", f"{what} {path!r} is not a valid path: {exc}") from exc
    return "/".join(parts)


def _below(base: Path, sub: str) -> Path:
    """``base/sub`` for a ``sub`` cleaned by :func:`_clean_relative`, proven to stay below ``base``."""
    return _home.inside_home(base, *sub.split("/")) if sub else base


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
    return _below(Path(best["source"]), tail)


def check_job_mounts(conn: sqlite3.Connection, home: Path, volumes: Optional[Body]) -> None:
    """Fail at creation (not at start) when a referenced file server does not exist or a path is
    invalid. Whether the storage exists is checked when a node mounts it (:class:`MountError`), as
    on the service, which accepted the create; nothing is created here."""
    resolve(conn, home, volumes)


def is_within(path: Path, base: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(base))
    except ValueError:
        return False
    return True
