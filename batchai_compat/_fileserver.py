"""A signed, read-only HTTP file server on the loopback interface.

Audience: the local backend (``jobs.list_output_files`` download URLs) and the local mode of
``batchai_compat.storage`` (``make_blob_url`` / ``make_file_url`` with a SAS). Users only ever see
the URLs it hands out.

Batch AI returned time-limited SAS URLs for job outputs; notebooks fed them to ``requests``,
``urllib`` or ``wget``. Locally we emulate that with::

    http://127.0.0.1:<port>/<url-quoted path relative to the home>?se=<expiry UTC>&sig=<hmac>

* The signature is ``HMAC-SHA256(key, "<relative path>\\n<se>")`` in hex. The key is random, per
  ``BATCHAI_COMPAT_HOME``, kept in ``run/fileserver.key`` (mode 0600, created atomically), so every
  process sharing a home agrees on it.
* Where the URLs are served depends on ``BATCHAI_COMPAT_FILESERVER``:

  - ``process`` (the default; the library, the gateway): one server per home per process, started
    lazily on the first :func:`signed_url`, bound to 127.0.0.1 only, on an ephemeral port, served
    from a daemon thread. A URL works for as long as the process that signed it lives (deviation:
    Azure SAS URLs outlived the client process). Fine for a notebook or a long-lived gateway.
  - ``shared`` (set by the ``batchai`` command, whose process ends right after printing a URL that a
    script then hands to ``curl``): one detached server process per home, ``python -m
    batchai_compat._fileserver`` in its own session, stdio to ``run/fileserver.log`` (0600), serving
    a listening socket the signer bound on 127.0.0.1 (so the port is known at once). It is recorded
    in ``run/fileserver.json`` (``pid``, ``port``, ``until``; 0600, replaced atomically). A signer
    reuses it only if the pid is alive *and* the server on that port answers ``GET
    /?batchai-compat-ping=<nonce>`` with the nonce's HMAC under a key derived from the home's
    (:func:`_proof`) and that pid: a recycled pid, a port now held by another program, or another
    home's server are never trusted, and a new server is started instead. Discovery, start-up and
    the server's exit decision hold an ``fcntl.flock`` on ``run/fileserver.lock``, so concurrent
    ``batchai`` processes end with one server and a URL is never handed out for a server that has
    decided to exit. Each signing extends ``until`` to at least the URL's expiry (and
    :data:`MIN_LINGER` from now); every :data:`CHECK_INTERVAL` seconds the server exits if ``now >
    until`` and no request is in flight. A server that fails the probe is never signalled (its pid
    is not trusted); if it is really ours (say, another version's probe) it expires on its own.
    The request handling below is the same in both modes (the same server and handler classes).
* What is served is exactly the signed path, nothing else. The path is resolved when the URL is
  *signed* (``os.path.realpath``: a mount symlink under ``nodes/``, or a symlink a job made inside
  its output directory pointing inside it, is signed as its target). When the URL is *served*, the
  file is opened component by component from the home's directory descriptor with ``O_NOFOLLOW``
  (``openat``): a symlink anywhere in the path — e.g. the signed file replaced by a link to
  ``state.db`` after signing — is refused (403), and since nothing is resolved before the open
  there is no check-then-open window to race. Only regular files are served (``fstat`` of the open
  descriptor); ``run/`` (the key), ``state.db`` and its ``-wal``/``-shm`` never are, not even
  through a hard link. GET and HEAD; single ``Range`` requests (``bytes=a-b``, ``bytes=a-``,
  ``bytes=-n``).
* Bounded: at most :data:`MAX_CONNECTIONS` connections at a time (one thread each). The request
  line and headers must arrive within :data:`HEADER_TIMEOUT` seconds of the connection starting to
  wait for them (a kept-alive connection waits at most that long for its next request), and no
  single read or write may block longer than :data:`IDLE_TIMEOUT`. When every slot is taken, the
  connection that has waited longest for its request headers is closed to make room (a slowloris
  cannot lock out a real download); only when every slot is sending a response is the newcomer
  answered ``503``. (Azure Storage had its own limits; these are ours.)
* Query strings carry secrets, so requests are logged (debug level) as method and path only.
"""

from __future__ import annotations

import errno
import hmac
import io
import logging
import os
import re
import secrets
import socket
import stat
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from hashlib import sha256
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Optional, Set, Tuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

from batchai_compat._home import compat_home, run_dir

__all__ = ["signed_url", "signed_url_until", "stop_server"]

log = logging.getLogger(__name__)

KEY_FILE = "fileserver.key"
_EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_CHUNK = 256 * 1024
_QUERY_RE = re.compile(r"\?[^\s'\"]*")

#: Connections served at once (each holds a thread); see the module docstring.
MAX_CONNECTIONS = 64
#: Seconds for a request line and its headers to arrive.
HEADER_TIMEOUT = 10.0
#: Seconds any single read or write on a connection may block.
IDLE_TIMEOUT = 30.0
# Home-relative paths never served, whatever is signed: the key, and the control plane's database.
_NEVER_SERVED = ("run/" + KEY_FILE, "state.db", "state.db-wal", "state.db-shm", "state.db-journal")


# --------------------------------------------------------------------------------------------------
# Key and signature
# --------------------------------------------------------------------------------------------------
def _load_or_create_key(home: Path) -> bytes:
    """The home's HMAC key; created once, atomically (write a private temp file, then hard-link it
    into place, which fails if another process won the race, in which case we read theirs)."""
    key_path = run_dir(home) / KEY_FILE
    for _ in range(2):
        try:
            return _read_key(key_path)
        except FileNotFoundError:
            pass
        tmp = key_path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, key_path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    return _read_key(key_path)


def _read_key(key_path: Path) -> bytes:
    with open(key_path, encoding="ascii") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if mode & 0o077:
            # Someone loosened it; tighten rather than hand out URLs signed with a readable key.
            log.warning("%s was readable by others; restricting it to mode 0600", key_path)
            os.chmod(key_path, 0o600)
        text = fh.read().strip()
    if len(text) < 32:
        raise RuntimeError(f"{key_path} is corrupt; delete it to generate a new file-server key")
    return bytes.fromhex(text)


def _signature(key: bytes, rel_path: str, expiry: str) -> str:
    return hmac.new(key, f"{rel_path}\n{expiry}".encode(), sha256).hexdigest()


def _relative_path(path: os.PathLike, home: Path) -> str:
    """``path`` relative to ``home`` in POSIX form; refuses escapes.

    The path is resolved now (symlinks followed, as far as it exists) when its target is under the
    home, because the server follows no symlink at all; a path resolving outside the home is signed
    as written (lexically normalised), and the server then refuses it.
    """
    target = Path(os.path.normpath(os.fspath(path)))
    if not target.is_absolute():
        raise ValueError(f"signed_url needs an absolute path, got {os.fspath(path)!r}")
    for candidate in (Path(os.path.realpath(target)), target):
        for base in (home.resolve(), Path(os.path.normpath(home))):
            try:
                rel = candidate.relative_to(base)
            except ValueError:
                continue
            if rel.parts and rel.parts[0] != "..":
                return rel.as_posix()
    raise ValueError(f"{os.fspath(path)!r} is not a file under the compat home {str(home)!r}")


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
class _Served:
    def __init__(self, home: Path, key: bytes, server: ThreadingHTTPServer, thread: threading.Thread):
        self.home = home
        self.key = key
        self.server = server
        self.thread = thread
        self.pid = os.getpid()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


_lock = threading.Lock()
_servers: Dict[Path, _Served] = {}


def signed_url(path: os.PathLike, *, expiry_minutes: int, home: Optional[os.PathLike] = None) -> str:
    """A time-limited loopback URL for the file at absolute ``path`` under ``compat_home(home)``.

    Starts this home's server on first use in the process. The file need not exist yet (a job may
    still be writing it); the server answers 404 until it does.
    """
    if expiry_minutes <= 0:
        raise ValueError("expiry_minutes must be positive")
    return signed_url_until(path, datetime.now(timezone.utc) + timedelta(minutes=expiry_minutes), home=home)


def signed_url_until(path: os.PathLike, deadline: datetime, *, home: Optional[os.PathLike] = None) -> str:
    """Like :func:`signed_url` with an absolute expiry (aware datetime, or naive UTC), which may
    already have passed: local-mode storage carries a SAS token's own ``se`` over this way."""
    if deadline.tzinfo is not None:
        deadline = deadline.astimezone(timezone.utc)
    served = _ensure_server(compat_home(home), deadline.replace(tzinfo=timezone.utc))
    rel = _relative_path(path, served.home)
    expiry = deadline.strftime(_EXPIRY_FORMAT)
    sig = _signature(served.key, rel, expiry)
    return f"http://127.0.0.1:{served.port}/{quote(rel, safe='/')}?se={quote(expiry)}&sig={sig}"


def signer(*, expiry_minutes: int, home: Optional[os.PathLike] = None) -> Callable[[str], str]:
    """A function signing many URLs with one expiry: ``sign(realpath) -> url``.

    For listings of thousands of files: the server lookup, key and expiry are computed once, and
    each path must already be resolved (``os.path.realpath``) and inside the home.
    """
    if expiry_minutes <= 0:
        raise ValueError("expiry_minutes must be positive")
    deadline = datetime.now(timezone.utc) + timedelta(minutes=expiry_minutes)
    served = _ensure_server(compat_home(home), deadline)
    expiry = deadline.strftime(_EXPIRY_FORMAT)
    prefix = str(served.home) + os.sep
    base = f"http://127.0.0.1:{served.port}/"
    suffix = f"?se={quote(expiry)}&sig="

    def sign(real_path: str) -> str:
        if not real_path.startswith(prefix):
            raise ValueError(f"{real_path!r} is not a resolved file path under the compat home {str(served.home)!r}")
        rel = real_path[len(prefix):].replace(os.sep, "/")
        return base + quote(rel, safe="/") + suffix + _signature(served.key, rel, expiry)

    return sign


def stop_server() -> None:
    """Stop every file server this process started (tests; URLs signed earlier stop working)."""
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for served in servers:
        if served.pid == os.getpid():
            served.server.shutdown()
        served.server.server_close()


def _ensure_server(home: Path, until: Optional[datetime] = None) -> "_Served | _SharedEndpoint":
    """The server to put in this home's URLs: this process's own (``process`` mode), or the home's
    detached server (``shared`` mode, :func:`_shared_endpoint`), alive until at least ``until``."""
    home = home.resolve()
    if shared_mode():
        try:
            return _shared_endpoint(home, until or datetime.now(timezone.utc))
        except (OSError, RuntimeError) as exc:  # e.g. no flock on the home's file system
            log.warning("the shared file server is unavailable (%s); this process serves its URLs itself, "
                        "so they work only while it runs", exc)
    return _process_server(home)


def _process_server(home: Path) -> _Served:
    with _lock:
        served = _servers.get(home)
        if served is not None and served.pid == os.getpid() and served.thread.is_alive():
            return served
        # First use, or a forked child that inherited the parent's (thread-less) server object.
        key = _load_or_create_key(home)
        server = _FileServer(("127.0.0.1", 0), _Handler)
        server.home = home
        server.key = key
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="batchai-compat-fileserver",
            daemon=True,
        )
        thread.start()
        served = _servers[home] = _Served(home, key, server, thread)
        log.debug("file server for %s listening on 127.0.0.1:%d", home, served.port)
        return served


# --------------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------------
class _Connection:
    """Book-keeping of one accepted connection (guarded by the server's lock)."""

    __slots__ = ("sock", "since", "busy", "evicted")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.since = time.monotonic()  # when it started waiting for its current request's headers
        self.busy = False  # sending a response: never evicted
        self.evicted = False

    def evict(self) -> None:
        self.evicted = True
        try:  # wakes the handler thread blocked in recv(); it sees EOF and ends
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _FileServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128
    home: Path
    key: bytes

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.max_connections = MAX_CONNECTIONS
        self.header_timeout = HEADER_TIMEOUT
        self.idle_timeout = IDLE_TIMEOUT
        self.connections: Dict[socket.socket, _Connection] = {}
        self.connections_lock = threading.Lock()
        self.refused_busy = 0  # connections answered 503 (every slot sending)
        self.evictions = 0  # connections closed while waiting for headers, to make room

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        with self.connections_lock:
            live = [c for c in self.connections.values() if not c.evicted]
            if len(live) >= self.max_connections:
                idle = [c for c in live if not c.busy]
                if not idle:
                    self.refused_busy += 1
                    refuse = True
                else:
                    min(idle, key=lambda c: c.since).evict()
                    self.evictions += 1
                    refuse = False
            else:
                refuse = False
            if not refuse:
                self.connections[request] = _Connection(request)
        if refuse:
            _answer_busy(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.pop(request, None)

    def connection_of(self, sock: socket.socket) -> Optional[_Connection]:
        with self.connections_lock:
            return self.connections.get(sock)

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        # A client going away mid-response is routine; never print tracebacks to stderr.
        log.debug("file server: a connection ended with an error", exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        with self.connections_lock:
            for conn in self.connections.values():
                conn.evict()


def _answer_busy(sock: socket.socket) -> None:
    try:
        sock.settimeout(1.0)
        sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
                     b"Connection: close\r\n\r\n")
    except OSError:
        pass


class _DeadlineReader(io.RawIOBase):
    """The socket's read side: no single recv blocks longer than the idle timeout, and while the
    handler waits for a request's headers, all of them together get at most the header timeout."""

    def __init__(self, sock: socket.socket, handler: "_Handler") -> None:
        super().__init__()
        self._sock = sock
        self._handler = handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        timeout = self._handler.server.idle_timeout
        deadline = self._handler.header_deadline
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("request headers not received in time")
            timeout = min(timeout, remaining)
        self._sock.settimeout(timeout)
        return self._sock.recv_into(buffer)


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, reason: str, headers: Optional[Dict[str, str]] = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


def _parse_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """The inclusive byte range to send, or None for the whole file. Syntactically invalid or
    multi-range headers are ignored (RFC 9110 allows that); unsatisfiable ones raise 416."""
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = int(last) if last else size - 1
        if last and end < start:
            return None
        if start >= size:
            raise _Refused(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "range not satisfiable",
                           {"Content-Range": f"bytes */{size}"})
        return start, min(end, size - 1)
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise _Refused(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "range not satisfiable",
                       {"Content-Range": f"bytes */{size}"})
    return max(size - suffix, 0), size - 1


class _Handler(BaseHTTPRequestHandler):
    server: _FileServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm the body waited for the
    # client's delayed ACK of the headers (about 40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True
    server_version = "batchai-compat-fileserver"
    sys_version = ""

    header_deadline: Optional[float] = None

    # -- connection limits: see the module docstring ---------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader that enforces the header deadline
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self))
        self._conn = self.server.connection_of(self.connection)

    def handle_one_request(self) -> None:
        self.header_deadline = time.monotonic() + self.server.header_timeout
        if self._conn is not None:
            with self.server.connections_lock:
                self._conn.busy, self._conn.since = False, time.monotonic()
        super().handle_one_request()

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok:  # headers are in: from now on this connection is sending a response
            self.header_deadline = None
            self.connection.settimeout(self.server.idle_timeout)
            if self._conn is not None:
                with self.server.connections_lock:
                    self._conn.busy = True
        return ok

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(send_body=False)

    # -- logging: never the query string (it holds the signature) --------------------------------
    def log_request(self, code: object = "-", size: object = "-") -> None:
        path = urlsplit(self.path).path if hasattr(self, "path") else "-"
        log.debug("%s %s -> %s", getattr(self, "command", "-"), path, code)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        log.debug("file server: %s", _QUERY_RE.sub("?<redacted>", format % args))

    # -- request handling ------------------------------------------------------------------------
    def _serve(self, send_body: bool) -> None:
        try:
            fh, size, mtime = self._open_checked()
        except _Refused as refused:
            self._reply_error(refused, send_body)
            return
        with fh:
            try:
                byte_range = _parse_range(self.headers.get("Range"), size)
            except _Refused as refused:
                self._reply_error(refused, send_body)
                return
            if byte_range is None:
                start, end, status = 0, size - 1, HTTPStatus.OK
            else:
                (start, end), status = byte_range, HTTPStatus.PARTIAL_CONTENT
            length = end - start + 1 if size else 0
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
            self.send_header("Accept-Ranges", "bytes")
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if send_body and length:
                fh.seek(start)
                remaining = length
                while remaining:
                    chunk = fh.read(min(_CHUNK, remaining))
                    if not chunk:  # file shrank under us; the client sees a short body
                        self.close_connection = True
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)

    def _open_checked(self):  # type: ignore[no-untyped-def]
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        expiry, sig = query.get("se", []), query.get("sig", [])
        if len(expiry) != 1 or len(sig) != 1:
            raise _Refused(HTTPStatus.FORBIDDEN, "missing or repeated signature parameters")
        rel = unquote(split.path)[1:] if split.path.startswith("/") else unquote(split.path)
        expected = _signature(self.server.key, rel, expiry[0])
        if not hmac.compare_digest(expected, sig[0]):
            raise _Refused(HTTPStatus.FORBIDDEN, "signature mismatch")
        try:
            deadline = datetime.strptime(expiry[0], _EXPIRY_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise _Refused(HTTPStatus.FORBIDDEN, "malformed expiry") from None
        if datetime.now(timezone.utc) >= deadline:
            raise _Refused(HTTPStatus.FORBIDDEN, "URL expired")
        return self._open_inside_home(rel)

    def _open_inside_home(self, rel: str):  # type: ignore[no-untyped-def]
        home = self.server.home  # already resolved
        parts = rel.split("/")
        if "\x00" in rel or any(part in ("", ".", "..") for part in parts):
            raise _Refused(HTTPStatus.FORBIDDEN, "path refused")
        if rel in _NEVER_SERVED or parts[0] == "run":
            raise _Refused(HTTPStatus.FORBIDDEN, "path refused")
        try:
            fd = _open_without_symlinks(home, parts)
        except FileNotFoundError:
            raise _Refused(HTTPStatus.NOT_FOUND, "no such file") from None
        except OSError:  # ELOOP / ENOTDIR: a symlink on the way; EACCES; ...
            raise _Refused(HTTPStatus.FORBIDDEN, "path refused") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise _Refused(HTTPStatus.FORBIDDEN, "not a regular file")
            if (st.st_dev, st.st_ino) in _private_inodes(home):  # a hard link to the key or the database
                raise _Refused(HTTPStatus.FORBIDDEN, "path refused")
            return os.fdopen(fd, "rb"), st.st_size, st.st_mtime
        except BaseException:
            os.close(fd)
            raise

    def _reply_error(self, refused: _Refused, send_body: bool) -> None:
        body = f"{int(refused.status)} {refused.reason}\n".encode()
        self.send_response(refused.status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in refused.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _open_without_symlinks(home: Path, parts: "list[str]") -> int:
    """A descriptor of ``home/<parts...>`` opened one component at a time, relative to the previous
    directory's descriptor, never following a symlink (``openat`` with ``O_NOFOLLOW``).

    Nothing is checked before the open, so a symlink swapped in at any moment is either not there
    yet (the real file is served) or refused: there is no window between a check and the open.
    """
    if os.open not in os.supports_dir_fd:  # pragma: no cover - platforms without openat
        return _open_without_symlinks_fallback(home, parts)
    dir_fd = os.open(home, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
            except NotADirectoryError:
                raise OSError(errno.ENOTDIR, "not a directory (or a symlink)", part) from None
            os.close(dir_fd)
            dir_fd = next_fd
        return _open_final(parts[-1], dir_fd, _private_inodes(home))
    finally:
        os.close(dir_fd)


_KEPT_OPEN: "list[int]" = []  # descriptors of private files opened by a lost race; see _open_final


def _open_final(name: str, dir_fd: int, private: Set[Tuple[int, int]]) -> int:
    """Open ``name`` (no symlink) in ``dir_fd`` - refusing the key and the state database *before*
    a descriptor of them exists.

    This server runs inside client processes, and on POSIX closing *any* descriptor of ``state.db``
    drops every SQLite lock the process holds on it (the next connection closing elsewhere then
    deletes the ``-wal`` the clients still write into; ``backends/local/store.py``). So a hard link
    to the database is identified through an ``O_PATH`` descriptor (Linux; closing one drops no
    lock), and only a file that is not private is reopened for reading, through that descriptor (the
    same inode, no race). Without ``O_PATH`` the name is checked before the open, and a descriptor
    that still turns out private (swapped in between) is kept open rather than closed.
    """
    o_path = getattr(os, "O_PATH", 0)
    if o_path and os.path.isdir("/proc/self/fd"):
        handle = os.open(name, o_path | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
        try:
            st = os.fstat(handle)
            if stat.S_ISLNK(st.st_mode):  # O_PATH | O_NOFOLLOW names the link itself: refuse it
                raise OSError(errno.ELOOP, "symlink refused", name)
            if (st.st_dev, st.st_ino) in private:
                raise PermissionError(errno.EACCES, "private file refused", name)
            return os.open(f"/proc/self/fd/{handle}", _FILE_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
        finally:
            os.close(handle)
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if (st.st_dev, st.st_ino) in private:
        raise PermissionError(errno.EACCES, "private file refused", name)
    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) in private:
        _KEPT_OPEN.append(fd)  # never closed: closing it would drop this process's SQLite locks
        raise PermissionError(errno.EACCES, "private file refused", name)
    return fd


def _open_without_symlinks_fallback(home: Path, parts: "list[str]") -> int:  # pragma: no cover
    """Without ``openat``: refuse when any component is a symlink, open, and check that the open
    descriptor is the file the lexical path names (a swap after the check is caught by the fstat)."""
    path = os.path.join(home, *parts)
    current = str(home)
    for part in parts:
        current = os.path.join(current, part)
        if os.path.islink(current):
            raise OSError(errno.ELOOP, "symlink refused", current)
    fd = os.open(path, _FILE_FLAGS)
    try:
        if os.path.realpath(path) != path or not os.path.samestat(os.fstat(fd), os.lstat(path)):
            raise OSError(errno.ELOOP, "path changed while opening", path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _private_inodes(home: Path) -> Set[Tuple[int, int]]:
    found = set()
    for rel in _NEVER_SERVED:
        try:
            st = os.stat(home / rel)
        except OSError:
            continue
        found.add((st.st_dev, st.st_ino))
    return found


# --------------------------------------------------------------------------------------------------
# Shared mode: one detached server process per home (see the module docstring)
# --------------------------------------------------------------------------------------------------
MODE_ENV = "BATCHAI_COMPAT_FILESERVER"
STATE_FILE = "fileserver.json"
LOCK_FILE = "fileserver.lock"
LOG_FILE = "fileserver.log"
#: Seconds between the shared server's checks of ``until`` (and of ``run/fileserver.json``).
CHECK_INTERVAL = 2.0
#: The shared server lives at least this long after a signing, even for an already expired URL.
MIN_LINGER = 10.0
#: Seconds to wait for a server to prove it is ours (a new one is started otherwise).
PROBE_TIMEOUT = 10.0
_PING_PARAM = "batchai-compat-ping"
_PROOF_HEADER = "X-Batchai-Compat-Proof"
_PID_HEADER = "X-Batchai-Compat-Pid"


def shared_mode() -> bool:
    """``BATCHAI_COMPAT_FILESERVER=shared`` (the ``batchai`` command sets it); ``process`` otherwise."""
    value = (os.environ.get(MODE_ENV) or "process").strip().lower()
    if value not in ("shared", "process"):
        raise ValueError(f"{MODE_ENV} must be 'shared' or 'process', not {value!r}")
    return value == "shared"


class _SharedEndpoint:
    """What a URL needs of the home's detached server: the home, its key and the port."""

    def __init__(self, home: Path, key: bytes, pid: int, port: int, until: float) -> None:
        self.home = home
        self.key = key
        self.pid = pid
        self.port = port
        self.until = until  # what this process last recorded in run/fileserver.json


_shared: Dict[Path, _SharedEndpoint] = {}
_children: "list[object]" = []  # Popen objects of servers this process started: reaped when they exit


def _proof(key: bytes, nonce: str) -> str:
    """The probe's answer, under a key derived from the home's: a message without ``\n`` is never
    a file signature's (``"<path>\n<se>"``), so the probe is no oracle for signing URLs."""
    probe_key = hmac.new(key, b"batchai-compat-fileserver-probe", sha256).digest()
    return hmac.new(probe_key, nonce.encode(), sha256).hexdigest()


def _answers_as_ours(port: int, pid: int, key: bytes) -> bool:
    """Whether the server on ``port`` holds this home's key (it signs a fresh nonce) and is ``pid``:
    a recycled pid, a port some other program now listens on, or another home's server all fail."""
    import http.client

    nonce = secrets.token_hex(16)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("GET", f"/?{_PING_PARAM}={nonce}")
        response = conn.getresponse()
        response.read()
        proof = response.getheader(_PROOF_HEADER) or ""
        return (response.status == HTTPStatus.NO_CONTENT and response.getheader(_PID_HEADER) == str(pid)
                and hmac.compare_digest(proof, _proof(key, nonce)))
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's: not our server
        return False
    try:  # an exited server nobody reaped yet (a zombie; e.g. a container's PID 1 that never waits)
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _read_state(run: Path) -> Optional[Dict[str, float]]:
    try:
        with open(run / STATE_FILE, encoding="utf-8") as fh:
            import json

            data = json.load(fh)
        return {"pid": int(data["pid"]), "port": int(data["port"]), "until": float(data["until"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(run: Path, pid: int, port: int, until: float) -> None:
    """``run/fileserver.json``, mode 0600, replaced atomically (readers never see half a file)."""
    import json

    tmp = run / f".{STATE_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"pid": pid, "port": port, "until": until}, fh)
        os.replace(tmp, run / STATE_FILE)
    finally:
        tmp.unlink(missing_ok=True)


class _HomeLock:
    """``flock`` on ``run/fileserver.lock``: discovery, start-up and the server's exit decision are
    serialised per home, so concurrent ``batchai`` processes end with one server."""

    def __init__(self, run: Path) -> None:
        self._path = run / LOCK_FILE
        self._fd = -1

    def __enter__(self) -> "_HomeLock":
        import fcntl

        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)  # releases the lock


def _shared_endpoint(home: Path, deadline: datetime) -> _SharedEndpoint:
    """The home's detached server, alive until at least ``deadline`` (+ :data:`MIN_LINGER`): the one
    ``run/fileserver.json`` names if it proves to be ours, else a new one."""
    until = max(deadline.timestamp(), time.time() + MIN_LINGER)
    with _lock:
        known = _shared.get(home)
        if known is not None and known.until >= until and _pid_alive(known.pid):
            return known
        key = _load_or_create_key(home)
        run = run_dir(home)
        with _HomeLock(run):
            state = _read_state(run)
            if (state is not None and _pid_alive(int(state["pid"]))
                    and _answers_as_ours(int(state["port"]), int(state["pid"]), key)):
                pid, port = int(state["pid"]), int(state["port"])
                until = max(until, state["until"])
                if until > state["until"]:
                    _write_state(run, pid, port, until)
            else:
                if state is not None:
                    log.debug("replacing a stale %s (pid %s, port %s)", STATE_FILE, state["pid"], state["port"])
                pid, port = _start_shared_server(home, run, key, until)
                _write_state(run, pid, port, until)
        endpoint = _shared[home] = _SharedEndpoint(home, key, pid, port, until)
        return endpoint


def _start_shared_server(home: Path, run: Path, key: bytes, until: float) -> Tuple[int, int]:
    """Spawn ``python -m batchai_compat._fileserver`` in its own session; it serves the listening
    socket bound here (so the port is known at once, and connections queue until it accepts)."""
    import subprocess
    import sys

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(_FileServer.request_queue_size)
        port = int(sock.getsockname()[1])
        log_fd = os.open(run / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o600)
        os.fchmod(log_fd, 0o600)
        env = dict(os.environ)
        package_parent = str(Path(__file__).resolve().parent.parent)  # importable from any cwd
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "batchai_compat._fileserver", "--home", str(home),
                 "--fd", str(sock.fileno()), "--until", repr(until)],
                stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd, pass_fds=(sock.fileno(),),
                start_new_session=True, cwd="/", env=env)
        finally:
            os.close(log_fd)
    finally:
        sock.close()
    if not _answers_as_ours(port, proc.pid, key):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the shared file server did not start; see {run / LOG_FILE}")
    log.debug("shared file server for %s: pid %d, 127.0.0.1:%d", home, proc.pid, port)
    _children[:] = [child for child in _children if child.poll() is None]  # type: ignore[attr-defined]
    _children.append(proc)
    return proc.pid, port


class _SharedHandler(_Handler):
    """:class:`_Handler` plus the identity probe ``GET /?batchai-compat-ping=<nonce>``: ``204`` with
    the nonce's :func:`_proof` and the server's pid (files are served unchanged)."""

    def _serve(self, send_body: bool) -> None:
        split = urlsplit(self.path)
        nonce = parse_qs(split.query).get(_PING_PARAM, [])
        if split.path == "/" and len(nonce) == 1 and re.fullmatch(r"[0-9a-f]{16,128}", nonce[0]):
            self.send_response(HTTPStatus.NO_CONTENT)
            self.send_header(_PROOF_HEADER, _proof(self.server.key, nonce[0]))
            self.send_header(_PID_HEADER, str(os.getpid()))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super()._serve(send_body)


def _in_flight(server: _FileServer) -> bool:
    with server.connections_lock:
        return any(c.busy and not c.evicted for c in server.connections.values())


def serve_shared(home: Path, fd: int, until: float) -> None:
    """The detached server's main loop: serve ``fd`` until ``now > until`` with nothing in flight.

    ``until`` grows with every signing recorded in ``run/fileserver.json`` while the file names this
    process; the exit decision is taken under the home's lock, so a signer either extends ``until``
    before it or finds the file gone and starts a new server.
    """
    home = home.resolve()
    run = run_dir(home)
    sock = socket.socket(fileno=fd)
    server = _FileServer(sock.getsockname(), _SharedHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.home = home
    server.key = _load_or_create_key(home)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="batchai-compat-fileserver", daemon=True)
    thread.start()
    try:
        while True:
            time.sleep(CHECK_INTERVAL)
            with _HomeLock(run):
                state = _read_state(run)
                mine = state is not None and int(state["pid"]) == os.getpid()
                if mine and state is not None:
                    until = max(until, state["until"])
                if time.time() > until and not _in_flight(server):
                    if mine:
                        (run / STATE_FILE).unlink(missing_ok=True)
                    server.shutdown()
                    break
    finally:
        server.server_close()


def stop_shared_server(home: Optional[os.PathLike] = None, timeout: float = 30.0) -> bool:
    """Stop the home's shared server if ``run/fileserver.json`` names one that proves to be ours
    (test teardown; its URLs stop working). True if one was stopped."""
    import signal

    root = compat_home(home).resolve()
    run = run_dir(root)
    with _lock:
        _shared.pop(root, None)
    state = _read_state(run)
    if state is None or not _pid_alive(int(state["pid"])):
        return False
    pid = int(state["pid"])
    if not _answers_as_ours(int(state["port"]), pid, _load_or_create_key(root)):
        return False
    os.kill(pid, signal.SIGTERM)
    with _HomeLock(run):
        current = _read_state(run)
        if current is not None and int(current["pid"]) == pid:
            (run / STATE_FILE).unlink(missing_ok=True)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        try:  # our child when this process started it: reap it
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                break
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return True


def _main(argv: Optional["list[str]"] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m batchai_compat._fileserver",
                                     description="The shared, detached file server of a compat home.")
    parser.add_argument("--home", required=True)
    parser.add_argument("--fd", type=int, required=True, help="an inherited listening socket on 127.0.0.1")
    parser.add_argument("--until", type=float, required=True, help="serve at least until this UNIX time")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve_shared(Path(args.home), args.fd, args.until)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
