"""Remote mode: the legacy calls delegated to ``azure-storage-blob`` 12 / ``azure-storage-file-share`` 12.

Imported only when a service object is constructed in remote mode, so ``import batchai_compat`` and
``import batchai_compat.storage`` never load the v12 SDKs. Every v12 error is turned into the legacy
exception in one place, :func:`_translated`.
"""

from __future__ import annotations

import contextlib
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Tuple

from batchai_compat.storage._config import StorageConfig
from batchai_compat.storage._errors import AzureException, AzureHttpError
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


def _require(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"remote storage mode needs {package}: pip install 'batchai-compat[storage]' "
            f"(or set BATCHAI_COMPAT_STORAGE=local to use the local storage root)"
        ) from exc


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """v12 / azure-core errors as the legacy ``AzureHttpError`` family (or ``AzureException``)."""
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        yield
    except HttpResponseError as err:
        status = err.status_code or getattr(getattr(err, "response", None), "status_code", None) or 0
        first_line = (err.message or str(err)).splitlines()[0] if (err.message or str(err)) else ""
        code = getattr(err, "error_code", None) or "Unknown"
        code = getattr(code, "value", code)  # v12 hands out StorageErrorCode enum members for known codes
        raise AzureHttpError(f"{first_line} ErrorCode: {code}", status) from None
    except AzureError as err:
        raise AzureException(str(err)) from None


def _credential(config: StorageConfig) -> Any:
    if config.account_key:
        return {"account_name": config.account_name, "account_key": config.account_key}
    if config.sas_token:
        return config.sas_token
    if config.token_credential is not None:
        from batchai_compat.credentials import as_token_credential

        return as_token_credential(config.token_credential)
    return None


def _content_settings(settings: Any, cls: Any) -> Any:
    if settings is None:
        return None
    names = ("content_type", "content_encoding", "content_language", "content_disposition", "cache_control",
             "content_md5")
    return cls(**{n: getattr(settings, n, None) for n in names if getattr(settings, n, None) is not None})


def _copy_common(target: Any, source: Any) -> None:
    target.last_modified = getattr(source, "last_modified", None)
    target.etag = getattr(source, "etag", None)
    target.content_length = getattr(source, "size", None)
    target.content_range = getattr(source, "content_range", None)
    target.server_encrypted = getattr(source, "server_encrypted", None)
    settings = getattr(source, "content_settings", None)
    if settings is not None:
        for name in vars(target.content_settings):
            setattr(target.content_settings, name, getattr(settings, name, None))
    lease = getattr(source, "lease", None)
    if lease is not None:
        for name in ("status", "state", "duration"):
            setattr(target.lease, name, getattr(lease, name, None))


def _blob_props(v12: Any) -> BlobProperties:
    props = BlobProperties()
    _copy_common(props, v12)
    blob_type = getattr(v12, "blob_type", None)
    props.blob_type = getattr(blob_type, "value", blob_type)
    props.creation_time = getattr(v12, "creation_time", None)
    tier = getattr(v12, "blob_tier", None)
    props.blob_tier = getattr(tier, "value", tier)
    return props


def _file_props(v12: Any) -> FileProperties:
    props = FileProperties()
    _copy_common(props, v12)
    return props


def _first_page(paged: Any, marker: Optional[str]) -> Tuple[List[Any], Optional[str]]:
    pages = paged.by_page(continuation_token=marker)
    try:
        items = list(next(pages))
    except StopIteration:
        return [], None
    return items, pages.continuation_token or None


class _Download:
    def __init__(self, downloader: Any, properties: Any, metadata: Optional[Dict[str, str]]) -> None:
        self._downloader = downloader
        self.properties = properties
        self.metadata = metadata

    def readinto(self, stream: IO[bytes]) -> int:
        with _translated():
            return int(self._downloader.readinto(stream))


def _range(start: Optional[int], end: Optional[int]) -> Dict[str, Optional[int]]:
    if start is None and end is None:
        return {"offset": None, "length": None}
    start = start or 0
    return {"offset": start, "length": None if end is None else end - start + 1}


# --------------------------------------------------------------------------------------------------
# Blobs
# --------------------------------------------------------------------------------------------------
class RemoteBlobs:
    def __init__(self, config: StorageConfig) -> None:
        self._v12 = _require("azure.storage.blob", "azure-storage-blob>=12.10")
        self.config = config
        self.client = self._v12.BlobServiceClient(account_url=config.primary_endpoint,
                                                  credential=_credential(config))

    def _container(self, name: str) -> Any:
        return self.client.get_container_client(name)

    def create_container(self, name: str, metadata: Optional[dict], public_access: Optional[str]) -> None:
        with _translated():
            self._container(name).create_container(metadata=metadata, public_access=public_access or None)

    def delete_container(self, name: str) -> None:
        with _translated():
            self._container(name).delete_container()

    def container_exists(self, name: str) -> bool:
        return self._exists(self._container(name).get_container_properties)

    def container(self, name: str) -> Container:
        with _translated():
            v12 = self._container(name).get_container_properties()
        return self._container_result(v12)

    @staticmethod
    def _container_result(v12: Any) -> Container:
        result = Container(v12.name, metadata=dict(v12.metadata or {}))
        result.properties.last_modified = v12.last_modified
        result.properties.etag = v12.etag
        result.properties.public_access = getattr(v12, "public_access", None)
        return result

    def list_containers_page(self, prefix: Optional[str], marker: Optional[str], max_results: Optional[int]):
        with _translated():
            items, next_marker = _first_page(
                self.client.list_containers(name_starts_with=prefix, include_metadata=True,
                                            results_per_page=max_results), marker)
        return [self._container_result(c) for c in items], next_marker

    @staticmethod
    def _exists(probe: Callable[[], Any]) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        with _translated():
            try:
                probe()
            except ResourceNotFoundError:
                return False
        return True

    def blob_exists(self, container: str, blob: str, snapshot: Optional[str] = None) -> bool:
        return self._exists(self.client.get_blob_client(container, blob, snapshot=snapshot).get_blob_properties)

    def upload(self, container: str, blob: str, stream: IO[bytes], count: Optional[int], content_settings: Any,
               metadata: Optional[dict], progress: Progress, max_connections: int = 2,
               validate_content: bool = False, **_: Any) -> ResourceProperties:
        kwargs: Dict[str, Any] = {"overwrite": True, "metadata": metadata, "validate_content": validate_content,
                                  "max_concurrency": max_connections or 1}
        if count is not None:
            kwargs["length"] = count
        if content_settings is not None:
            kwargs["content_settings"] = _content_settings(content_settings, self._v12.ContentSettings)
        if progress is not None:
            kwargs["progress_hook"] = progress
        with _translated():
            answer = self.client.get_blob_client(container, blob).upload_blob(stream, **kwargs)
        result = ResourceProperties(etag=answer.get("etag"), last_modified=answer.get("last_modified"))
        result.request_server_encrypted = answer.get("request_server_encrypted")
        return result

    def open_download(self, container: str, blob: str, start: Optional[int], end: Optional[int],
                      snapshot: Optional[str] = None, max_connections: int = 2, validate_content: bool = False,
                      progress: Progress = None, **_: Any) -> _Download:
        client = self.client.get_blob_client(container, blob, snapshot=snapshot)
        kwargs: Dict[str, Any] = dict(_range(start, end), max_concurrency=max_connections or 1,
                                      validate_content=validate_content)
        if progress is not None:
            kwargs["progress_hook"] = progress
        with _translated():
            downloader = client.download_blob(**kwargs)
        props = _blob_props(downloader.properties)
        props.content_length = downloader.size
        return _Download(downloader, props, dict(downloader.properties.metadata or {}))

    def blob(self, container: str, blob: str, snapshot: Optional[str] = None) -> Blob:
        with _translated():
            v12 = self.client.get_blob_client(container, blob, snapshot=snapshot).get_blob_properties()
        return Blob(blob, snapshot=snapshot, props=_blob_props(v12), metadata=dict(v12.metadata or {}))

    def list_blobs_page(self, container: str, prefix: Optional[str], delimiter: Optional[str],
                        include: Any, marker: Optional[str], max_results: Optional[int]):
        client = self._container(container)
        wire_include = [w for w in str(include).split(",") if w] if include else None
        with _translated():
            if delimiter:
                paged = client.walk_blobs(name_starts_with=prefix, include=wire_include, delimiter=delimiter,
                                          results_per_page=max_results)
            else:
                paged = client.list_blobs(name_starts_with=prefix, include=wire_include,
                                          results_per_page=max_results)
            items, next_marker = _first_page(paged, marker)
        results: List[Any] = []
        for item in items:
            if isinstance(item, self._v12.BlobPrefix):
                results.append(BlobPrefix(item.name))
            else:
                results.append(Blob(item.name, snapshot=item.snapshot, props=_blob_props(item),
                                    metadata=dict(item.metadata) if item.metadata else None,
                                    deleted=bool(getattr(item, "deleted", False))))
        return results, next_marker

    def delete_blob(self, container: str, blob: str, snapshot: Optional[str], delete_snapshots: Any) -> None:
        with _translated():
            self.client.get_blob_client(container, blob, snapshot=snapshot).delete_blob(
                delete_snapshots=delete_snapshots)

    # SAS
    def _key(self) -> str:
        if not self.config.account_key:
            raise ValueError("Generating a shared access signature needs the account key "
                             "(construct the service with account_key= or a connection string with AccountKey=).")
        return self.config.account_key

    def container_sas(self, container: str, **kw: Any) -> str:
        return self._v12.generate_container_sas(self.config.account_name, container, account_key=self._key(), **kw)

    def blob_sas(self, container: str, blob: str, snapshot: Optional[str], **kw: Any) -> str:
        return self._v12.generate_blob_sas(self.config.account_name, container, blob, snapshot=snapshot,
                                           account_key=self._key(), **kw)

    def account_sas(self, resource_types: Any, permission: Any, expiry: Any, start: Any, ip: Any,
                    protocol: Any) -> str:
        return self._v12.generate_account_sas(self.config.account_name, self._key(), str(resource_types),
                                              str(permission), expiry, start=start, ip=ip, protocol=protocol,
                                              services="b")


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------
def _path(directory: Optional[str], file_name: Optional[str] = None) -> str:
    parts = [p for p in (directory or "").strip("/").split("/") if p]
    if file_name:
        parts.append(file_name)
    return "/".join(parts)


class RemoteFiles:
    def __init__(self, config: StorageConfig) -> None:
        self._v12 = _require("azure.storage.fileshare", "azure-storage-file-share>=12.10")
        self.config = config
        credential = _credential(config)
        extra = {"token_intent": "backup"} if config.token_credential is not None and not (
            config.account_key or config.sas_token) else {}
        self.client = self._v12.ShareServiceClient(account_url=config.primary_endpoint, credential=credential,
                                                   **extra)

    def _share(self, name: str, snapshot: Optional[str] = None) -> Any:
        return self.client.get_share_client(name, snapshot=snapshot)

    def create_share(self, name: str, metadata: Optional[dict], quota: Optional[int]) -> None:
        with _translated():
            self._share(name).create_share(metadata=metadata, quota=quota)

    def delete_share(self, name: str, snapshot: Optional[str], delete_snapshots: Any) -> None:
        with _translated():
            self._share(name, snapshot).delete_share(delete_snapshots=bool(delete_snapshots))

    def share_exists(self, name: str, snapshot: Optional[str] = None) -> bool:
        return RemoteBlobs._exists(self._share(name, snapshot).get_share_properties)

    def share(self, name: str) -> Share:
        with _translated():
            v12 = self._share(name).get_share_properties()
        return self._share_result(v12)

    @staticmethod
    def _share_result(v12: Any) -> Share:
        result = Share(v12.name, metadata=dict(v12.metadata or {}), snapshot=getattr(v12, "snapshot", None))
        result.properties.last_modified = v12.last_modified
        result.properties.etag = v12.etag
        result.properties.quota = getattr(v12, "quota", None)
        return result

    def list_shares_page(self, prefix: Optional[str], marker: Optional[str], max_results: Optional[int]):
        with _translated():
            items, next_marker = _first_page(
                self.client.list_shares(name_starts_with=prefix, include_metadata=True,
                                        results_per_page=max_results), marker)
        return [self._share_result(s) for s in items], next_marker

    def create_directory(self, share: str, directory: str, metadata: Optional[dict]) -> None:
        with _translated():
            self._share(share).get_directory_client(_path(directory)).create_directory(metadata=metadata)

    def delete_directory(self, share: str, directory: str) -> None:
        with _translated():
            self._share(share).get_directory_client(_path(directory)).delete_directory()

    def directory_exists(self, share: str, directory: str) -> bool:
        client = self._share(share).get_directory_client(_path(directory))
        return RemoteBlobs._exists(client.get_directory_properties)

    def directory(self, share: str, directory: str) -> Directory:
        with _translated():
            v12 = self._share(share).get_directory_client(_path(directory)).get_directory_properties()
        result = Directory(directory, metadata=dict(v12.metadata or {}))
        result.properties.last_modified = v12.last_modified
        result.properties.etag = v12.etag
        result.properties.server_encrypted = getattr(v12, "server_encrypted", None)
        return result

    def list_page(self, share: str, directory: Optional[str], prefix: Optional[str], marker: Optional[str],
                  max_results: Optional[int]):
        client = self._share(share).get_directory_client(_path(directory))
        with _translated():
            items, next_marker = _first_page(
                client.list_directories_and_files(name_starts_with=prefix, results_per_page=max_results), marker)
        results: List[Any] = []
        for item in items:
            if item.get("is_directory") if hasattr(item, "get") else getattr(item, "is_directory", False):
                results.append(Directory(item["name"]))
            else:
                entry = File(item["name"])
                entry.properties.content_length = item.get("size")
                results.append(entry)
        return results, next_marker

    def file_exists(self, share: str, directory: Optional[str], file_name: str,
                    snapshot: Optional[str] = None) -> bool:
        client = self._share(share, snapshot).get_file_client(_path(directory, file_name))
        return RemoteBlobs._exists(client.get_file_properties)

    def upload(self, share: str, directory: Optional[str], file_name: str, stream: IO[bytes], count: Optional[int],
               content_settings: Any, metadata: Optional[dict], progress: Progress, max_connections: int = 2,
               validate_content: bool = False, **_: Any) -> None:
        kwargs: Dict[str, Any] = {"metadata": metadata, "validate_content": validate_content,
                                  "max_concurrency": max_connections or 1}
        if count is not None:
            kwargs["length"] = count
        if content_settings is not None:
            kwargs["content_settings"] = _content_settings(content_settings, self._v12.ContentSettings)
        if progress is not None:
            kwargs["progress_hook"] = progress
        with _translated():
            self._share(share).get_file_client(_path(directory, file_name)).upload_file(stream, **kwargs)

    def open_download(self, share: str, directory: Optional[str], file_name: str, start: Optional[int],
                      end: Optional[int], snapshot: Optional[str] = None, max_connections: int = 2,
                      validate_content: bool = False, progress: Progress = None, **_: Any) -> _Download:
        client = self._share(share, snapshot).get_file_client(_path(directory, file_name))
        kwargs: Dict[str, Any] = dict(_range(start, end), max_concurrency=max_connections or 1,
                                      validate_content=validate_content)
        if progress is not None:
            kwargs["progress_hook"] = progress
        with _translated():
            downloader = client.download_file(**kwargs)
        props = _file_props(downloader.properties)
        props.content_length = downloader.size
        return _Download(downloader, props, dict(downloader.properties.metadata or {}))

    def file(self, share: str, directory: Optional[str], file_name: str, snapshot: Optional[str] = None) -> File:
        with _translated():
            v12 = self._share(share, snapshot).get_file_client(_path(directory, file_name)).get_file_properties()
        return File(file_name, props=_file_props(v12), metadata=dict(v12.metadata or {}))

    def delete_file(self, share: str, directory: Optional[str], file_name: str) -> None:
        with _translated():
            self._share(share).get_file_client(_path(directory, file_name)).delete_file()

    # SAS
    def _key(self) -> str:
        return RemoteBlobs._key(self)  # type: ignore[arg-type]

    def share_sas(self, share: str, **kw: Any) -> str:
        return self._v12.generate_share_sas(self.config.account_name, share, account_key=self._key(), **kw)

    def file_sas(self, share: str, directory: Optional[str], file_name: str, **kw: Any) -> str:
        path = [p for p in _path(directory, file_name).split("/") if p]
        return self._v12.generate_file_sas(self.config.account_name, share, path, account_key=self._key(), **kw)

    def account_sas(self, resource_types: Any, permission: Any, expiry: Any, start: Any, ip: Any,
                    protocol: Any) -> str:
        return self._v12.generate_account_sas(self.config.account_name, self._key(), str(resource_types),
                                              str(permission), expiry, start=start, ip=ip, protocol=protocol)
