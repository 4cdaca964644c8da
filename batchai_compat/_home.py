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

Every path built from a user-supplied name goes through :func:`inside_home`, which refuses any part
that is not one plain directory name (empty, ``.``, ``..``, a separator, NUL, longer than a file
name may be) and proves the joined path stays under the home; names become directory names with
:func:`segment` (unchanged when harmless, percent-encoded otherwise), so even a name the service
accepted and that means something to a file system (ARM resource groups may be ``..``) is one
directory under the home, never a step out of it.
"""

from __future__ import annotations

import hashlib
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


# A name that is its own directory name: word characters (any script), ``-``, ``(``, ``)``, inner periods.
_PLAIN_SEGMENT_RE = re.compile(r"[-\w()][-\w.()]*")
_KEEP_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_MAX_SEGMENT_BYTES = 200  # well below NAME_MAX (255) on every common file system


class UnsafePath(ValueError):
    """A path built from a name would not be one directory under its base."""


def segment(name: str) -> str:
    """The directory name for the user-supplied ``name``: itself when it is harmless as a file name,
    otherwise ``%XX``-encoded UTF-8 (every byte but ``A-Za-z0-9-_``), or ``%h<sha256>`` when either
    would be too long. Injective: plain names never contain ``%``, and ``%h`` is no ``%XX`` escape."""
    if not isinstance(name, str):
        raise UnsafePath(f"a name must be a string, not {type(name).__name__}")
    raw = name.encode("utf-8", "surrogatepass")
    if _PLAIN_SEGMENT_RE.fullmatch(name) and len(raw) <= _MAX_SEGMENT_BYTES:
        return name
    encoded = "".join(chr(b) if b in _KEEP_BYTES else f"%{b:02x}" for b in raw)
    if len(encoded) <= _MAX_SEGMENT_BYTES:
        return encoded
    return "%h" + hashlib.sha256(raw).hexdigest()


def inside_home(base: PathLike, *parts: str) -> Path:
    """``base/part/...``, each part one plain directory name, proven to stay under ``base``.

    Raises :class:`UnsafePath` (a ``ValueError``) otherwise. ``base`` is a home or a directory the
    caller already built with this function.
    """
    root = Path(os.path.abspath(os.fspath(base)))
    for part in parts:
        if (not isinstance(part, str) or part in ("", ".", "..") or "/" in part or "\x00" in part
                or (os.altsep is not None and os.altsep in part) or os.sep in part
                or len(part.encode("utf-8", "surrogatepass")) > 255):
            raise UnsafePath(f"{part!r} is not a plain directory name under {str(root)!r}")
    path = root.joinpath(*parts)
    if os.path.commonpath([os.path.normpath(path), str(root)]) != str(root):  # belt and braces
        raise UnsafePath(f"{str(path)!r} is not under {str(root)!r}")
    return path


def is_inside(path: PathLike, base: PathLike) -> bool:
    """Whether ``path`` really (symlinks resolved) is ``base`` or below it."""
    real, real_base = os.path.realpath(os.fspath(path)), os.path.realpath(os.fspath(base))
    return real == real_base or real.startswith(real_base.rstrip(os.sep) + os.sep)


def removable(path: PathLike, home: PathLike) -> bool:
    """Whether the backend may delete the tree ``path``: really (symlinks resolved, and not itself a
    symlink) at least two levels below ``home`` (``nodes/<uid>``, ``fileservers/<sub>/...``)."""
    if os.path.islink(os.fspath(path)):
        return False
    real, real_home = os.path.realpath(os.fspath(path)), os.path.realpath(os.fspath(home))
    if not real.startswith(real_home.rstrip(os.sep) + os.sep):
        return False
    return len(Path(real).relative_to(real_home).parts) >= 2


def _checked(kind: str, value: object, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"invalid storage {kind} name {value!r}")
    return value


def storage_root(home: Optional[PathLike] = None) -> Path:
    return compat_home(home) / "storage"


def share_path(account: str, share: str, home: Optional[PathLike] = None) -> Path:
    """The directory holding Azure File share ``share`` of storage account ``account``."""
    account = _checked("account", _lower(account), _ACCOUNT_RE)
    share = _checked("share", _lower(share), _SHARE_RE)
    return inside_home(storage_root(home), account, "shares", share)


def container_path(account: str, container: str, home: Optional[PathLike] = None) -> Path:
    """The directory holding blob container ``container`` of storage account ``account``."""
    account = _checked("account", _lower(account), _ACCOUNT_RE)
    container = _checked("container", _lower(container), _SHARE_RE)
    return inside_home(storage_root(home), account, "blobs", container)


def file_server_export(
    subscription_id: str, resource_group: str, workspace: str, name: str, home: Optional[PathLike] = None
) -> Path:
    """The directory a Batch AI file server exports (its ``/data``): ``fileservers/<sub>/<rg>/<ws>/<name>/data``,
    each name through :func:`segment` (so ``..`` is the directory ``%2e%2e``)."""
    names = (subscription_id, resource_group, workspace, name)
    return inside_home(compat_home(home), "fileservers", *(segment(n) for n in names), "data")


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def run_dir(home: Optional[PathLike] = None) -> Path:
    path = compat_home(home) / "run"
    path.mkdir(mode=0o700, exist_ok=True)
    return path
