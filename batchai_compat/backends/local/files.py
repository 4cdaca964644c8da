"""``list_output_files``: the job's ``stdouterr`` or output directories, read from host storage.

Paths (``docs/service-behaviour.md`` §d.3): ``stdouterr`` is ``<stdOutErrPathPrefix>/<segment>/stdouterr``
and output directory ``<ID>`` is ``<pathPrefix>/<segment>/outputs[/<pathSuffix>]``. Prefixes are node
paths under ``$AZ_BATCHAI_MOUNT_ROOT`` or ``$AZ_BATCHAI_JOB_MOUNT_ROOT``; they are mapped to the
host directory of the mount (see ``mounts.host_path``). As on the service, a directory that is not
on a mount cannot be listed ("... is not present on a mount root"); the error code was never
recorded, ``OutputDirectoryNotOnMount`` is ours.

Listing is one level deep, sorted by the UTF-8 bytes of the names; directories carry no
``downloadUrl`` and no ``properties``. ``directory`` is relative to the output directory; absolute
paths, ``..`` and NUL are refused (400 ``InvalidDirectory``), a directory that cannot exist (e.g. a
name too long) lists empty like a missing one, and symlinks that lead outside the output directory
are neither listed nor followed. A symlink a job made inside its output directory pointing inside it
is listed, and its URL is signed for its target (deviation: on the service's storage there were no
symlinks). Download URLs come from ``batchai_compat._fileserver.signer`` (HMAC-signed, expiring,
loopback only), which serves exactly the signed file: replacing it by a symlink after the listing
makes the URL answer 403.
"""

from __future__ import annotations

import bisect
import os
import sqlite3
import stat
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Optional

from batchai_compat.backends.base import Body, Page
from batchai_compat.backends.errors import BackendError, InvalidInput, NotFound

from . import _util, mounts
from .store import loads

STDOUTERR = "stdouterr"


def current_mounts(conn: sqlite3.Connection, home: Path, job: sqlite3.Row,
                   cluster: Optional[sqlite3.Row]) -> Dict[str, Any]:
    """Mounts for a job that never started: resolved from the cluster's and job's current settings."""
    body = loads(job["body"])
    cluster_volumes = ((loads(cluster["body"])["properties"].get("nodeSetup") or {}).get("mountVolumes")
                       if cluster is not None else None)
    try:
        return {"cluster": mounts.resolve(conn, home, cluster_volumes),
                "job": mounts.resolve(conn, home, body["properties"].get("mountVolumes"))}
    except BackendError:
        return {"cluster": [], "job": []}


def output_root(job_body: Body, resolved: Dict[str, Any], output_directory_id: str) -> Path:
    """The host directory of ``stdouterr`` or of output directory ``output_directory_id``."""
    props = job_body["properties"]
    segment = props["jobOutputDirectoryPathSegment"]
    if output_directory_id.lower() == STDOUTERR:
        node_path = f"{props['stdOutErrPathPrefix'].rstrip('/')}/{segment}/{STDOUTERR}"
    else:
        match = [d for d in props.get("outputDirectories") or () if d["id"].lower() == output_directory_id.lower()]
        if not match:
            raise NotFound("OutputDirectoryNotFound",
                           f"The specified outputDirectoryId {output_directory_id} is not found")
        out = match[0]
        node_path = f"{out['pathPrefix'].rstrip('/')}/{segment}/outputs"
        if out.get("pathSuffix"):
            node_path += "/" + out["pathSuffix"].strip("/")
    host = mounts.host_path(node_path, resolved.get("cluster") or [], resolved.get("job") or [])
    if host is None:
        raise InvalidInput("OutputDirectoryNotOnMount",
                           f"The specified outputDirectoryId {output_directory_id} is not present on a mount root")
    return host


def _subdirectory(root: Path, directory: str) -> Path:
    rel = PurePosixPath(directory or ".")
    if rel.is_absolute() or any(part == ".." for part in rel.parts) or "\x00" in directory:
        raise InvalidInput("InvalidDirectory", f"The directory {directory!r} must be a relative path inside the "
                           "output directory (no '..')")
    target = root.joinpath(*[p for p in rel.parts if p != "."])
    if _is_dir(target) and not mounts.is_within(target, root):
        raise InvalidInput("InvalidDirectory", f"The directory {directory!r} leads outside the output directory")
    return target


def _is_dir(path: Path) -> bool:
    """``path.is_dir()``, False for names no directory can have (too long, ...) rather than an OSError."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def list_files(home: Path, job_body: Body, resolved: Dict[str, Any], output_directory_id: str, directory: str,
               link_expiry_minutes: int, max_results: int, continuation: Optional[str]) -> Page:
    """One page of the immediate children of ``directory``, in byte order of their names.

    Keyset paging (the token is the last name returned), so files appearing between pages neither
    repeat nor shift the listing; only the page's own entries are stat'ed and signed, so a page of a
    10,000-file directory costs what a 1,000-file directory does.
    """
    root = output_root(job_body, resolved, output_directory_id)
    target = _subdirectory(root, directory)
    if not _is_dir(target):  # as on the service: a directory that does not exist lists empty
        return Page([])
    from batchai_compat._fileserver import signer  # started lazily: only listings need the server

    limit = max(1, min(int(max_results or 1000), 1000))
    after = bytes.fromhex(_util.decode_token(continuation).get("after", ""))
    try:
        entries = sorted((os.fsencode(e.name), e) for e in os.scandir(target))
    except OSError:  # removed or replaced since the check above
        return Page([])
    start = bisect.bisect_right([name for name, _ in entries], after) if after else 0
    sign = signer(expiry_minutes=int(link_expiry_minutes), home=home)
    real_root = os.path.realpath(root)
    real_target = os.path.realpath(target)  # inside real_root: _subdirectory refused anything else
    items: List[Body] = []
    last = b""
    for name, entry in entries[start:]:
        if len(items) == limit:
            return Page(items, _util.encode_token({"after": last.hex()}))
        last = name
        item = _file_item(entry, real_root, real_target, sign)
        if item is not None:
            items.append(item)
    return Page(items)


def _file_item(entry: "os.DirEntry[str]", real_root: str, real_parent: str, sign: Any) -> Optional[Body]:
    try:
        info = entry.stat()  # follows symlinks, as a mounted share would
    except OSError:
        return None
    if entry.is_symlink():  # may point outside the output directory: never list or sign that
        real = os.path.realpath(entry.path)
        if not real.startswith(real_root + os.sep):
            return None
    else:
        real = os.path.join(real_parent, entry.name)
    if stat.S_ISDIR(info.st_mode):
        return {"name": entry.name, "fileType": "directory"}
    if not stat.S_ISREG(info.st_mode):
        return None
    modified = datetime.fromtimestamp(info.st_mtime, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "name": entry.name,
        "fileType": "file",
        "downloadUrl": sign(real),
        "properties": {"lastModified": modified, "contentLength": info.st_size},
    }
