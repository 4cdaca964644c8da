"""Fixtures of the gateway suites: a real gateway subprocess on 127.0.0.1.

``gateway`` starts ``python -m batchai_compat.gateway --port 0 --home <tmp> --token <t>``, reads its
first stdout line (``listening on http://127.0.0.1:PORT/``) and yields a :class:`RunningGateway`
(``.url`` without the trailing slash, ``.token``, ``.home``, ``.proc``, ``.log_path``, plus
``.headers()`` and ``.stderr_text()``). At the end it sends SIGTERM and asserts exit status 0.
``gateway_tls`` is the same over https with a self-signed certificate for 127.0.0.1 (``.ca_path``
is the certificate to trust); azure-core's bearer-token policy refuses plain http.
``start_gateway(tmp_path, *extra_args)`` starts one with other arguments (a test stops it).
"""

from __future__ import annotations

import datetime
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, List, Optional

import pytest

START_TIMEOUT = 120.0  # a loaded 2-core machine imports msrest/cheroot slowly
STOP_TIMEOUT = 90.0


class RunningGateway:
    """A gateway subprocess and what a test needs to talk to it."""

    def __init__(self, proc: subprocess.Popen, url: str, token: str, home: Path, stderr_path: Path,
                 ca_path: Optional[Path] = None) -> None:
        self.proc = proc
        self.url = url.rstrip("/")
        self.token = token
        self.home = home
        self.log_path = home / "gateway-access.log"
        self.stderr_path = stderr_path
        self.ca_path = ca_path
        self.stdout_rest: List[str] = []

    def headers(self, **extra: str) -> Dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        headers.update(extra)
        return headers

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise


def _read_first_line(proc: subprocess.Popen, timeout: float, stderr_path: Path) -> str:
    line: List[str] = []

    def read() -> None:
        assert proc.stdout is not None
        line.append(proc.stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not line or not line[0]:
        code = proc.poll()
        if code is None:
            proc.kill()
            proc.wait(10)
            what = f"did not print its address within {timeout} s"
        else:
            what = f"exited with {code} before its first line"
        stderr = stderr_path.read_text(encoding="utf-8", errors="replace") if stderr_path.exists() else ""
        raise RuntimeError(f"the gateway {what}; stderr:\n{stderr[-4000:]}")
    return line[0].rstrip("\n")


def start_gateway(home: Path, *args: str, token: Optional[str] = None, env: Optional[Dict[str, str]] = None,
                  expect_start: bool = True) -> RunningGateway:
    """Start ``python -m batchai_compat.gateway`` with ``--home home --port 0`` and ``args``."""
    home.mkdir(parents=True, exist_ok=True)
    token = token if token is not None else secrets.token_urlsafe(24)
    stderr_path = home.parent / (home.name + "-gateway.stderr")
    command = [sys.executable, "-m", "batchai_compat.gateway", "--port", "0", "--home", str(home)]
    if "--token-file" not in args:
        command += [f"--token={token}"]  # "--token -x..." would be read as an option
    command += list(args)
    full_env = dict(os.environ)
    full_env["BATCHAI_COMPAT_HOME"] = str(home)
    full_env.pop("BATCHAI_COMPAT_BACKEND", None)
    full_env.update(env or {})
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                text=True, env=full_env)
    ca = None
    if "--tls-cert" in args:
        ca = Path(args[list(args).index("--tls-cert") + 1])
    if not expect_start:
        return RunningGateway(proc, "", token, home, stderr_path, ca)
    first = _read_first_line(proc, START_TIMEOUT, stderr_path)
    prefix = "listening on "
    assert first.startswith(prefix), first
    return RunningGateway(proc, first[len(prefix):], token, home, stderr_path, ca)


def make_self_signed(directory: Path) -> "tuple[Path, Path]":
    """A self-signed certificate for 127.0.0.1/localhost and its key (PEM files, key 0600)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "gateway-cert.pem", directory / "gateway-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(str(key_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


def _stopped(gateway: RunningGateway) -> None:
    code = gateway.stop()
    assert code == 0, f"the gateway exited with {code}; stderr:\n{gateway.stderr_text()[-4000:]}"


@pytest.fixture
def gateway(tmp_path: Path):
    running = start_gateway(tmp_path / "home")
    yield running
    _stopped(running)


@pytest.fixture
def gateway_tls(tmp_path: Path):
    cert, key = make_self_signed(tmp_path)
    running = start_gateway(tmp_path / "home", "--tls-cert", str(cert), "--tls-key", str(key))
    yield running
    _stopped(running)


@pytest.fixture(scope="module")
def shared_gateway(tmp_path_factory):
    """One gateway for a whole test module (tests use their own resource groups)."""
    running = start_gateway(tmp_path_factory.mktemp("gw") / "home")
    yield running
    _stopped(running)


# ------------------------------------------------------------------------------------ raw HTTP helpers
SUB = "00000000-0000-0000-0000-0000000000aa"
ACCOUNT = "gwstorage"
ACCOUNT_KEY = "Z2F0ZXdheS1zZWNyZXQta2V5LW5ldmVyLWxvZ2dlZA=="
SHARE = "share"
ADMIN_PASSWORD = "Pa$$w0rd-gateway-never-logged"
SECRET_ENV_VALUE = "secret-env-value-never-logged"


def create_share(home: Path) -> None:
    """The Azure File share the test clusters mount, in the gateway's home (Batch AI never creates storage)."""
    previous = os.environ.get("BATCHAI_COMPAT_HOME")
    os.environ["BATCHAI_COMPAT_HOME"] = str(home)
    try:
        from batchai_compat.storage import FileService

        FileService(ACCOUNT, ACCOUNT_KEY).create_share(SHARE)
    finally:
        if previous is None:
            os.environ.pop("BATCHAI_COMPAT_HOME", None)
        else:
            os.environ["BATCHAI_COMPAT_HOME"] = previous


def cluster_body(nodes: int = 1) -> dict:
    """A 2018-05-01 ClusterCreateParameters wire body with one Azure File share mounted at ``azfiles``."""
    return {"properties": {
        "vmSize": "STANDARD_D1", "vmPriority": "dedicated",
        "scaleSettings": {"manual": {"targetNodeCount": nodes}},
        "userAccountSettings": {"adminUserName": "demoUser", "adminUserPassword": ADMIN_PASSWORD},
        "nodeSetup": {"mountVolumes": {"azureFileShares": [{
            "accountName": ACCOUNT, "azureFileUrl": f"https://{ACCOUNT}.file.core.windows.net/{SHARE}",
            "credentials": {"accountKey": ACCOUNT_KEY}, "relativeMountPath": "azfiles"}]}},
    }}


def job_body(cluster_id: str, command: str) -> dict:
    """A 2018-05-01 JobCreateParameters wire body: output directory OUTPUTS on the share, a secret variable."""
    return {"properties": {
        "cluster": {"id": cluster_id}, "nodeCount": 1,
        "stdOutErrPathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        "outputDirectories": [{"id": "OUTPUTS", "pathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles"}],
        "secrets": [{"name": "SECRET", "value": SECRET_ENV_VALUE}],
        "customToolkitSettings": {"commandLine": command},
    }}


def arm_path(rg: str, *parts: str) -> str:
    """``/subscriptions/SUB/resourceGroups/rg/providers/Microsoft.BatchAI/<parts...>``."""
    tail = "/".join(parts)
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.BatchAI" + (f"/{tail}" if tail else "")


def wait_operation(session, gateway: RunningGateway, response, timeout: float = 120.0) -> dict:
    """Follow ``Azure-AsyncOperation`` until the status is terminal; returns the last status body."""
    import time

    url = response.headers["Azure-AsyncOperation"]
    deadline = time.monotonic() + timeout
    while True:
        answer = session.get(url, headers=gateway.headers(), timeout=60)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["status"] != "InProgress":
            return body
        assert time.monotonic() < deadline, f"operation still InProgress after {timeout} s"
        time.sleep(0.2)


def wait_job(session, gateway: RunningGateway, path: str, timeout: float = 120.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        job = session.get(gateway.url + path, params={"api-version": "2018-05-01"}, headers=gateway.headers(),
                          timeout=60).json()
        if job["properties"]["executionState"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['properties']['executionState']} after {timeout} s"
        time.sleep(0.2)
