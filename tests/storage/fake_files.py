"""A loopback stand-in for the Azure Files REST endpoint (there is no Azure Files emulator).

It records every request the v12 ``azure-storage-file-share`` client sends (method, path, query,
headers, body size) so tests can assert the exact wire calls, and answers just enough of the REST
API (shares, directories, create file + put range, get/head file, list, delete) with an in-memory
tree for the client to complete its calls. It checks the presence and scheme of the SharedKey
Authorization header, not the signature itself. It is not an implementation of Azure Files
semantics beyond what the shared storage tests exercise.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape


@dataclass
class Recorded:
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]  # lower-cased names
    body_size: int


@dataclass
class _Tree:
    shares: Dict[str, Dict[str, Optional[bytearray]]] = field(default_factory=dict)  # path -> None (dir) / bytes


class FakeFileShareServer:
    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.tree = _Tree()
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


def _headers_common(etag: str = '"0x1"') -> Dict[str, str]:
    return {"ETag": etag, "Last-Modified": formatdate(usegmt=True), "x-ms-request-id": "fake",
            "x-ms-version": "2020-02-10", "Date": formatdate(usegmt=True)}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeFileShareServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    # -- plumbing ------------------------------------------------------------------------------------
    def _parse(self) -> Tuple[str, List[str], Dict[str, str], bytes]:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        segments = [unquote(s) for s in parts.path.split("/") if s]
        with self.fake.lock:
            self.fake.requests.append(Recorded(self.command, unquote(parts.path), query,
                                               {k.lower(): v for k, v in self.headers.items()}, len(body)))
        return self.command, segments, query, body

    def _send(self, status: int, headers: Optional[Dict[str, str]] = None, body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in {**_headers_common(), **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
                f"<Message>{escape(message)}</Message></Error>").encode()
        self._send(status, {"x-ms-error-code": code, "Content-Type": "application/xml"}, body)

    def _handle(self) -> None:
        method, segments, query, body = self._parse()
        if not self.headers.get("Authorization", "").startswith("SharedKey "):
            return self._error(403, "AuthenticationFailed", "no SharedKey authorization")
        if not segments:
            return self._error(400, "InvalidUri", "no share")
        share, path = segments[0], "/".join(segments[1:])
        tree = self.fake.tree.shares
        with self.fake.lock:
            if query.get("restype") == "share":
                return self._share(method, share, tree)
            if share not in tree:
                return self._error(404, "ShareNotFound", "The specified share does not exist.")
            entries = tree[share]
            if query.get("restype") == "directory":
                return self._directory(method, path, query, entries)
            return self._file(method, path, query, body, entries)

    do_GET = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815

    # -- resources -----------------------------------------------------------------------------------
    def _share(self, method: str, share: str, tree: Dict[str, Dict[str, Optional[bytearray]]]) -> None:
        if method == "PUT":
            if share in tree:
                return self._error(409, "ShareAlreadyExists", "The specified share already exists.")
            tree[share] = {"": None}
            return self._send(201)
        if share not in tree:
            return self._error(404, "ShareNotFound", "The specified share does not exist.")
        if method == "DELETE":
            del tree[share]
            return self._send(202)
        return self._send(200, {"x-ms-share-quota": "5120"})

    def _directory(self, method: str, path: str, query: Dict[str, str],
                   entries: Dict[str, Optional[bytearray]]) -> None:
        parent = path.rpartition("/")[0]
        if method == "PUT":
            if path in entries:
                return self._error(409, "ResourceAlreadyExists", "The specified resource already exists.")
            if entries.get(parent, b"") is not None:
                return self._error(404, "ParentNotFound", "The specified parent path does not exist.")
            entries[path] = None
            return self._send(201)
        if path not in entries or entries[path] is not None:
            return self._error(404, "ResourceNotFound", "The specified resource does not exist.")
        if method == "DELETE":
            if any(p != path and p.startswith(path + "/") for p in entries):
                return self._error(409, "DirectoryNotEmpty", "The specified directory is not empty.")
            del entries[path]
            return self._send(202)
        if query.get("comp") == "list":
            return self._list(path, query, entries)
        return self._send(200)

    def _list(self, path: str, query: Dict[str, str], entries: Dict[str, Optional[bytearray]]) -> None:
        prefix = query.get("prefix", "")
        base = path + "/" if path else ""
        children = sorted(
            (p[len(base):], data) for p, data in entries.items()
            if p and p.startswith(base) and "/" not in p[len(base):] and p[len(base):].startswith(prefix))
        xml = ['<?xml version="1.0" encoding="utf-8"?>',
               f'<EnumerationResults ServiceEndpoint="{self.fake.endpoint}/" ShareName="x" DirectoryPath="{path}">',
               "<Entries>"]
        for name, data in children:
            if data is None:
                xml.append(f"<Directory><Name>{escape(name)}</Name><Properties /></Directory>")
            else:
                xml.append(f"<File><Name>{escape(name)}</Name><Properties><Content-Length>{len(data)}"
                           "</Content-Length></Properties></File>")
        xml.append("</Entries><NextMarker /></EnumerationResults>")
        self._send(200, {"Content-Type": "application/xml"}, "".join(xml).encode())

    def _file(self, method: str, path: str, query: Dict[str, str], body: bytes,
              entries: Dict[str, Optional[bytearray]]) -> None:
        parent = path.rpartition("/")[0]
        if method == "PUT" and query.get("comp") == "range":
            if not isinstance(entries.get(path), bytearray):
                return self._error(404, "ResourceNotFound", "The specified resource does not exist.")
            match = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("x-ms-range", ""))
            if not match:
                return self._error(400, "InvalidRange", "bad range")
            start = int(match.group(1))
            data = entries[path]
            assert data is not None
            data[start:start + len(body)] = body
            return self._send(201)
        if method == "PUT":
            if entries.get(parent, b"") is not None:
                return self._error(404, "ParentNotFound", "The specified parent path does not exist.")
            if entries.get(path, b"") is None:
                return self._error(409, "ResourceTypeMismatch", "The resource is a directory.")
            entries[path] = bytearray(int(self.headers.get("x-ms-content-length", "0")))
            return self._send(201)
        data = entries.get(path)
        if not isinstance(data, bytearray):
            return self._error(404, "ResourceNotFound", "The specified resource does not exist.")
        if method == "DELETE":
            del entries[path]
            return self._send(202)
        headers = {"x-ms-type": "File", "Content-Type": "application/octet-stream"}
        if method == "HEAD":
            self.send_response(200)
            for name, value in {**_headers_common(), **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return None
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("x-ms-range") or self.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
            if start >= len(data):
                return self._error(416, "InvalidRange", "The range specified is invalid.")
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self._send(206, headers, bytes(data[start:end + 1]))
        return self._send(200, headers, bytes(data))
