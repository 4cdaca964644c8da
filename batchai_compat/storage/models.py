"""Result objects and option classes of the legacy azure-storage 2.x SDKs, by their old names.

Plain attribute bags, as the originals were: ``Blob``/``File``/``Directory`` with ``.name`` and
``.properties`` (``.properties.content_length`` for blobs and files), ``ContentSettings``, the
``*Permissions`` helpers used to build SAS tokens, and ``ListGenerator`` (what ``list_*`` return).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Optional, Tuple

__all__ = [
    "AccountPermissions", "Blob", "BlobPermissions", "BlobPrefix", "BlobProperties", "Container",
    "ContainerPermissions", "ContainerProperties", "ContentSettings", "CopyProperties", "DeleteSnapshot",
    "Directory", "DirectoryProperties", "File", "FilePermissions", "FileProperties", "Include",
    "LeaseProperties", "ListGenerator", "PublicAccess", "ResourceProperties", "ResourceTypes", "Share",
    "SharePermissions", "ShareProperties",
]


class _Bag:
    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if v is not None and k != "content")
        return f"{type(self).__name__}({fields})"


class ContentSettings(_Bag):
    def __init__(self, content_type: Optional[str] = None, content_encoding: Optional[str] = None,
                 content_language: Optional[str] = None, content_disposition: Optional[str] = None,
                 cache_control: Optional[str] = None, content_md5: Optional[str] = None) -> None:
        self.content_type = content_type
        self.content_encoding = content_encoding
        self.content_language = content_language
        self.content_disposition = content_disposition
        self.cache_control = cache_control
        self.content_md5 = content_md5


class LeaseProperties(_Bag):
    def __init__(self) -> None:
        self.status: Optional[str] = None
        self.state: Optional[str] = None
        self.duration: Optional[str] = None


class CopyProperties(_Bag):
    def __init__(self) -> None:
        self.id = self.source = self.status = self.progress = None
        self.completion_time = self.status_description = None


class ResourceProperties(_Bag):
    """What ``create_blob_from_*`` returns."""

    def __init__(self, etag: Optional[str] = None, last_modified: Any = None) -> None:
        self.last_modified = last_modified
        self.etag = etag
        self.request_server_encrypted: Optional[bool] = None


# -- blobs -----------------------------------------------------------------------------------------
class ContainerProperties(_Bag):
    def __init__(self) -> None:
        self.last_modified: Any = None
        self.etag: Optional[str] = None
        self.lease = LeaseProperties()
        self.public_access: Optional[str] = None
        self.has_immutability_policy: Optional[bool] = None
        self.has_legal_hold: Optional[bool] = None


class Container(_Bag):
    def __init__(self, name: Optional[str] = None, props: Optional[ContainerProperties] = None,
                 metadata: Optional[dict] = None) -> None:
        self.name = name
        self.properties = props or ContainerProperties()
        self.metadata = metadata


class BlobProperties(_Bag):
    def __init__(self) -> None:
        self.blob_type: Optional[str] = None
        self.last_modified: Any = None
        self.etag: Optional[str] = None
        self.content_length: Optional[int] = None
        self.content_range: Optional[str] = None
        self.append_blob_committed_block_count = None
        self.page_blob_sequence_number = None
        self.server_encrypted: Optional[bool] = None
        self.copy = CopyProperties()
        self.content_settings = ContentSettings()
        self.lease = LeaseProperties()
        self.blob_tier: Optional[str] = None
        self.blob_tier_change_time = None
        self.blob_tier_inferred = False
        self.deleted_time = None
        self.remaining_retention_days = None
        self.creation_time: Any = None


class Blob(_Bag):
    """A blob; ``content`` is set by ``get_blob_to_bytes``/``_text`` only."""

    def __init__(self, name: Optional[str] = None, snapshot: Optional[str] = None, content: Any = None,
                 props: Optional[BlobProperties] = None, metadata: Optional[dict] = None,
                 deleted: bool = False) -> None:
        self.name = name
        self.snapshot = snapshot
        self.content = content
        self.properties = props or BlobProperties()
        self.metadata = metadata
        self.deleted = deleted


class BlobPrefix(_Bag):
    """A virtual directory in a ``list_blobs(delimiter=...)`` listing."""

    def __init__(self, name: Optional[str] = None) -> None:
        self.name = name


class PublicAccess:
    OFF = "off"
    Blob = "blob"
    Container = "container"


class DeleteSnapshot:
    Include = "include"
    Only = "only"


class Include:
    """Which extra details ``list_blobs`` should return (``Include.METADATA``, ``Include('metadata')``)."""

    _FIELDS = ("snapshots", "metadata", "uncommitted_blobs", "copy", "deleted")
    _WIRE = {"uncommitted_blobs": "uncommittedblobs"}

    def __init__(self, snapshots: bool = False, metadata: bool = False, uncommitted_blobs: bool = False,
                 copy: bool = False, deleted: bool = False, _str: Optional[str] = None) -> None:
        words = set((_str or "").split(","))
        self.snapshots = snapshots or "snapshots" in words
        self.metadata = metadata or "metadata" in words
        self.uncommitted_blobs = uncommitted_blobs or "uncommittedblobs" in words
        self.copy = copy or "copy" in words
        self.deleted = deleted or "deleted" in words

    def __add__(self, other: "Include") -> "Include":
        return Include(_str=f"{self},{other}")

    def __or__(self, other: "Include") -> "Include":
        return self + other

    def __str__(self) -> str:
        return ",".join(self._WIRE.get(f, f) for f in self._FIELDS if getattr(self, f))

    def names(self) -> List[str]:
        return [f for f in self._FIELDS if getattr(self, f)]


Include.SNAPSHOTS = Include(snapshots=True)  # type: ignore[attr-defined]
Include.METADATA = Include(metadata=True)  # type: ignore[attr-defined]
Include.UNCOMMITTED_BLOBS = Include(uncommitted_blobs=True)  # type: ignore[attr-defined]
Include.COPY = Include(copy=True)  # type: ignore[attr-defined]
Include.DELETED = Include(deleted=True)  # type: ignore[attr-defined]


# -- files -----------------------------------------------------------------------------------------
class ShareProperties(_Bag):
    def __init__(self) -> None:
        self.last_modified: Any = None
        self.etag: Optional[str] = None
        self.quota: Optional[int] = None


class Share(_Bag):
    def __init__(self, name: Optional[str] = None, props: Optional[ShareProperties] = None,
                 metadata: Optional[dict] = None, snapshot: Optional[str] = None) -> None:
        self.name = name
        self.properties = props or ShareProperties()
        self.metadata = metadata
        self.snapshot = snapshot


class DirectoryProperties(_Bag):
    def __init__(self) -> None:
        self.last_modified: Any = None
        self.etag: Optional[str] = None
        self.server_encrypted: Optional[bool] = None


class Directory(_Bag):
    def __init__(self, name: Optional[str] = None, props: Optional[DirectoryProperties] = None,
                 metadata: Optional[dict] = None) -> None:
        self.name = name
        self.properties = props or DirectoryProperties()
        self.metadata = metadata


class FileProperties(_Bag):
    def __init__(self) -> None:
        self.last_modified: Any = None
        self.etag: Optional[str] = None
        self.content_length: Optional[int] = None
        self.content_range: Optional[str] = None
        self.content_settings = ContentSettings()
        self.copy = CopyProperties()
        self.server_encrypted: Optional[bool] = None
        self.lease = LeaseProperties()


class File(_Bag):
    """A file; ``content`` is set by ``get_file_to_bytes``/``_text`` only."""

    def __init__(self, name: Optional[str] = None, content: Any = None, props: Optional[FileProperties] = None,
                 metadata: Optional[dict] = None) -> None:
        self.name = name
        self.content = content
        self.properties = props or FileProperties()
        self.metadata = metadata


# -- SAS permissions -------------------------------------------------------------------------------
class _Permissions:
    """Letters in the order the service expects; ``+`` combines, ``str()`` gives the ``sp`` value."""

    _LETTERS: Tuple[Tuple[str, str], ...] = ()

    def __init__(self, _str: Optional[str] = None, **flags: bool) -> None:
        unknown = set(flags) - {name for name, _ in self._LETTERS}
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected flags {sorted(unknown)}")
        text = _str or ""
        for name, letter in self._LETTERS:
            setattr(self, name, bool(flags.get(name)) or letter in text)

    def __add__(self, other: "_Permissions") -> "_Permissions":
        return type(self)(_str=str(self) + str(other))

    def __or__(self, other: "_Permissions") -> "_Permissions":
        return self + other

    def __str__(self) -> str:
        return "".join(letter for name, letter in self._LETTERS if getattr(self, name))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


def _constants(cls: type) -> type:
    for name, _letter in cls._LETTERS:  # type: ignore[attr-defined]
        setattr(cls, name.upper(), cls(**{name: True}))
    return cls


@_constants
class BlobPermissions(_Permissions):
    _LETTERS = (("read", "r"), ("add", "a"), ("create", "c"), ("write", "w"), ("delete", "d"))


@_constants
class ContainerPermissions(_Permissions):
    _LETTERS = (("read", "r"), ("add", "a"), ("create", "c"), ("write", "w"), ("delete", "d"), ("list", "l"))


@_constants
class FilePermissions(_Permissions):
    _LETTERS = (("read", "r"), ("create", "c"), ("write", "w"), ("delete", "d"))


@_constants
class SharePermissions(_Permissions):
    _LETTERS = (("read", "r"), ("create", "c"), ("write", "w"), ("delete", "d"), ("list", "l"))


@_constants
class AccountPermissions(_Permissions):
    _LETTERS = (("read", "r"), ("write", "w"), ("delete", "d"), ("list", "l"), ("add", "a"), ("create", "c"),
                ("update", "u"), ("process", "p"))


@_constants
class ResourceTypes(_Permissions):
    _LETTERS = (("service", "s"), ("container", "c"), ("object", "o"))


# -- listing ---------------------------------------------------------------------------------------
PageFetcher = Callable[[Optional[str], Optional[int]], Tuple[List[Any], Optional[str]]]


class ListGenerator:
    """What ``list_blobs``/``list_directories_and_files``/... return: an iterable of results.

    As in 2.x, the first page is fetched by the ``list_*`` call itself (so a missing container
    raises there), later pages lazily while iterating. With ``num_results`` at most that many
    items are yielded and ``next_marker`` is the token for a following call's ``marker=``.
    """

    def __init__(self, fetch: PageFetcher, num_results: Optional[int] = None, marker: Optional[str] = None):
        self._fetch = fetch
        self._num_results = num_results
        self.items, self.next_marker = fetch(marker, num_results)

    def __iter__(self) -> Iterator[Any]:
        items, marker = list(self.items), self.next_marker
        yielded = 0
        while True:
            for item in items:
                yield item
                yielded += 1
            if not marker:
                return
            if self._num_results is not None:
                remaining = self._num_results - yielded
                if remaining <= 0:
                    return
                items, marker = self._fetch(marker, remaining)
                self.next_marker = marker
            else:
                items, marker = self._fetch(marker, None)
