"""``FileService``: the azure-storage-file 1.x/2.x client, by its old names, in local or remote mode."""

from __future__ import annotations

import io
from typing import IO, Any, Optional
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
from batchai_compat.storage.models import Directory, File, ListGenerator, Share

__all__ = ["FileService"]

Progress = Optional[Any]


def _no_local_snapshots(service: "FileService", snapshot: Optional[str]) -> None:
    if snapshot and service.mode == "local":
        raise AzureMissingResourceHttpError(
            "The specified share does not exist. ErrorCode: ShareNotFound (local mode keeps no share snapshots)", 404)


class FileService(_StorageService):
    """Azure File shares, as ``azure.storage.file.FileService`` offered them.

    Constructed exactly as the original (which had no ``is_emulated``: there is no Azure Files
    emulator). batchai_compat keyword-only extensions: ``mode``, ``home`` (see ``BlockBlobService``) and
    ``token_credential``. ``request_session``/``socket_timeout`` are accepted and ignored;
    ``file_permission``/``smb_properties`` are accepted and ignored with a warning.
    """

    _service = "file"

    def __init__(self, account_name: Optional[str] = None, account_key: Optional[str] = None,
                 sas_token: Optional[str] = None, protocol: str = _config.DEFAULT_PROTOCOL,
                 endpoint_suffix: str = _config.SERVICE_HOST_BASE, request_session: Any = None,
                 connection_string: Optional[str] = None, socket_timeout: Any = None, *,
                 mode: Optional[str] = None, home: Any = None, token_credential: Any = None) -> None:
        super().__init__(account_name=account_name, account_key=account_key, sas_token=sas_token,
                         protocol=protocol, endpoint_suffix=endpoint_suffix, connection_string=connection_string,
                         token_credential=token_credential, mode=mode, home=home)

    def _local(self) -> Any:
        from batchai_compat.storage._local import LocalFiles

        return LocalFiles(self._config.account_name or "", self._config.home)

    def _remote(self) -> Any:
        from batchai_compat.storage._remote import RemoteFiles

        return RemoteFiles(self._config)

    # -- shares ------------------------------------------------------------------------------------
    def create_share(self, share_name: str, metadata: Optional[dict] = None, quota: Optional[int] = None,
                     fail_on_exist: bool = False, timeout: Any = None) -> bool:
        """True if created; False if it already existed (``fail_on_exist=True``: raise instead)."""
        try:
            self._impl.create_share(share_name, metadata, quota)
        except AzureConflictHttpError:
            if fail_on_exist:
                raise
            return False
        return True

    def delete_share(self, share_name: str, fail_not_exist: bool = False, timeout: Any = None,
                     snapshot: Optional[str] = None, delete_snapshots: Any = None) -> bool:
        """True if deleted; False if it did not exist (``fail_not_exist=True``: raise instead)."""
        try:
            self._impl.delete_share(share_name, snapshot, delete_snapshots)
        except AzureMissingResourceHttpError:
            if fail_not_exist:
                raise
            return False
        return True

    def get_share_properties(self, share_name: str, timeout: Any = None, snapshot: Optional[str] = None) -> Share:
        _no_local_snapshots(self, snapshot)
        return self._impl.share(share_name)

    def list_shares(self, prefix: Optional[str] = None, marker: Optional[str] = None,
                    num_results: Optional[int] = None, include_metadata: bool = False, timeout: Any = None,
                    include_snapshots: bool = False) -> ListGenerator:
        ignored(include_snapshots=include_snapshots)
        return ListGenerator(lambda m, n: self._impl.list_shares_page(prefix, m, n), num_results, marker)

    def exists(self, share_name: str, directory_name: Optional[str] = None, file_name: Optional[str] = None,
               timeout: Any = None, snapshot: Optional[str] = None) -> bool:
        """Whether the share, the directory or the file exists."""
        if snapshot and self.mode == "local":
            return False
        extra = {"snapshot": snapshot} if snapshot else {}
        if file_name is not None:
            return bool(self._impl.file_exists(share_name, directory_name, file_name, **extra))
        if directory_name:
            return bool(self._impl.directory_exists(share_name, directory_name))
        return bool(self._impl.share_exists(share_name, **extra))

    # -- directories -------------------------------------------------------------------------------
    def create_directory(self, share_name: str, directory_name: str, metadata: Optional[dict] = None,
                         fail_on_exist: bool = False, timeout: Any = None, file_permission: Any = None,
                         smb_properties: Any = None) -> bool:
        """True if created; False if it existed. The parent directory must exist (404 otherwise)."""
        ignored(file_permission=file_permission, smb_properties=smb_properties)
        try:
            self._impl.create_directory(share_name, directory_name, metadata)
        except AzureConflictHttpError:
            if fail_on_exist:
                raise
            return False
        return True

    def delete_directory(self, share_name: str, directory_name: str, fail_not_exist: bool = False,
                         timeout: Any = None) -> bool:
        """True if deleted; False if missing (``fail_not_exist=True``: raise). Must be empty (409)."""
        try:
            self._impl.delete_directory(share_name, directory_name)
        except AzureMissingResourceHttpError:
            if fail_not_exist:
                raise
            return False
        return True

    def get_directory_properties(self, share_name: str, directory_name: str, timeout: Any = None,
                                 snapshot: Optional[str] = None) -> Directory:
        _no_local_snapshots(self, snapshot)
        return self._impl.directory(share_name, directory_name)

    def list_directories_and_files(self, share_name: str, directory_name: Optional[str] = None,
                                   num_results: Optional[int] = None, marker: Optional[str] = None,
                                   timeout: Any = None, prefix: Optional[str] = None,
                                   snapshot: Optional[str] = None) -> ListGenerator:
        """The ``File`` and ``Directory`` entries directly inside ``directory_name`` (the share root if None)."""
        _no_local_snapshots(self, snapshot)
        return ListGenerator(
            lambda m, n: self._impl.list_page(share_name, directory_name, prefix, m, n), num_results, marker)

    # -- files -------------------------------------------------------------------------------------
    def get_file_properties(self, share_name: str, directory_name: Optional[str], file_name: str,
                            timeout: Any = None, snapshot: Optional[str] = None) -> File:
        _no_local_snapshots(self, snapshot)
        return self._impl.file(share_name, directory_name, file_name, **({"snapshot": snapshot} if snapshot else {}))

    def delete_file(self, share_name: str, directory_name: Optional[str], file_name: str, timeout: Any = None) -> None:
        """Delete the file; a missing file raises ``AzureMissingResourceHttpError``."""
        self._impl.delete_file(share_name, directory_name, file_name)

    def _upload(self, share_name: str, directory_name: Optional[str], file_name: str, stream: IO[bytes],
                count: Optional[int], content_settings: Any, metadata: Optional[dict], validate_content: bool,
                progress_callback: Progress, max_connections: int, file_permission: Any,
                smb_properties: Any) -> None:
        ignored(file_permission=file_permission, smb_properties=smb_properties)
        self._impl.upload(share_name, directory_name, file_name, stream, count, content_settings, metadata,
                          progress_callback, max_connections=max_connections, validate_content=validate_content)

    def create_file_from_path(self, share_name: str, directory_name: Optional[str], file_name: str,
                              local_file_path: str, content_settings: Any = None, metadata: Optional[dict] = None,
                              validate_content: bool = False, progress_callback: Progress = None,
                              max_connections: int = 2, file_permission: Any = None, smb_properties: Any = None,
                              timeout: Any = None) -> None:
        """Upload a local file into an existing directory of the share (replacing any file there)."""
        count = file_size(local_file_path)
        with open(local_file_path, "rb") as stream:
            self._upload(share_name, directory_name, file_name, stream, count, content_settings, metadata,
                         validate_content, progress_callback, max_connections, file_permission, smb_properties)

    def create_file_from_text(self, share_name: str, directory_name: Optional[str], file_name: str, text: str,
                              encoding: str = "utf-8", content_settings: Any = None, metadata: Optional[dict] = None,
                              validate_content: bool = False, timeout: Any = None, file_permission: Any = None,
                              smb_properties: Any = None) -> None:
        stream, count = text_stream(text, encoding)
        self._upload(share_name, directory_name, file_name, stream, count, content_settings, metadata,
                     validate_content, None, 1, file_permission, smb_properties)

    def create_file_from_bytes(self, share_name: str, directory_name: Optional[str], file_name: str, file: bytes,
                               index: int = 0, count: Optional[int] = None, content_settings: Any = None,
                               metadata: Optional[dict] = None, validate_content: bool = False,
                               progress_callback: Progress = None, max_connections: int = 2, timeout: Any = None,
                               file_permission: Any = None, smb_properties: Any = None) -> None:
        stream, count = bytes_stream(file, index, count)
        self._upload(share_name, directory_name, file_name, stream, count, content_settings, metadata,
                     validate_content, progress_callback, max_connections, file_permission, smb_properties)

    def create_file_from_stream(self, share_name: str, directory_name: Optional[str], file_name: str,
                                stream: IO[bytes], count: int, content_settings: Any = None,
                                metadata: Optional[dict] = None, validate_content: bool = False,
                                progress_callback: Progress = None, max_connections: int = 2, timeout: Any = None,
                                file_permission: Any = None, smb_properties: Any = None) -> None:
        self._upload(share_name, directory_name, file_name, stream, count, content_settings, metadata,
                     validate_content, progress_callback, max_connections, file_permission, smb_properties)

    def _open(self, share_name: str, directory_name: Optional[str], file_name: str, start_range: Optional[int],
              end_range: Optional[int], validate_content: bool, progress_callback: Progress, max_connections: int,
              snapshot: Optional[str]) -> Any:
        _no_local_snapshots(self, snapshot)
        kwargs = {"max_connections": max_connections, "validate_content": validate_content,
                  "progress": progress_callback}
        if snapshot:
            kwargs["snapshot"] = snapshot
        return self._impl.open_download(share_name, directory_name, file_name, start_range, end_range, **kwargs)

    def get_file_to_stream(self, share_name: str, directory_name: Optional[str], file_name: str, stream: IO[bytes],
                           start_range: Optional[int] = None, end_range: Optional[int] = None,
                           validate_content: bool = False, progress_callback: Progress = None,
                           max_connections: int = 2, timeout: Any = None, snapshot: Optional[str] = None) -> File:
        download = self._open(share_name, directory_name, file_name, start_range, end_range, validate_content,
                              progress_callback, max_connections, snapshot)
        download.readinto(stream)
        return File(file_name, props=download.properties, metadata=download.metadata)

    def get_file_to_path(self, share_name: str, directory_name: Optional[str], file_name: str, file_path: str,
                         open_mode: str = "wb", start_range: Optional[int] = None, end_range: Optional[int] = None,
                         validate_content: bool = False, progress_callback: Progress = None,
                         max_connections: int = 2, timeout: Any = None, snapshot: Optional[str] = None) -> File:
        """Download into ``file_path`` (opened with ``open_mode`` only once the file is found)."""
        download = self._open(share_name, directory_name, file_name, start_range, end_range, validate_content,
                              progress_callback, max_connections, snapshot)
        with open(file_path, open_mode) as stream:
            download.readinto(stream)
        return File(file_name, props=download.properties, metadata=download.metadata)

    def get_file_to_bytes(self, share_name: str, directory_name: Optional[str], file_name: str,
                          start_range: Optional[int] = None, end_range: Optional[int] = None,
                          validate_content: bool = False, progress_callback: Progress = None,
                          max_connections: int = 2, timeout: Any = None, snapshot: Optional[str] = None) -> File:
        buffer = io.BytesIO()
        result = self.get_file_to_stream(share_name, directory_name, file_name, buffer, start_range, end_range,
                                         validate_content, progress_callback, max_connections, timeout, snapshot)
        result.content = buffer.getvalue()
        return result

    def get_file_to_text(self, share_name: str, directory_name: Optional[str], file_name: str,
                         encoding: str = "utf-8", start_range: Optional[int] = None, end_range: Optional[int] = None,
                         validate_content: bool = False, progress_callback: Progress = None,
                         max_connections: int = 2, timeout: Any = None, snapshot: Optional[str] = None) -> File:
        result = self.get_file_to_bytes(share_name, directory_name, file_name, start_range, end_range,
                                        validate_content, progress_callback, max_connections, timeout, snapshot)
        result.content = result.content.decode(encoding)
        return result

    # -- URLs and SAS ------------------------------------------------------------------------------
    def make_file_url(self, share_name: str, directory_name: Optional[str], file_name: str,
                      protocol: Optional[str] = None, sas_token: Optional[str] = None) -> str:
        """The file's URL. Local mode with a ``sas_token``: a signed loopback URL that serves the file
        until the token's ``se`` expiry; without one, the canonical (not fetchable) account URL."""
        if self.mode == "local" and sas_token:
            return self._local_url(self._impl.path_of(share_name, directory_name, file_name), sas_token)
        path = "/".join(p for p in (share_name, (directory_name or "").strip("/"), file_name) if p)
        url = self._config.url(quote(path, safe="/~"), protocol)
        return f"{url}?{sas_token.lstrip('?')}" if sas_token else url

    def generate_account_shared_access_signature(self, resource_types: Any, permission: Any, expiry: Any,
                                                 start: Any = None, ip: Optional[str] = None,
                                                 protocol: Optional[str] = None) -> str:
        if self.mode == "remote":
            return self._impl.account_sas(resource_types, permission, expiry, start, ip, protocol)
        from batchai_compat.storage._sas import local_token

        return local_token(account_name=self.account_name or "", account_key=self.account_key, resource="",
                           canonical="account", permission=permission, expiry=expiry, start=start, ip=ip,
                           protocol=protocol, services="f", resource_types=resource_types)

    def generate_share_shared_access_signature(
        self, share_name: str, permission: Any = None, expiry: Any = None, start: Any = None,
        id: Optional[str] = None, ip: Optional[str] = None, protocol: Optional[str] = None,  # noqa: A002
        cache_control: Optional[str] = None, content_disposition: Optional[str] = None,
        content_encoding: Optional[str] = None, content_language: Optional[str] = None,
        content_type: Optional[str] = None,
    ) -> str:
        headers = sas_headers(cache_control, content_disposition, content_encoding, content_language, content_type)
        if self.mode == "remote":
            return self._impl.share_sas(share_name, **sas_kwargs(permission, expiry, start, id, ip, protocol, headers))
        from batchai_compat.storage._sas import local_token

        return local_token(account_name=self.account_name or "", account_key=self.account_key, resource="s",
                           canonical=f"/file/{self.account_name}/{share_name}", permission=permission,
                           expiry=expiry, start=start, id=id, ip=ip, protocol=protocol,
                           headers=local_sas_headers(headers))

    def generate_file_shared_access_signature(
        self, share_name: str, directory_name: Optional[str] = None, file_name: Optional[str] = None,
        permission: Any = None, expiry: Any = None, start: Any = None, id: Optional[str] = None,  # noqa: A002
        ip: Optional[str] = None, protocol: Optional[str] = None, cache_control: Optional[str] = None,
        content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
        content_language: Optional[str] = None, content_type: Optional[str] = None,
    ) -> str:
        headers = sas_headers(cache_control, content_disposition, content_encoding, content_language, content_type)
        if self.mode == "remote":
            return self._impl.file_sas(share_name, directory_name, file_name or "",
                                       **sas_kwargs(permission, expiry, start, id, ip, protocol, headers))
        from batchai_compat.storage._sas import local_token

        path = "/".join(p for p in (share_name, (directory_name or "").strip("/"), file_name) if p)
        return local_token(account_name=self.account_name or "", account_key=self.account_key, resource="f",
                           canonical=f"/file/{self.account_name}/{path}", permission=permission, expiry=expiry,
                           start=start, id=id, ip=ip, protocol=protocol, headers=local_sas_headers(headers))
