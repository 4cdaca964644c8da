"""``BlockBlobService``: the azure-storage-blob 2.x client, by its old names, in local or remote mode."""

from __future__ import annotations

import io
from typing import IO, Any, Iterator, Optional
from urllib.parse import quote

from batchai_compat.storage import _config
from batchai_compat.storage._errors import AzureConflictHttpError, AzureMissingResourceHttpError
from batchai_compat.storage._service import (
    _StorageService,
    bytes_stream,
    file_size,
    ignored,
    local_sas_headers,
    sas_headers,
    sas_kwargs,
    text_stream,
)
from batchai_compat.storage.models import Blob, Container, ListGenerator, ResourceProperties

__all__ = ["BlockBlobService"]

Progress = Optional[Any]


class BlockBlobService(_StorageService):
    """Block blobs, as ``azure.storage.blob.BlockBlobService`` (azure-storage-blob 1.x/2.x) offered them.

    Constructed exactly as the original. Two batchai_compat keyword-only extensions: ``mode``
    (``"local"``/``"remote"``, default from ``BATCHAI_COMPAT_STORAGE`` or the endpoint rule in
    ``docs/storage.md``) and ``home`` (the local storage root's home, default ``BATCHAI_COMPAT_HOME``).
    ``request_session`` and ``socket_timeout`` are accepted and ignored (v12 manages its transport).
    """

    _service = "blob"

    def __init__(self, account_name: Optional[str] = None, account_key: Optional[str] = None,
                 sas_token: Optional[str] = None, is_emulated: bool = False, protocol: str = _config.DEFAULT_PROTOCOL,
                 endpoint_suffix: str = _config.SERVICE_HOST_BASE, custom_domain: Optional[str] = None,
                 request_session: Any = None, connection_string: Optional[str] = None,
                 socket_timeout: Any = None, token_credential: Any = None, *, mode: Optional[str] = None,
                 home: Any = None) -> None:
        super().__init__(account_name=account_name, account_key=account_key, sas_token=sas_token,
                         is_emulated=is_emulated, protocol=protocol, endpoint_suffix=endpoint_suffix,
                         custom_domain=custom_domain, connection_string=connection_string,
                         token_credential=token_credential, mode=mode, home=home)

    def _local(self) -> Any:
        from batchai_compat.storage._local import LocalBlobs

        return LocalBlobs(self._config.account_name or "", self._config.home)

    def _remote(self) -> Any:
        from batchai_compat.storage._remote import RemoteBlobs

        return RemoteBlobs(self._config)

    # -- containers --------------------------------------------------------------------------------
    def create_container(self, container_name: str, metadata: Optional[dict] = None, public_access: Any = None,
                         fail_on_exist: bool = False, timeout: Any = None) -> bool:
        """True if created; False if it already existed (``fail_on_exist=True``: raise instead)."""
        try:
            self._impl.create_container(container_name, metadata, public_access)
        except AzureConflictHttpError:
            if fail_on_exist:
                raise
            return False
        return True

    def delete_container(self, container_name: str, fail_not_exist: bool = False, lease_id: Any = None,
                         if_modified_since: Any = None, if_unmodified_since: Any = None, timeout: Any = None) -> bool:
        """True if deleted; False if it did not exist (``fail_not_exist=True``: raise instead)."""
        ignored(lease_id=lease_id, if_modified_since=if_modified_since, if_unmodified_since=if_unmodified_since)
        try:
            self._impl.delete_container(container_name)
        except AzureMissingResourceHttpError:
            if fail_not_exist:
                raise
            return False
        return True

    def get_container_properties(self, container_name: str, lease_id: Any = None, timeout: Any = None) -> Container:
        ignored(lease_id=lease_id)
        return self._impl.container(container_name)

    def list_containers(self, prefix: Optional[str] = None, num_results: Optional[int] = None,
                        include_metadata: bool = False, marker: Optional[str] = None,
                        timeout: Any = None) -> ListGenerator:
        return ListGenerator(lambda m, n: self._impl.list_containers_page(prefix, m, n), num_results, marker)

    def exists(self, container_name: str, blob_name: Optional[str] = None, snapshot: Optional[str] = None,
               timeout: Any = None) -> bool:
        """Whether the container (or, with ``blob_name``, the blob) exists."""
        if blob_name is None:
            return bool(self._impl.container_exists(container_name))
        if not snapshot:
            return bool(self._impl.blob_exists(container_name, blob_name))
        # Local mode keeps no snapshots.
        return self.mode == "remote" and bool(self._impl.blob_exists(container_name, blob_name, snapshot))

    # -- upload ------------------------------------------------------------------------------------
    def _upload(self, container_name: str, blob_name: str, stream: IO[bytes], count: Optional[int],
                content_settings: Any, metadata: Optional[dict], validate_content: bool, progress_callback: Progress,
                max_connections: int, **conditions: Any) -> ResourceProperties:
        ignored(**conditions)
        return self._impl.upload(container_name, blob_name, stream, count, content_settings, metadata,
                                 progress_callback, max_connections=max_connections,
                                 validate_content=validate_content)

    def create_blob_from_path(self, container_name: str, blob_name: str, file_path: str,
                              content_settings: Any = None, metadata: Optional[dict] = None,
                              validate_content: bool = False, progress_callback: Progress = None,
                              max_connections: int = 2, lease_id: Any = None, if_modified_since: Any = None,
                              if_unmodified_since: Any = None, if_match: Any = None, if_none_match: Any = None,
                              timeout: Any = None, standard_blob_tier: Any = None, cpk: Any = None
                              ) -> ResourceProperties:
        """Upload a local file; ``progress_callback(current, total)`` is called as bytes go out."""
        count = file_size(file_path)
        with open(file_path, "rb") as stream:
            return self._upload(container_name, blob_name, stream, count, content_settings, metadata,
                                validate_content, progress_callback, max_connections,
                                lease_id=lease_id, if_modified_since=if_modified_since,
                                if_unmodified_since=if_unmodified_since, if_match=if_match, if_none_match=if_none_match,
                                standard_blob_tier=standard_blob_tier, cpk=cpk)

    def create_blob_from_stream(self, container_name: str, blob_name: str, stream: IO[bytes],
                                count: Optional[int] = None, content_settings: Any = None,
                                metadata: Optional[dict] = None, validate_content: bool = False,
                                progress_callback: Progress = None, max_connections: int = 2, lease_id: Any = None,
                                if_modified_since: Any = None, if_unmodified_since: Any = None,
                                if_match: Any = None, if_none_match: Any = None, timeout: Any = None,
                                use_byte_buffer: bool = False, standard_blob_tier: Any = None,
                                cpk: Any = None) -> ResourceProperties:
        """Upload ``count`` bytes (or everything up to EOF) read from ``stream``."""
        return self._upload(container_name, blob_name, stream, count, content_settings, metadata,
                            validate_content, progress_callback, max_connections,
                            lease_id=lease_id, if_modified_since=if_modified_since,
                            if_unmodified_since=if_unmodified_since, if_match=if_match, if_none_match=if_none_match,
                            standard_blob_tier=standard_blob_tier, cpk=cpk)

    def create_blob_from_bytes(self, container_name: str, blob_name: str, blob: bytes, index: int = 0,
                               count: Optional[int] = None, content_settings: Any = None,
                               metadata: Optional[dict] = None, validate_content: bool = False,
                               progress_callback: Progress = None, max_connections: int = 2, lease_id: Any = None,
                               if_modified_since: Any = None, if_unmodified_since: Any = None,
                               if_match: Any = None, if_none_match: Any = None, timeout: Any = None,
                               standard_blob_tier: Any = None, cpk: Any = None) -> ResourceProperties:
        """Upload ``blob[index:index + count]``."""
        stream, count = bytes_stream(blob, index, count)
        return self._upload(container_name, blob_name, stream, count, content_settings, metadata,
                            validate_content, progress_callback, max_connections,
                            lease_id=lease_id, if_modified_since=if_modified_since,
                            if_unmodified_since=if_unmodified_since, if_match=if_match, if_none_match=if_none_match,
                            standard_blob_tier=standard_blob_tier, cpk=cpk)

    def create_blob_from_text(self, container_name: str, blob_name: str, text: str, encoding: str = "utf-8",
                              content_settings: Any = None, metadata: Optional[dict] = None,
                              validate_content: bool = False, progress_callback: Progress = None,
                              max_connections: int = 2, lease_id: Any = None, if_modified_since: Any = None,
                              if_unmodified_since: Any = None, if_match: Any = None, if_none_match: Any = None,
                              timeout: Any = None, standard_blob_tier: Any = None, cpk: Any = None
                              ) -> ResourceProperties:
        """Upload ``text`` encoded with ``encoding``."""
        stream, count = text_stream(text, encoding)
        return self._upload(container_name, blob_name, stream, count, content_settings, metadata,
                            validate_content, progress_callback, max_connections,
                            lease_id=lease_id, if_modified_since=if_modified_since,
                            if_unmodified_since=if_unmodified_since, if_match=if_match, if_none_match=if_none_match,
                            standard_blob_tier=standard_blob_tier, cpk=cpk)

    # -- download ----------------------------------------------------------------------------------
    def get_blob_to_stream(self, container_name: str, blob_name: str, stream: IO[bytes],
                           snapshot: Optional[str] = None, start_range: Optional[int] = None,
                           end_range: Optional[int] = None, validate_content: bool = False,
                           progress_callback: Progress = None, max_connections: int = 2, lease_id: Any = None,
                           if_modified_since: Any = None, if_unmodified_since: Any = None, if_match: Any = None,
                           if_none_match: Any = None, timeout: Any = None, cpk: Any = None) -> Blob:
        """Write the blob (or the inclusive byte range) to ``stream``; returns it without content."""
        ignored(lease_id=lease_id, if_modified_since=if_modified_since, if_unmodified_since=if_unmodified_since,
                if_match=if_match, if_none_match=if_none_match, cpk=cpk)
        download = self._open(container_name, blob_name, snapshot, start_range, end_range, validate_content,
                              progress_callback, max_connections)
        download.readinto(stream)
        return Blob(blob_name, snapshot=snapshot, props=download.properties, metadata=download.metadata)

    def _open(self, container_name: str, blob_name: str, snapshot: Optional[str], start_range: Optional[int],
              end_range: Optional[int], validate_content: bool, progress_callback: Progress,
              max_connections: int) -> Any:
        kwargs = {"max_connections": max_connections, "validate_content": validate_content,
                      "progress": progress_callback}
        if snapshot:
            if self.mode == "local":
                raise AzureMissingResourceHttpError(
                    "The specified blob does not exist. ErrorCode: BlobNotFound (local mode keeps no snapshots)", 404)
            kwargs["snapshot"] = snapshot
        return self._impl.open_download(container_name, blob_name, start_range, end_range, **kwargs)

    def get_blob_to_path(self, container_name: str, blob_name: str, file_path: str, open_mode: str = "wb",
                         snapshot: Optional[str] = None, start_range: Optional[int] = None,
                         end_range: Optional[int] = None, validate_content: bool = False,
                         progress_callback: Progress = None, max_connections: int = 2, lease_id: Any = None,
                         if_modified_since: Any = None, if_unmodified_since: Any = None, if_match: Any = None,
                         if_none_match: Any = None, timeout: Any = None, cpk: Any = None) -> Blob:
        """Download into ``file_path`` (opened with ``open_mode`` only once the blob is found)."""
        ignored(lease_id=lease_id, if_modified_since=if_modified_since, if_unmodified_since=if_unmodified_since,
                if_match=if_match, if_none_match=if_none_match, cpk=cpk)
        download = self._open(container_name, blob_name, snapshot, start_range, end_range, validate_content,
                              progress_callback, max_connections)
        with open(file_path, open_mode) as stream:
            download.readinto(stream)
        return Blob(blob_name, snapshot=snapshot, props=download.properties, metadata=download.metadata)

    def get_blob_to_bytes(self, container_name: str, blob_name: str, snapshot: Optional[str] = None,
                          start_range: Optional[int] = None, end_range: Optional[int] = None,
                          validate_content: bool = False, progress_callback: Progress = None,
                          max_connections: int = 2, lease_id: Any = None, if_modified_since: Any = None,
                          if_unmodified_since: Any = None, if_match: Any = None, if_none_match: Any = None,
                          timeout: Any = None, cpk: Any = None) -> Blob:
        """The blob with ``.content`` as bytes."""
        buffer = io.BytesIO()
        blob = self.get_blob_to_stream(container_name, blob_name, buffer, snapshot, start_range, end_range,
                                       validate_content, progress_callback, max_connections, lease_id,
                                       if_modified_since, if_unmodified_since, if_match, if_none_match, timeout, cpk)
        blob.content = buffer.getvalue()
        return blob

    def get_blob_to_text(self, container_name: str, blob_name: str, encoding: str = "utf-8",
                         snapshot: Optional[str] = None, start_range: Optional[int] = None,
                         end_range: Optional[int] = None, validate_content: bool = False,
                         progress_callback: Progress = None, max_connections: int = 2, lease_id: Any = None,
                         if_modified_since: Any = None, if_unmodified_since: Any = None, if_match: Any = None,
                         if_none_match: Any = None, timeout: Any = None, cpk: Any = None) -> Blob:
        """The blob with ``.content`` decoded with ``encoding``."""
        blob = self.get_blob_to_bytes(container_name, blob_name, snapshot, start_range, end_range,
                                      validate_content, progress_callback, max_connections, lease_id,
                                      if_modified_since, if_unmodified_since, if_match, if_none_match, timeout, cpk)
        blob.content = blob.content.decode(encoding)
        return blob

    def get_blob_properties(self, container_name: str, blob_name: str, snapshot: Optional[str] = None,
                            lease_id: Any = None, if_modified_since: Any = None, if_unmodified_since: Any = None,
                            if_match: Any = None, if_none_match: Any = None, timeout: Any = None,
                            cpk: Any = None) -> Blob:
        ignored(lease_id=lease_id, if_modified_since=if_modified_since, if_unmodified_since=if_unmodified_since,
                if_match=if_match, if_none_match=if_none_match, cpk=cpk)
        if snapshot and self.mode == "remote":
            return self._impl.blob(container_name, blob_name, snapshot)
        if snapshot:
            raise AzureMissingResourceHttpError("The specified blob does not exist. ErrorCode: BlobNotFound", 404)
        return self._impl.blob(container_name, blob_name)

    # -- listing and deletion ----------------------------------------------------------------------
    def list_blobs(self, container_name: str, prefix: Optional[str] = None, num_results: Optional[int] = None,
                   include: Any = None, delimiter: Optional[str] = None, marker: Optional[str] = None,
                   timeout: Any = None) -> ListGenerator:
        """``Blob`` objects (and ``BlobPrefix`` ones when ``delimiter`` is given), in name order."""
        return ListGenerator(
            lambda m, n: self._impl.list_blobs_page(container_name, prefix, delimiter, include, m, n),
            num_results, marker)

    def list_blob_names(self, container_name: str, prefix: Optional[str] = None, num_results: Optional[int] = None,
                        include: Any = None, delimiter: Optional[str] = None, marker: Optional[str] = None,
                        timeout: Any = None) -> "_Names":
        """Blob names (an iterable with the listing's ``next_marker``)."""
        listing = self.list_blobs(container_name, prefix, num_results, include, delimiter, marker, timeout)
        return _Names(listing)

    def delete_blob(self, container_name: str, blob_name: str, snapshot: Optional[str] = None,
                    lease_id: Any = None, delete_snapshots: Any = None, if_modified_since: Any = None,
                    if_unmodified_since: Any = None, if_match: Any = None, if_none_match: Any = None,
                    timeout: Any = None) -> None:
        """Delete the blob; a missing blob raises ``AzureMissingResourceHttpError``."""
        ignored(lease_id=lease_id, if_modified_since=if_modified_since, if_unmodified_since=if_unmodified_since,
                if_match=if_match, if_none_match=if_none_match)
        self._impl.delete_blob(container_name, blob_name, snapshot, delete_snapshots)

    # -- URLs and SAS ------------------------------------------------------------------------------
    def make_blob_url(self, container_name: str, blob_name: str, protocol: Optional[str] = None,
                      sas_token: Optional[str] = None, snapshot: Optional[str] = None) -> str:
        """The blob's URL. Local mode with a ``sas_token``: a signed loopback URL that serves the file
        until the token's ``se`` expiry; without one, the canonical (not fetchable) account URL."""
        if self.mode == "local" and sas_token:
            return self._local_url(self._impl.path_of(container_name, blob_name), sas_token)
        url = self._config.url(f"{container_name}/{quote(blob_name, safe='/~')}", protocol)
        query = [f"snapshot={quote(snapshot)}"] if snapshot else []
        if sas_token:
            query.append(sas_token.lstrip("?"))
        return url + ("?" + "&".join(query) if query else "")

    def make_container_url(self, container_name: str, protocol: Optional[str] = None,
                           sas_token: Optional[str] = None) -> str:
        url = self._config.url(f"{container_name}?restype=container", protocol)
        return f"{url}&{sas_token.lstrip('?')}" if sas_token else url

    def generate_account_shared_access_signature(self, resource_types: Any, permission: Any, expiry: Any,
                                                 start: Any = None, ip: Optional[str] = None,
                                                 protocol: Optional[str] = None) -> str:
        if self.mode == "remote":
            return self._impl.account_sas(resource_types, permission, expiry, start, ip, protocol)
        from batchai_compat.storage._sas import local_token

        return local_token(account_name=self.account_name or "", account_key=self.account_key, resource="",
                           canonical="account", permission=permission, expiry=expiry, start=start, ip=ip,
                           protocol=protocol, services="b", resource_types=resource_types)

    def generate_container_shared_access_signature(
        self, container_name: str, permission: Any = None, expiry: Any = None, start: Any = None,
        id: Optional[str] = None, ip: Optional[str] = None, protocol: Optional[str] = None,  # noqa: A002
        cache_control: Optional[str] = None, content_disposition: Optional[str] = None,
        content_encoding: Optional[str] = None, content_language: Optional[str] = None,
        content_type: Optional[str] = None, user_delegation_key: Any = None,
    ) -> str:
        headers = sas_headers(cache_control, content_disposition, content_encoding, content_language, content_type)
        if self.mode == "remote":
            kwargs = sas_kwargs(permission, expiry, start, id, ip, protocol, headers)
            if user_delegation_key is not None:
                kwargs["user_delegation_key"] = user_delegation_key
            return self._impl.container_sas(container_name, **kwargs)
        from batchai_compat.storage._sas import local_token

        return local_token(account_name=self.account_name or "", account_key=self.account_key, resource="c",
                           canonical=f"/blob/{self.account_name}/{container_name}", permission=permission,
                           expiry=expiry, start=start, id=id, ip=ip, protocol=protocol,
                           headers=local_sas_headers(headers))

    def generate_blob_shared_access_signature(
        self, container_name: str, blob_name: str, snapshot: Optional[str] = None, permission: Any = None,
        expiry: Any = None, start: Any = None, id: Optional[str] = None, ip: Optional[str] = None,  # noqa: A002
        protocol: Optional[str] = None, cache_control: Optional[str] = None,
        content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
        content_language: Optional[str] = None, content_type: Optional[str] = None, user_delegation_key: Any = None,
    ) -> str:
        headers = sas_headers(cache_control, content_disposition, content_encoding, content_language, content_type)
        if self.mode == "remote":
            kwargs = sas_kwargs(permission, expiry, start, id, ip, protocol, headers)
            if user_delegation_key is not None:
                kwargs["user_delegation_key"] = user_delegation_key
            return self._impl.blob_sas(container_name, blob_name, snapshot, **kwargs)
        from batchai_compat.storage._sas import local_token

        return local_token(account_name=self.account_name or "", account_key=self.account_key, resource="b",
                           canonical=f"/blob/{self.account_name}/{container_name}/{blob_name}",
                           permission=permission, expiry=expiry, start=start, id=id, ip=ip, protocol=protocol,
                           headers=local_sas_headers(headers))


class _Names:
    """``list_blob_names``' result: names, with the listing's ``next_marker``."""

    def __init__(self, listing: ListGenerator) -> None:
        self._listing = listing

    @property
    def next_marker(self) -> Optional[str]:
        return self._listing.next_marker

    def __iter__(self) -> Iterator[str]:
        return (item.name for item in self._listing)
