"""What ``BlockBlobService`` and ``FileService`` share: construction, mode, argument helpers."""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Dict, Optional, Tuple

from batchai_compat.storage import _config

DEFAULT_LOCAL_URL_MINUTES = 60


class _StorageService:
    """Base of the public service classes; picks the local or remote implementation once."""

    _service = ""

    def __init__(self, **kwargs: Any) -> None:
        self._config = _config.resolve(self._service, **kwargs)
        self._impl = self._local() if self._config.mode == "local" else self._remote()

    def _local(self) -> Any:  # overridden by BlockBlobService / FileService
        raise TypeError(f"{type(self).__name__} is abstract: use BlockBlobService or FileService")

    def _remote(self) -> Any:  # overridden by BlockBlobService / FileService
        raise TypeError(f"{type(self).__name__} is abstract: use BlockBlobService or FileService")

    # Attributes the 2.x service objects had (read-only views of the configuration).
    @property
    def mode(self) -> str:
        """``"local"`` or ``"remote"`` (batchai_compat extension; see docs/storage.md)."""
        return self._config.mode

    @property
    def account_name(self) -> Optional[str]:
        return self._config.account_name

    @property
    def account_key(self) -> Optional[str]:
        return self._config.account_key

    @property
    def sas_token(self) -> Optional[str]:
        return self._config.sas_token

    @property
    def protocol(self) -> str:
        return self._config.protocol

    @property
    def primary_endpoint(self) -> str:
        """Host (and path) of the service endpoint, without scheme, as 2.x exposed it."""
        return self._config.primary_endpoint.split("://", 1)[1]

    @property
    def is_emulated(self) -> bool:
        return self._config.account_name == _config.DEV_ACCOUNT_NAME

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(account_name={self.account_name!r}, mode={self.mode!r}, "
                f"endpoint={self._config.primary_endpoint!r}, credential={self._config.credential_kind!r})")

    def _local_url(self, path: Path, sas_token: Optional[str]) -> str:
        """Local mode ``make_*_url``: with a SAS, a signed loopback URL expiring with the token."""
        from batchai_compat import _fileserver
        from batchai_compat.storage._sas import token_expiry

        deadline = token_expiry(sas_token or "") or (
            datetime.now(timezone.utc) + timedelta(minutes=DEFAULT_LOCAL_URL_MINUTES))
        return _fileserver.signed_url_until(path, deadline, home=self._config.home)


def ignored(**options: Any) -> None:
    """Warn (``BatchAICompatWarning``) about 2.x options this implementation does not apply."""
    given = sorted(name for name, value in options.items() if value not in (None, False))
    if given:
        from batchai_compat.exceptions import warn_compat

        warn_compat(f"batchai_compat storage ignores {', '.join(given)}")


def bytes_stream(data: Any, index: int, count: Optional[int]) -> Tuple[IO[bytes], int]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("blob should be of type bytes.")
    if index < 0:
        raise IndexError("index should not be negative.")
    view = memoryview(data)[index:]
    if count is not None:
        if count < 0:
            raise IndexError("count should not be negative.")
        view = view[:count]
    return io.BytesIO(view.tobytes()), len(view)


def text_stream(text: Any, encoding: str) -> Tuple[IO[bytes], int]:
    if not isinstance(text, str):
        raise TypeError("text should be of type str.")
    data = text.encode(encoding)
    return io.BytesIO(data), len(data)


def file_size(path: "os.PathLike[str] | str") -> int:
    return os.path.getsize(path)


def sas_kwargs(permission: Any, expiry: Any, start: Any, id: Any, ip: Any, protocol: Any,  # noqa: A002
               headers: Dict[str, Any]) -> Dict[str, Any]:
    """2.x SAS arguments as v12 ``generate_*_sas`` keywords."""
    kwargs: Dict[str, Any] = {"permission": str(permission) if permission is not None else None,
                              "expiry": expiry, "start": start, "policy_id": id, "ip": ip, "protocol": protocol}
    kwargs.update(headers)
    return {k: v for k, v in kwargs.items() if v is not None}


def sas_headers(cache_control: Any, content_disposition: Any, content_encoding: Any, content_language: Any,
                content_type: Any) -> Dict[str, Any]:
    return {"cache_control": cache_control, "content_disposition": content_disposition,
            "content_encoding": content_encoding, "content_language": content_language,
            "content_type": content_type}


LOCAL_SAS_HEADER_NAMES = {"cache_control": "rscc", "content_disposition": "rscd", "content_encoding": "rsce",
                          "content_language": "rscl", "content_type": "rsct"}


def local_sas_headers(headers: Dict[str, Any]) -> Dict[str, Optional[str]]:
    return {LOCAL_SAS_HEADER_NAMES[k]: v for k, v in headers.items() if v is not None}
