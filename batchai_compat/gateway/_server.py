"""The HTTP server: cheroot's threaded WSGI server, bounded and with timeouts.

cheroot (the CherryPy project's server) reads each request in a worker of a fixed pool, with a
socket timeout, a cap on header size and on body size, and keep-alive connections parked in a
selector instead of a worker: a slow or half-sent request holds one worker for at most ``timeout``
seconds and never the others. ``stop()`` closes the listening socket and lets in-flight requests
finish (up to ``shutdown_timeout`` seconds).
"""

from __future__ import annotations

from typing import Any, Optional

from cheroot import wsgi


class Server:
    def __init__(self, app: Any, host: str, port: int, *, threads: int = 16, timeout: float = 30.0,
                 max_body_bytes: int = 4 * 1024 * 1024, shutdown_timeout: float = 60.0,
                 tls_cert: Optional[str] = None, tls_key: Optional[str] = None) -> None:
        self._server = wsgi.Server(
            (host, port), app, numthreads=max(1, threads), max=-1,
            request_queue_size=64, timeout=int(max(1, timeout)), shutdown_timeout=int(max(1, shutdown_timeout)),
            server_name="batchai-gateway", accepted_queue_size=256,
        )
        # The app answers bodies over its own limit with ARM's 413 JSON; cheroot's own (plain-text) limit
        # stays above it so the app sees the Content-Length first, and still bounds chunked bodies.
        self._server.max_request_body_size = max_body_bytes * 2 + 65536
        self._server.max_request_header_size = 64 * 1024
        if tls_cert:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            self._server.ssl_adapter = BuiltinSSLAdapter(tls_cert, tls_key)

    def prepare(self) -> None:
        self._server.prepare()

    @property
    def host(self) -> str:
        return str(self._server.bind_addr[0])

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    def serve(self) -> None:
        self._server.serve()

    def stop(self) -> None:
        self._server.stop()
