"""The access log: one line per request, never a secret.

A line is ``time method path?query status duration_ms request_id client_request_id``. Only the
query parameters named in :data:`_SHOWN` keep their values; every other value (a ``$skiptoken``
carrying backend state, anything a client might append, such as a SAS ``sig``) is written as ``*``.
Request bodies (mount credentials, secret environment values, passwords) and headers (the bearer
token) are never written. The file is created 0600 under the gateway home.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Optional
from urllib.parse import parse_qsl, quote

_SHOWN = frozenset({"api-version", "maxresults", "directory", "outputdirectoryid", "linkexpiryinminutes"})


def safe_target(path: str, query: str) -> str:
    """The request target as logged: the raw path, and the query with unlisted values masked."""
    if not query:
        return path
    parts = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        shown = quote(value, safe="-.") if key.lower() in _SHOWN else "*"
        parts.append(f"{quote(key, safe='$-')}={shown}")
    return path + "?" + "&".join(parts)


class AccessLog:
    """Appends lines to ``path`` (0600), thread-safe; ``None`` disables logging."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = None
        if path:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.chmod(path, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8", buffering=1)

    def write(self, method: str, target: str, status: int, duration: float, request_id: str,
              client_request_id: Optional[str]) -> None:
        if self._file is None:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        client = _printable(client_request_id) if client_request_id else "-"
        line = (f"{stamp} {_printable(method)} {_printable(target)} {status} {duration * 1000:.1f} "
                f"{request_id} {client}\n")
        with self._lock:
            self._file.write(line)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _printable(text: str) -> str:
    """No control characters or spaces from the request reach the log (one request, one line)."""
    return "".join(c if c.isprintable() and not c.isspace() else "%%%02X" % (ord(c) & 0xFF) for c in text[:2048])
