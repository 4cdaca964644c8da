"""HTTP(S) front end: a ThreadingHTTPServer bound to 127.0.0.1, a regex router and the request log."""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Pattern, Tuple, cast
from urllib.parse import parse_qs, unquote, urlsplit

from .util import HttpError, load_json

#: ``{WS}`` in a route template: the ARM id of a workspace.
WS = (r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
      r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)")


@dataclass
class RequestRecord:
    """One line of :attr:`AzureMLEmulator.requests`."""
    method: str
    path: str
    status: int
    route: Optional[str]
    query: str = ""
    duration: float = 0.0
    scheme: str = "http"

    def __iter__(self):  # allows ``method, path, status = record``
        return iter((self.method, self.path, self.status))


@dataclass
class Request:
    method: str
    path: str                     # URL-decoded path, no query
    raw_path: str
    query: Dict[str, List[str]]
    headers: Any
    body: bytes
    params: Dict[str, str] = field(default_factory=dict)
    base_url: str = ""

    def arg(self, name: str, default: Optional[str] = None) -> Optional[str]:
        for key, values in self.query.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return default

    @property
    def json(self) -> Any:
        return load_json(self.body)


@dataclass
class Response:
    status: int = 200
    body: Any = None               # dict/list → JSON; bytes → raw; None → empty
    headers: Dict[str, str] = field(default_factory=dict)
    content_type: Optional[str] = None


Handler = Callable[[Request], Any]


class Router:
    def __init__(self) -> None:
        self.routes: List[Tuple[str, Pattern[str], Handler, str]] = []

    def add(self, method: str, template: str, handler: Handler, name: Optional[str] = None) -> None:
        pattern = re.compile("^" + template.replace("{WS}", WS) + "/?$", re.IGNORECASE)
        self.routes.append((method.upper(), pattern, handler, name or f"{method.upper()} {template}"))

    def match(self, method: str, path: str) -> Tuple[Optional[Handler], Dict[str, str], Optional[str], bool]:
        path_matched = False
        for route_method, pattern, handler, name in self.routes:
            m = pattern.match(path)
            if not m:
                continue
            path_matched = True
            if route_method == method:
                return handler, {k: unquote(v) for k, v in m.groupdict().items() if v is not None}, name, True
        return None, {}, None, path_matched


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AzureMLEmulator/1.0"
    emulator: Any = None          # set on the subclass built per server
    scheme = "http"

    def log_message(self, fmt: str, *args: Any) -> None:  # silence stderr access log
        pass

    def _dispatch(self) -> None:
        started = time.monotonic()
        split = urlsplit(self.path)
        path = split.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not length and "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        address = cast(Tuple[str, int], self.server.server_address)
        host, port = address[0], address[1]
        req = Request(self.command.upper(), unquote(path), path, parse_qs(split.query, keep_blank_values=True),
                      self.headers, body, base_url=f"{self.scheme}://{host}:{port}")
        handler, params, route_name, path_matched = self.emulator.router.match(req.method, path)
        req.params = params
        try:
            if handler is None:
                raise HttpError(405 if path_matched else 404, "NoRoute" if not path_matched else "MethodNotAllowed",
                                f"The Azure ML emulator has no route for {req.method} {path}")
            result = handler(req)
            resp = result if isinstance(result, Response) else Response(200, result)
        except HttpError as err:
            resp = Response(err.status, err.body(), dict(err.headers))
        except Exception as exc:  # pragma: no cover - a bug in the emulator itself
            self.emulator._record_error(req, exc, traceback.format_exc())
            resp = Response(500, {"error": {"code": "EmulatorError", "message": repr(exc)}})
        # Log before answering, so a client that saw the response always finds its request in the log.
        self.emulator._record(RequestRecord(req.method, path, resp.status, route_name, split.query,
                                            time.monotonic() - started, self.scheme))
        self._send(resp)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
            if size == 0:
                self.rfile.readline()
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        return b"".join(chunks)

    def _send(self, resp: Response) -> None:
        if isinstance(resp.body, (bytes, bytearray)):
            payload = bytes(resp.body)
            ctype = resp.content_type or "application/octet-stream"
        elif resp.body is None:
            payload = b""
            ctype = resp.content_type or "application/json"
        else:
            payload = json.dumps(resp.body).encode("utf-8")
            ctype = resp.content_type or "application/json; charset=utf-8"
        self.send_response(resp.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", "emu-request")
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class LoopbackServer:
    """One listening socket (HTTP or HTTPS) on 127.0.0.1 serving ``emulator.router``."""

    def __init__(self, emulator: Any, ssl_context: Optional[ssl.SSLContext] = None, port: int = 0):
        scheme = "https" if ssl_context else "http"
        handler_cls = type("EmuHandler", (_Handler,), {"emulator": emulator, "scheme": scheme})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler_cls)
        self.httpd.daemon_threads = True
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True,
                                                      do_handshake_on_connect=False)
        self.scheme = scheme
        self.port = self.httpd.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="aml-emulator-" + scheme, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
