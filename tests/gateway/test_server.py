"""The gateway process: start-up line, tokens, loopback-only binding, TLS, concurrency, slow clients,
clean shutdown on SIGTERM with a request in flight, and the WSGI app in-process."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from batchai_compat.gateway._cli import is_loopback
from tests.gateway.conftest import SUB, arm_path, start_gateway

V = {"api-version": "2018-05-01"}


def _ops(gateway, session=requests, **kwargs):
    return session.get(gateway.url + "/providers/Microsoft.BatchAI/operations", params=V, headers=gateway.headers(),
                       timeout=60, **kwargs)


def test_first_line_and_clean_exit(gateway):
    parts = urlsplit(gateway.url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.port and parts.path == ""
    assert _ops(gateway).status_code == 200
    assert gateway.stop() == 0
    assert gateway.proc.stdout.read() == ""  # nothing after the first line
    assert "stopped" in gateway.stderr_text()


def test_default_token_is_random_and_written_0600(tmp_path):
    home = tmp_path / "home"
    running = start_gateway(home, "--token-file", "/dev/null", expect_start=False)
    assert running.proc.wait(60) != 0  # an empty token file is refused
    assert "--token-file is empty" in running.stderr_text()
    proc = subprocess.Popen([sys.executable, "-m", "batchai_compat.gateway", "--port", "0", "--home", str(home)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        token_path = home / "gateway.token"
        token = token_path.read_text().strip()
        assert len(token) >= 32 and stat.S_IMODE(token_path.stat().st_mode) == 0o600
        url = line.strip()[len("listening on "):].rstrip("/")
        ok = requests.get(url + "/providers/Microsoft.BatchAI/operations", params=V,
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0
    assert str(token_path) in err and token not in err and token not in out + line


def test_token_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file-0123456789\nignored second line\n")
    running = start_gateway(tmp_path / "home", "--token-file", str(token_file), token="from-a-file-0123456789")
    try:
        assert _ops(running).status_code == 200
        wrong = requests.get(running.url + "/providers/Microsoft.BatchAI/operations", params=V,
                             headers={"Authorization": "Bearer ignored second line"}, timeout=60)
        assert wrong.status_code == 401
    finally:
        assert running.stop() == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com"])
def test_non_loopback_bind_refused_without_the_flag(tmp_path, host):
    running = start_gateway(tmp_path / "home", "--host", host, expect_start=False)
    assert running.proc.wait(60) == 2
    assert running.proc.stdout.read() == ""
    assert "refusing to bind" in running.stderr_text() and "--allow-remote" in running.stderr_text()


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.1") and not is_loopback("host.example")


def test_tls(gateway_tls):
    assert gateway_tls.url.startswith("https://127.0.0.1:")
    assert _ops(gateway_tls, verify=str(gateway_tls.ca_path)).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        _ops(gateway_tls)  # an untrusted certificate is refused by the client
    plain = "http://" + gateway_tls.url[len("https://"):]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(plain + "/providers/Microsoft.BatchAI/operations", params=V, headers=gateway_tls.headers(),
                     timeout=60)


def test_concurrent_clients(gateway):
    errors: list = []

    def worker(index: int) -> None:
        try:
            with requests.Session() as session:
                rg = f"rg-c{index % 4}"
                ws = gateway.url + arm_path(rg, "workspaces", f"ws{index}")
                answer = session.put(ws, params=V, headers=gateway.headers(), json={"location": "eastus"}, timeout=120)
                assert answer.status_code == 200, answer.text
                for round_ in range(5):
                    exp = session.put(ws + f"/experiments/e{round_}", params=V, headers=gateway.headers(), timeout=120)
                    assert exp.status_code == 200, exp.text
                    got = session.get(ws, params=V, headers=gateway.headers(), timeout=120)
                    assert got.status_code == 200 and got.json()["name"] == f"ws{index}"
        except BaseException as exc:  # collected and asserted in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors[:3]
    listed = requests.get(gateway.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/workspaces", params=V,
                          headers=gateway.headers(), timeout=60).json()
    assert len(listed["value"]) == 16


def test_half_sent_request_does_not_block_others_and_times_out(tmp_path):
    running = start_gateway(tmp_path / "home", "--timeout", "2", "--threads", "4")
    try:
        port = urlsplit(running.url).port
        stalled = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(3)]
        for sock in stalled:
            sock.sendall(b"GET /providers/Microsoft.BatchAI/operations?api-version=2018-05-01 HTTP/1.1\r\nHost: x\r\n")
        for _ in range(10):  # three of four workers may be stuck reading; the others still serve
            assert _ops(running).status_code == 200
        for sock in stalled:  # the server gives up on the silent clients (cheroot's socket timeout)
            data = b""
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            sock.close()
            assert b"200 OK" not in data
        assert _ops(running).status_code == 200
    finally:
        assert running.stop() == 0


def test_sigterm_lets_the_request_in_flight_finish(tmp_path):
    running = start_gateway(tmp_path / "home")
    port = urlsplit(running.url).port
    body = json.dumps({"location": "eastus", "tags": {"during": "shutdown"}}).encode()
    head = (f"PUT {arm_path('rg-term', 'workspaces', 'ws')}?api-version=2018-05-01 HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {running.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head + body[:10])
    # The request is being read by a worker when the signal arrives; the rest of the body follows.
    assert _ops(running).status_code == 200  # (the server is up and has taken the first connection)
    running.proc.send_signal(signal.SIGTERM)
    threading.Event().wait(0.5)
    sock.sendall(body[10:])
    answer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["tags"] == {"during": "shutdown"}
    assert running.proc.wait(90) == 0
    with pytest.raises(requests.exceptions.ConnectionError):
        _ops(running)


def test_wsgi_app_in_process(tmp_path):
    """The app is plain WSGI: callable without a server (as the benchmarks' comparisons do)."""
    from batchai_compat.backends.local import LocalBackend
    from batchai_compat.gateway._app import Gateway

    backend = LocalBackend(home=tmp_path / "home")
    app = Gateway(backend, "in-process-token", "http://127.0.0.1:1")
    captured = {}

    def start_response(status, headers):
        captured["status"], captured["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "PUT", "REQUEST_URI": arm_path("rg", "workspaces", "ws") + "?api-version=2018-05-01",
               "HTTP_AUTHORIZATION": "Bearer in-process-token", "CONTENT_LENGTH": "22",
               "wsgi.input": io.BytesIO(b'{"location": "eastus"}')}
    body = b"".join(app(environ, start_response))
    assert captured["status"] == "200 OK" and json.loads(body)["name"] == "ws"
    assert captured["headers"]["Content-Type"] == "application/json; charset=utf-8"
    backend.close()
    assert not os.path.exists(Path(tmp_path) / "home" / "gateway-access.log")


def test_backend_options_reach_the_backend(tmp_path):
    running = start_gateway(tmp_path / "home", "-o", 'quotas={"clusters": 7, "dedicated": 70, "lowpriority": 700}',
                            "--option", "max_cluster_nodes=3")
    try:
        usages = requests.get(running.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/locations/eastus/usages",
                              params=V, headers=running.headers(), timeout=60).json()["value"]
        assert {u["limit"] for u in usages} == {7, 70, 700}
    finally:
        assert running.stop() == 0


@pytest.mark.parametrize("args,message", [(["-o", "no_such_option=1"], "unknown LocalBackend options"),
                                          (["-o", "novalue"], "KEY=VALUE"),
                                          (["--backend", "nosuchbackend"], "Unknown batchai_compat backend")])
def test_bad_backend_arguments_exit_2(tmp_path, args, message):
    running = start_gateway(tmp_path / "home", *args, expect_start=False)
    assert running.proc.wait(60) == 2
    assert message in running.stderr_text() and running.proc.stdout.read() == ""


def test_backend_keeps_the_gateways_identity(tmp_path):
    """The backend is attached once with ``None`` (its own configured authentication, e.g. azureml's Azure CLI
    login); the placeholder credentials of the per-subscription clients never reach it."""
    from batchai_compat.backends.local import LocalBackend
    from batchai_compat.gateway._app import Gateway

    seen = []

    class Recording(LocalBackend):
        def attach_client(self, credentials, subscription_id):
            seen.append(credentials)

    backend = Recording(home=tmp_path / "home")
    app = Gateway(backend, "t", "http://127.0.0.1:1")
    for version in ("2018-05-01", "2018-03-01", "2017-09-01-preview"):
        app.client(version, SUB)
    assert seen == [None]
    backend.close()


def test_token_starting_with_a_dash(tmp_path):
    running = start_gateway(tmp_path / "home", token="-starts-with-a-dash-0123456789")
    try:
        assert _ops(running).status_code == 200
    finally:
        assert running.stop() == 0
