"""Local mode: containers and shares are directories under ``BATCHAI_COMPAT_HOME``.

``storage/<account>/blobs/<container>/<blob name with / as subdirectories>`` and
``storage/<account>/shares/<share>/<directory>/<file>`` (see :mod:`batchai_compat._home`): the very
directories the local backend mounts into jobs, so what a notebook uploads a job reads, and what a
job writes a notebook downloads.

Deviations from the service, all documented in ``docs/storage.md``: metadata, content settings and
share quotas are not kept (accepted with a ``BatchAICompatWarning``); blob names that cannot be paths
(empty segments, ``.``/``..``) are refused with 400; a blob ``a`` and a blob ``a/b`` cannot coexist
(409); names are as case-sensitive as the local file system.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable, List, Optional, Tuple

from batchai_compat import _home
from batchai_compat.storage._errors import AzureHttpError, http_error
from batchai_compat.storage.models import (
    Blob,
    BlobPrefix,
    BlobProperties,
    Container,
    Directory,
    File,
    FileProperties,
    ResourceProperties,
    Share,
)

Progress = Optional[Callable[[int, Optional[int]], None]]
CHUNK = 4 * 1024 * 1024
_TMP_PREFIX = ".batchai-upload-"
PAGE_SIZE = 5000


# --------------------------------------------------------------------------------------------------
# Helpers shared by blobs and files
# --------------------------------------------------------------------------------------------------
def _warn_not_kept(what: str) -> None:
    from batchai_compat.exceptions import warn_compat

    warn_compat(f"local storage mode does not keep {what}; it was accepted and ignored")


def _etag(st: os.stat_result) -> str:
    return f'"0x{st.st_mtime_ns:X}{st.st_size:X}"'


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, tz=timezone.utc)


def _segments(name: str, kind: str, allow_empty: bool = False) -> List[str]:
    """``a/b/c`` as path segments; refuses what cannot be a path below the root."""
    if not name:
        if allow_empty:
            return []
        raise http_error(400, f"The {kind} name is empty.", "InvalidResourceName")
    parts = name.split("/")
    if ("\x00" in name or any(p in ("", ".", "..") for p in parts) or len(name) > 1024
            or any(len(p.encode("utf-8", "surrogatepass")) > 255 for p in parts)):  # a file name's limit
        raise http_error(400, f"The {kind} name {name!r} cannot be stored in local mode (empty, '.' or '..' "
                         "path segments, or too long).", "InvalidResourceName")
    return parts


def _resource_dir(getter: Callable[..., Path], account: str, name: str, kind: str, home: Any) -> Path:
    if name != name.lower():
        raise http_error(400, f"The specified {kind} name {name!r} contains invalid characters.",
                         "InvalidResourceName")
    try:
        return getter(account, name, home)
    except ValueError:
        raise http_error(400, f"The specified {kind} name {name!r} is not valid.", "InvalidResourceName") from None


def _inside(root: Path, path: Path) -> bool:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


class _LocalDownload:
    """An opened local file, read as the legacy downloads did (optional inclusive byte range)."""

    def __init__(self, fh: IO[bytes], size: int, start: Optional[int], end: Optional[int],
                 progress: Progress = None) -> None:
        self._fh = fh
        self._progress = progress
        self.size = size
        if start is None and end is not None:
            start = 0
        if start is not None and size and start >= size:
            fh.close()
            raise http_error(416, "The range specified is invalid for the current size of the resource.",
                             "InvalidRange")
        self.start = start or 0
        self.end = size - 1 if end is None or end >= size else end
        self.ranged = start is not None

    @property
    def length(self) -> int:
        return max(self.end - self.start + 1, 0)

    def readinto(self, stream: IO[bytes]) -> int:
        progress = self._progress
        with self._fh:
            self._fh.seek(self.start)
            done, total = 0, self.length
            while done < total:
                chunk = self._fh.read(min(CHUNK, total - done))
                if not chunk:
                    break
                stream.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            if progress and total == 0:
                progress(0, 0)
            return done


def _open_file(path: Path, root: Path, missing: Callable[[], AzureHttpError]) -> Tuple[IO[bytes], os.stat_result]:
    if not _inside(root, path):
        raise http_error(403, "The path resolves outside its container or share.", "AuthorizationFailure")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise missing() from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise missing()
    return os.fdopen(fd, "rb"), st


def _write_atomically(target: Path, root: Path, stream: IO[bytes], count: Optional[int], progress: Progress,
                      conflict: Callable[[], AzureHttpError]) -> os.stat_result:
    """Copy ``stream`` (``count`` bytes, or to EOF) into ``target`` via a temp file + rename, so a
    job reading the file never sees half of it."""
    parent = target.parent
    if not _inside(root, parent):
        raise http_error(403, "The path resolves outside its container or share.", "AuthorizationFailure")
    if target.is_dir():
        raise conflict()
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=parent)
    try:
        with os.fdopen(fd, "wb") as out:
            done = 0
            while count is None or done < count:
                chunk = stream.read(CHUNK if count is None else min(CHUNK, count - done))
                if not chunk:
                    break
                if isinstance(chunk, str):
                    chunk = chunk.encode("utf-8")
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, count)
            if progress and done == 0:
                progress(0, count)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target.stat()


def _make_parents(root: Path, parent: Path, conflict: Callable[[], AzureHttpError]) -> None:
    """``mkdir -p`` below ``root`` that checks each existing step first, so a symlink a job planted
    cannot make us create directories outside the container."""
    current = root
    for part in parent.relative_to(root).parts:
        current = current / part
        if os.path.lexists(current):
            if not _inside(root, current):
                raise http_error(403, "The path resolves outside its container or share.", "AuthorizationFailure")
            if not current.is_dir():
                raise conflict()
            continue
        try:
            current.mkdir()
        except FileExistsError:
            if not current.is_dir():
                raise conflict() from None


_umask_value: Optional[int] = None


def _umask() -> int:
    """The process umask, read once (``os.umask`` can only be read by setting it, which would race
    with other threads creating files, so do that at most once and prefer /proc)."""
    global _umask_value
    if _umask_value is None:
        try:
            with open("/proc/self/status") as fh:
                line = next(line for line in fh if line.startswith("Umask:"))
            _umask_value = int(line.split()[1], 8)
        except (OSError, StopIteration, ValueError, IndexError):
            mask = os.umask(0o022)
            os.umask(mask)
            _umask_value = mask
    return _umask_value


def _page(entries: List[Tuple[str, Any]], marker: Optional[str], max_results: Optional[int]
          ) -> Tuple[List[Any], Optional[str]]:
    """Entries (sorted by name) after ``marker``; the marker is the last name handed out."""
    if marker:
        entries = [e for e in entries if e[0] > marker]
    size = max_results or PAGE_SIZE
    page = entries[:size]
    next_marker = page[-1][0] if len(entries) > size else None
    return [item for _, item in page], next_marker


# --------------------------------------------------------------------------------------------------
# Blobs
# --------------------------------------------------------------------------------------------------
def _blob_not_found() -> AzureHttpError:
    return http_error(404, "The specified blob does not exist.", "BlobNotFound")


def _blob_props(st: os.stat_result, download: Optional[_LocalDownload] = None) -> BlobProperties:
    props = BlobProperties()
    props.blob_type = "BlockBlob"
    props.last_modified = _mtime(st)
    props.creation_time = _mtime(st)
    props.etag = _etag(st)
    props.content_length = st.st_size
    props.content_settings.content_type = "application/octet-stream"
    props.server_encrypted = False
    props.lease.status, props.lease.state = "unlocked", "available"
    if download is not None and download.ranged:
        props.content_length = download.length
        props.content_range = f"bytes {download.start}-{download.end}/{st.st_size}"
    return props


class LocalBlobs:
    def __init__(self, account: str, home: Any) -> None:
        self.account = account
        self.home = home

    def _container(self, name: str, must_exist: bool = True) -> Path:
        path = _resource_dir(_home.container_path, self.account, name, "container", self.home)
        if must_exist and not path.is_dir():
            raise http_error(404, "The specified container does not exist.", "ContainerNotFound")
        return path

    def _blob(self, container: str, blob: str) -> Tuple[Path, Path]:
        root = self._container(container)
        return root, root.joinpath(*_segments(blob, "blob"))

    # containers
    def create_container(self, name: str, metadata: Optional[dict], public_access: Optional[str]) -> None:
        path = self._container(name, must_exist=False)
        if metadata:
            _warn_not_kept("container metadata")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            raise http_error(409, "The specified container already exists.", "ContainerAlreadyExists") from None

    def delete_container(self, name: str) -> None:
        shutil.rmtree(self._container(name))

    def container_exists(self, name: str) -> bool:
        return self._container(name, must_exist=False).is_dir()

    def container(self, name: str) -> Container:
        st = self._container(name).stat()
        result = Container(name)
        result.properties.last_modified = _mtime(st)
        result.properties.etag = _etag(st)
        return result

    def list_containers_page(self, prefix: Optional[str], marker: Optional[str], max_results: Optional[int]):
        base = _home.storage_root(self.home) / self.account.lower() / "blobs"
        names = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        entries = [(n, n) for n in names if n.startswith(prefix or "")]
        names_page, next_marker = _page(entries, marker, max_results)
        return [self.container(n) for n in names_page], next_marker

    # blobs
    def blob_exists(self, container: str, blob: str) -> bool:
        try:
            root, path = self._blob(container, blob)
        except AzureHttpError as err:
            if err.status_code in (400, 404):
                return False
            raise
        return _inside(root, path) and path.is_file()

    def upload(self, container: str, blob: str, stream: IO[bytes], count: Optional[int], content_settings: Any,
               metadata: Optional[dict], progress: Progress, **_: Any) -> ResourceProperties:
        root, path = self._blob(container, blob)
        if metadata:
            _warn_not_kept("blob metadata")
        if content_settings is not None and any(vars(content_settings).values()):
            _warn_not_kept("blob content settings")
        conflict = lambda: http_error(  # noqa: E731
            409, f"Blob {blob!r} conflicts with an existing blob or virtual directory of that name, which "
            "local mode cannot store side by side.", "LocalPathConflict")
        _make_parents(root, path.parent, conflict)
        st = _write_atomically(path, root, stream, count, progress, conflict)
        return ResourceProperties(etag=_etag(st), last_modified=_mtime(st))

    def open_download(self, container: str, blob: str, start: Optional[int], end: Optional[int],
                      progress: Progress = None, **_: Any):
        root, path = self._blob(container, blob)
        fh, st = _open_file(path, root, _blob_not_found)
        download = _LocalDownload(fh, st.st_size, start, end, progress)
        download.properties = _blob_props(st, download)  # type: ignore[attr-defined]
        download.metadata = {}  # type: ignore[attr-defined]
        return download

    def blob(self, container: str, blob: str) -> Blob:
        root, path = self._blob(container, blob)
        fh, st = _open_file(path, root, _blob_not_found)
        fh.close()
        return Blob(blob, props=_blob_props(st), metadata={})

    def _all_blobs(self, root: Path, prefix: str) -> Iterable[Tuple[str, os.stat_result]]:
        # Walk only the part of the tree the prefix can match.
        start = root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else root
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            for filename in filenames:
                if filename.startswith(_TMP_PREFIX):
                    continue
                full = os.path.join(dirpath, filename)
                name = Path(os.path.relpath(full, root)).as_posix()
                if not name.startswith(prefix):
                    continue
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and _inside(root, Path(full)):
                    yield name, st

    def list_blobs_page(self, container: str, prefix: Optional[str], delimiter: Optional[str],
                        include: Any, marker: Optional[str], max_results: Optional[int]):
        root = self._container(container)
        if include is not None and any(n in ("snapshots", "uncommitted_blobs", "deleted")
                                       for n in getattr(include, "names", lambda: [])()):
            _warn_not_kept("snapshots, uncommitted blocks or soft-deleted blobs (include= is ignored)")
        prefix = prefix or ""
        entries: List[Tuple[str, Any]] = []
        seen_prefixes = set()
        for name, st in self._all_blobs(root, prefix):
            rest = name[len(prefix):]
            if delimiter and delimiter in rest:
                virtual = prefix + rest[: rest.index(delimiter) + len(delimiter)]
                if virtual not in seen_prefixes:
                    seen_prefixes.add(virtual)
                    entries.append((virtual, BlobPrefix(virtual)))
                continue
            entries.append((name, Blob(name, props=_blob_props(st), metadata={})))
        entries.sort(key=lambda e: e[0])
        items, next_marker = _page(entries, marker, max_results)
        # As the service (and the 2.x parser) did: a page lists its BlobPrefixes before its Blobs.
        items.sort(key=lambda item: not isinstance(item, BlobPrefix))
        return items, next_marker

    def path_of(self, container: str, blob: str) -> Path:
        return self._blob(container, blob)[1]

    def delete_blob(self, container: str, blob: str, snapshot: Optional[str], delete_snapshots: Any) -> None:
        root, path = self._blob(container, blob)
        if snapshot:
            raise _blob_not_found()  # local mode keeps no snapshots
        if not (_inside(root, path) and path.is_file()):
            raise _blob_not_found()
        path.unlink()


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------
def _file_props(st: os.stat_result, download: Optional[_LocalDownload] = None) -> FileProperties:
    props = FileProperties()
    props.last_modified = _mtime(st)
    props.etag = _etag(st)
    props.content_length = st.st_size
    props.content_settings.content_type = "application/octet-stream"
    props.server_encrypted = False
    if download is not None and download.ranged:
        props.content_length = download.length
        props.content_range = f"bytes {download.start}-{download.end}/{st.st_size}"
    return props


def _file_not_found() -> AzureHttpError:
    return http_error(404, "The specified resource does not exist.", "ResourceNotFound")


class LocalFiles:
    def __init__(self, account: str, home: Any) -> None:
        self.account = account
        self.home = home

    def _share(self, name: str, must_exist: bool = True) -> Path:
        path = _resource_dir(_home.share_path, self.account, name, "share", self.home)
        if must_exist and not path.is_dir():
            raise http_error(404, "The specified share does not exist.", "ShareNotFound")
        return path

    def _dir(self, share: str, directory: Optional[str]) -> Tuple[Path, Path]:
        root = self._share(share)
        return root, root.joinpath(*_segments((directory or "").strip("/"), "directory", allow_empty=True))

    def _file(self, share: str, directory: Optional[str], file_name: str) -> Tuple[Path, Path]:
        root, parent = self._dir(share, directory)
        parts = _segments(file_name, "file")
        if len(parts) != 1:
            raise http_error(400, f"The file name {file_name!r} contains a '/'; pass the directory as "
                             "directory_name.", "InvalidResourceName")
        return root, parent / parts[0]

    # shares
    def create_share(self, name: str, metadata: Optional[dict], quota: Optional[int]) -> None:
        path = self._share(name, must_exist=False)
        if metadata:
            _warn_not_kept("share metadata")
        if quota:
            _warn_not_kept("share quotas")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            raise http_error(409, "The specified share already exists.", "ShareAlreadyExists") from None

    def delete_share(self, name: str, snapshot: Optional[str], delete_snapshots: Any) -> None:
        path = self._share(name)
        if snapshot:
            raise http_error(404, "The specified share does not exist.", "ShareNotFound")
        shutil.rmtree(path)

    def share_exists(self, name: str) -> bool:
        return self._share(name, must_exist=False).is_dir()

    def share(self, name: str) -> Share:
        st = self._share(name).stat()
        result = Share(name)
        result.properties.last_modified = _mtime(st)
        result.properties.etag = _etag(st)
        return result

    def list_shares_page(self, prefix: Optional[str], marker: Optional[str], max_results: Optional[int]):
        base = _home.storage_root(self.home) / self.account.lower() / "shares"
        names = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        entries = [(n, n) for n in names if n.startswith(prefix or "")]
        names_page, next_marker = _page(entries, marker, max_results)
        return [self.share(n) for n in names_page], next_marker

    # directories
    def create_directory(self, share: str, directory: str, metadata: Optional[dict]) -> None:
        root, path = self._dir(share, directory)
        if path == root:
            raise http_error(400, "The directory name is empty.", "InvalidResourceName")
        if metadata:
            _warn_not_kept("directory metadata")
        if not (_inside(root, path.parent) and path.parent.is_dir()):
            raise http_error(404, "The specified parent path does not exist.", "ParentNotFound")
        try:
            path.mkdir()
        except FileExistsError:
            code = "ResourceAlreadyExists" if path.is_dir() else "ResourceTypeMismatch"
            raise http_error(409, "The specified resource already exists.", code) from None

    def delete_directory(self, share: str, directory: str) -> None:
        root, path = self._dir(share, directory)
        if path == root or not (_inside(root, path) and path.is_dir()) or path.is_symlink():
            raise _file_not_found()
        try:
            path.rmdir()
        except OSError:
            raise http_error(409, "The specified directory is not empty.", "DirectoryNotEmpty") from None

    def directory_exists(self, share: str, directory: str) -> bool:
        try:
            root, path = self._dir(share, directory)
        except AzureHttpError as err:
            if err.status_code in (400, 404):
                return False
            raise
        return _inside(root, path) and path.is_dir()

    def directory(self, share: str, directory: str) -> Directory:
        root, path = self._dir(share, directory)
        if not (_inside(root, path) and path.is_dir()):
            raise _file_not_found()
        st = path.stat()
        result = Directory(directory)
        result.properties.last_modified = _mtime(st)
        result.properties.etag = _etag(st)
        result.metadata = {}
        return result

    def list_page(self, share: str, directory: Optional[str], prefix: Optional[str], marker: Optional[str],
                  max_results: Optional[int]):
        root, path = self._dir(share, directory)
        if not (_inside(root, path) and path.is_dir()):
            raise _file_not_found()
        entries: List[Tuple[str, Any]] = []
        with os.scandir(path) as it:
            for entry in it:
                if entry.name.startswith(_TMP_PREFIX) or not entry.name.startswith(prefix or ""):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    entries.append((entry.name, Directory(entry.name)))
                elif stat.S_ISREG(st.st_mode):
                    item = File(entry.name)
                    item.properties.content_length = st.st_size
                    entries.append((entry.name, item))
        entries.sort(key=lambda e: e[0])
        return _page(entries, marker, max_results)

    # files
    def file_exists(self, share: str, directory: Optional[str], file_name: str) -> bool:
        try:
            root, path = self._file(share, directory, file_name)
        except AzureHttpError as err:
            if err.status_code in (400, 404):
                return False
            raise
        return _inside(root, path) and path.is_file()

    def upload(self, share: str, directory: Optional[str], file_name: str, stream: IO[bytes], count: Optional[int],
               content_settings: Any, metadata: Optional[dict], progress: Progress, **_: Any) -> None:
        root, path = self._file(share, directory, file_name)
        if metadata:
            _warn_not_kept("file metadata")
        if content_settings is not None and any(vars(content_settings).values()):
            _warn_not_kept("file content settings")
        if not (_inside(root, path.parent) and path.parent.is_dir()):
            raise http_error(404, "The specified parent path does not exist.", "ParentNotFound")
        conflict = lambda: http_error(  # noqa: E731
            409, "The specified resource type does not match the type of the existing resource.",
            "ResourceTypeMismatch")
        _write_atomically(path, root, stream, count, progress, conflict)

    def open_download(self, share: str, directory: Optional[str], file_name: str, start: Optional[int],
                      end: Optional[int], progress: Progress = None, **_: Any):
        root, path = self._file(share, directory, file_name)
        fh, st = _open_file(path, root, _file_not_found)
        download = _LocalDownload(fh, st.st_size, start, end, progress)
        download.properties = _file_props(st, download)  # type: ignore[attr-defined]
        download.metadata = {}  # type: ignore[attr-defined]
        return download

    def file(self, share: str, directory: Optional[str], file_name: str) -> File:
        root, path = self._file(share, directory, file_name)
        fh, st = _open_file(path, root, _file_not_found)
        fh.close()
        return File(file_name, props=_file_props(st), metadata={})

    def delete_file(self, share: str, directory: Optional[str], file_name: str) -> None:
        root, path = self._file(share, directory, file_name)
        if not (_inside(root, path) and path.is_file()):
            raise _file_not_found()
        path.unlink()

    def path_of(self, share: str, directory: Optional[str], file_name: str) -> Path:
        return self._file(share, directory, file_name)[1]

