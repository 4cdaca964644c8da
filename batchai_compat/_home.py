"""Where the local backend and the local storage emulation keep their files.

One root, ``BATCHAI_COMPAT_HOME`` (default ``~/.batchai_compat``), documented as a stable layout in
``docs/storage-layout.md`` because three components share it: the local control plane, the node
launcher that mounts storage into jobs, and ``batchai_compat.storage`` (the legacy
``BlockBlobService`` / ``FileService`` in local mode)::

    $BATCHAI_COMPAT_HOME/
      state.db                                     control plane (SQLite, mode 0600)
      storage/<account>/shares/<share>/...         Azure File shares
      storage/<account>/blobs/<container>/...      blob containers
      fileservers/<sub>/<rg>/<ws>/<name>/data/...  Batch AI file-server exports
      nodes/<cluster-uid>/<node-id>/...            virtual node disks (mounts, job temp dirs)
      run/                                         pid files, sockets, file-server secret (0700)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

ENV_HOME = "BATCHAI_COMPAT_HOME"

# Account, share and container names as Azure Storage accepts them; anything else could escape the root.
_ACCOUNT_RE = re.compile(r"^[a-z0-9]{1,64}$")
_SHARE_RE = re.compile(r"^[a-z0-9$](?:[a-z0-9]|-(?!-)){1,62}$")


def compat_home(explicit: Optional[PathLike] = None) -> Path:
    """The root directory, created with mode 0700 if missing."""
    root = Path(explicit) if explicit is not None else Path(os.environ.get(ENV_HOME) or Path.home() / ".batchai_compat")
    root = root.expanduser()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _checked(kind: str, value: str, pattern: re.Pattern[str]) -> str:
    if not pattern.match(value or ""):
        raise ValueError(f"invalid storage {kind} name {value!r}")
    return value


def storage_root(home: Optional[PathLike] = None) -> Path:
    return compat_home(home) / "storage"


def share_path(account: str, share: str, home: Optional[PathLike] = None) -> Path:
    """The directory holding Azure File share ``share`` of storage account ``account``."""
    account = _checked("account", account.lower(), _ACCOUNT_RE)
    share = _checked("share", share.lower(), _SHARE_RE)
    return storage_root(home) / account / "shares" / share


def container_path(account: str, container: str, home: Optional[PathLike] = None) -> Path:
    """The directory holding blob container ``container`` of storage account ``account``."""
    account = _checked("account", account.lower(), _ACCOUNT_RE)
    container = _checked("container", container.lower(), _SHARE_RE)
    return storage_root(home) / account / "blobs" / container


def file_server_export(
    subscription_id: str, resource_group: str, workspace: str, name: str, home: Optional[PathLike] = None
) -> Path:
    """The directory a Batch AI file server exports (its ``/data``)."""
    return compat_home(home) / "fileservers" / subscription_id / resource_group / workspace / name / "data"


def run_dir(home: Optional[PathLike] = None) -> Path:
    path = compat_home(home) / "run"
    path.mkdir(mode=0o700, exist_ok=True)
    return path
