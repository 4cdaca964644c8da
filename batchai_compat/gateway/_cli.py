"""Command line, start-up and clean shutdown of the gateway.

The first line on stdout is exactly ``listening on http://HOST:PORT/`` (``https`` with TLS), flushed,
so that a parent process can read the address when ``--port 0`` picked one. Everything else goes
to stderr; the token never does (only the path of the file holding it).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batchai-gateway",
        description="Serve the Azure Batch AI REST API (2018-05-01, 2018-03-01, 2017-09-01-preview) from a "
                    "batchai_compat backend, for the original SDKs.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; loopback only "
                                                             "unless --allow-remote)")
    parser.add_argument("--port", type=int, default=0, help="port (0 = pick a free one; default 0)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (then anyone who can reach it and has the token can "
                             "run jobs as this user)")
    parser.add_argument("--home", help="batchai_compat home (the local backend's state; the token file and the "
                                       "access log go here). Default: $BATCHAI_COMPAT_HOME or ~/.batchai_compat")
    parser.add_argument("--backend", default=None,
                        help="backend name (local, azureml, ...); default: as the Python client chooses "
                             "(BATCHAI_COMPAT_BACKEND, config file, local)")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="a backend option, as the client's keyword arguments (value parsed as JSON when it "
                             "is JSON, else a string); repeatable")
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--token", help="the bearer token clients must send (visible to other local users in the "
                                       "process list: prefer --token-file)")
    token.add_argument("--token-file", help="a file whose first line is the bearer token")
    parser.add_argument("--tls-cert", help="PEM certificate: serve https (azure-core clients need it)")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--threads", type=int, default=16, help="worker threads (default 16)")
    parser.add_argument("--max-body-bytes", type=int, default=4 * 1024 * 1024,
                        help="largest request body accepted (default 4 MiB; larger gets 413)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds a connection may stay silent while a request is read or written (default 30)")
    parser.add_argument("--retry-after", type=int, default=1,
                        help="Retry-After seconds in long-running operation answers (default 1)")
    parser.add_argument("--shutdown-timeout", type=float, default=60.0,
                        help="seconds in-flight requests get to finish on SIGTERM/SIGINT (default 60)")
    parser.add_argument("--access-log", help="access log path (default <home>/gateway-access.log; '-' disables)")
    return parser


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _options(pairs: List[str]) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option wants KEY=VALUE, not {pair!r}")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def _token(args: argparse.Namespace, home: Path) -> str:
    if args.token is not None:
        if not args.token.strip():
            raise SystemExit("batchai-gateway: --token must not be empty")
        return str(args.token.strip())
    if args.token_file:
        try:
            text = Path(args.token_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SystemExit(f"batchai-gateway: cannot read --token-file: {exc.strerror}") from None
        if not text or not text[0].strip():
            raise SystemExit("batchai-gateway: --token-file is empty")
        return text[0].strip()
    path = home / "gateway.token"
    token = secrets.token_urlsafe(32)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(str(path), 0o600)
    sys.stderr.write(f"batchai-gateway: a new bearer token is in {path}\n")
    return token


def run(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if not is_loopback(args.host):
        if not args.allow_remote:
            sys.stderr.write(f"batchai-gateway: refusing to bind {args.host}: not a loopback address "
                             "(pass --allow-remote to serve other machines)\n")
            return 2
        sys.stderr.write(f"batchai-gateway: WARNING: binding {args.host}, a non-loopback address: anyone who can "
                         "reach it and holds the token can create and run jobs as this user\n")
    if bool(args.tls_cert) != bool(args.tls_key):
        sys.stderr.write("batchai-gateway: --tls-cert and --tls-key go together\n")
        return 2

    from batchai_compat import _home
    from batchai_compat.backends.registry import get_backend

    home = _home.compat_home(args.home).resolve()
    os.environ["BATCHAI_COMPAT_HOME"] = str(home)  # the backend, its file server and the config file agree
    try:
        options = _options(args.option)
    except ValueError as exc:
        sys.stderr.write(f"batchai-gateway: {exc}\n")
        return 2
    backend_name = args.backend
    if args.home is not None and (backend_name or "local") == "local" and "home" not in options:
        options["home"] = str(home)
    token = _token(args, home)
    try:
        backend = get_backend(backend_name, **options)
    except (TypeError, ValueError, ImportError) as exc:
        sys.stderr.write(f"batchai-gateway: cannot start the backend: {exc}\n")
        return 2

    from batchai_compat.gateway._accesslog import AccessLog
    from batchai_compat.gateway._app import Gateway
    from batchai_compat.gateway._server import Server

    log_path = None if args.access_log == "-" else (args.access_log or str(home / "gateway-access.log"))
    access_log = AccessLog(log_path)
    scheme = "https" if args.tls_cert else "http"
    app = Gateway(backend, token, "http://placeholder", access_log=access_log,
                  max_body_bytes=args.max_body_bytes, retry_after=args.retry_after)
    server = Server(app, args.host, args.port, threads=args.threads, timeout=args.timeout,
                    max_body_bytes=args.max_body_bytes, shutdown_timeout=args.shutdown_timeout,
                    tls_cert=args.tls_cert, tls_key=args.tls_key)
    server.prepare()
    host = server.host
    shown = f"[{host}]" if ":" in host else host
    app.base_url = f"{scheme}://{shown}:{server.port}"

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=server.serve, name="batchai-gateway-serve", daemon=True)
    thread.start()
    sys.stdout.write(f"listening on {app.base_url}/\n")
    sys.stdout.flush()
    if log_path:
        sys.stderr.write(f"batchai-gateway: access log {log_path}\n")
    sys.stderr.flush()
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                sys.stderr.write("batchai-gateway: the server stopped unexpectedly\n")
                return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    server.stop()
    thread.join(args.shutdown_timeout)
    access_log.close()
    try:
        backend.close()
    except Exception as exc:  # noqa: BLE001 - shutting down; say what failed, exit cleanly
        sys.stderr.write(f"batchai-gateway: closing the backend: {type(exc).__name__}\n")
    sys.stderr.write("batchai-gateway: stopped\n")
    return 0
