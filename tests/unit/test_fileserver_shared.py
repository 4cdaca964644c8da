"""The shared (detached, per-home) mode of the signed file server, with real processes and HTTP.

Every URL here is signed in a subprocess that has exited by the time the test downloads it, which is
the point of the mode: ``batchai job file list ... -o tsv | xargs curl``. Servers started by a test
are stopped in its teardown (:func:`batchai_compat._fileserver.stop_shared_server`).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from batchai_compat import _fileserver
from tests.cli.conftest import cli_env, run_cli  # noqa: F401 - fixtures of the CLI tests (isolated homes)

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable
WAIT = 90.0  # generous: a loaded 2-core machine

SIGN = r"""
import json, os, sys
from datetime import datetime, timedelta, timezone
from batchai_compat import _fileserver
home, seconds, go = sys.argv[1], float(sys.argv[2]), sys.argv[3]
while go and not os.path.exists(go):  # a start line shared by concurrent signers
    pass
paths = sys.argv[4:]
deadline = datetime.now(timezone.utc) + timedelta(seconds=seconds)
print(json.dumps([_fileserver.signed_url_until(p, deadline, home=home) for p in paths]))
"""


def _env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env["BATCHAI_COMPAT_FILESERVER"] = "shared"
    env.update(extra)
    return env


def _sign(home: Path, *paths: Path, seconds: float = 600, go: str = "") -> List[str]:
    """URLs signed by a subprocess in shared mode; it has exited when this returns."""
    proc = subprocess.run([sys.executable, "-c", SIGN, str(home), str(seconds), go, *map(str, paths)],
                          env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _state(home: Path) -> Dict[str, Any]:
    return json.loads((home / "run" / "fileserver.json").read_text())


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped counts as gone: the test's container may not reap orphans)."""
    return _fileserver._pid_alive(pid)


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + WAIT
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "fs_home"
    root.mkdir(mode=0o700)
    yield root
    _fileserver.stop_shared_server(root)


@pytest.fixture
def data_file(home: Path) -> Path:
    path = home / "storage" / "acct" / "shares" / "afs" / "out dir" / "result #1.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(PAYLOAD)
    return path


def test_a_url_outlives_the_process_that_signed_it(home: Path, data_file: Path) -> None:
    (url,) = _sign(home, data_file)
    whole = requests.get(url, timeout=WAIT)
    assert (whole.status_code, whole.content) == (200, PAYLOAD)
    part = requests.get(url, headers={"Range": "bytes=100-355"}, timeout=WAIT)
    assert (part.status_code, part.content) == (206, PAYLOAD[100:356])
    assert part.headers["Content-Range"] == f"bytes 100-355/{len(PAYLOAD)}"
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=WAIT)
    assert (tail.status_code, tail.content) == (206, PAYLOAD[-10:])

    state = _state(home)
    assert set(state) == {"pid", "port", "until"}
    assert state["port"] == _port(url)
    assert state["until"] >= time.time() + 500  # at least the URL's expiry (600 s)
    assert os.getsid(state["pid"]) == state["pid"]  # its own session: no terminal signal reaches it
    for name in ("fileserver.json", "fileserver.log", "fileserver.lock", "fileserver.key"):
        assert stat.S_IMODE((home / "run" / name).stat().st_mode) == 0o600, name


def test_signature_expiry_and_path_rules_are_unchanged(home: Path, data_file: Path) -> None:
    (db := home / "state.db").write_bytes(b"SQLite format 3\x00")
    missing = home / "nodes" / "n1" / "later.txt"
    url, expired, key_url, db_url, missing_url = (
        _sign(home, data_file)[0], _sign(home, data_file, seconds=-60)[0],
        *_sign(home, home / "run" / "fileserver.json", db, missing))
    assert len({_port(u) for u in (url, expired, key_url, db_url, missing_url)}) == 1  # one server
    split = urlsplit(url)
    sig = parse_qs(split.query)["sig"][0]
    bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    assert requests.get(bad, timeout=WAIT).status_code == 403
    assert requests.get(expired, timeout=WAIT).status_code == 403
    assert requests.get(key_url, timeout=WAIT).status_code == 403  # run/ is never served
    assert requests.get(db_url, timeout=WAIT).status_code == 403
    assert requests.get(missing_url, timeout=WAIT).status_code == 404
    assert requests.get(f"{split.scheme}://{split.netloc}/", timeout=WAIT).status_code == 403
    # the identity probe answers with a proof of the key, and nothing else
    nonce = "0123456789abcdef"
    probe = requests.get(f"{split.scheme}://{split.netloc}/?batchai-compat-ping={nonce}", timeout=WAIT)
    assert probe.status_code == 204 and probe.content == b""
    key = _fileserver._load_or_create_key(home)
    assert probe.headers["X-Batchai-Compat-Proof"] == _fileserver._proof(key, nonce)
    assert probe.headers["X-Batchai-Compat-Proof"] != _fileserver._signature(key, "ping", nonce)  # no oracle
    not_hex = requests.get(f"{split.scheme}://{split.netloc}/?batchai-compat-ping=2030-01-01T00:00:00Z",
                           timeout=WAIT)
    assert not_hex.status_code == 403
    # a file swapped for a symlink after signing is refused, as in process mode
    data_file.unlink()
    data_file.symlink_to(home / "state.db")
    assert requests.get(url, timeout=WAIT).status_code == 403
    log_text = (home / "run" / "fileserver.log").read_text()
    assert "sig=" not in log_text and sig not in log_text


def test_two_processes_signing_at_once_share_one_server(home: Path, data_file: Path) -> None:
    go = home / "go"
    procs = [subprocess.Popen([sys.executable, "-c", SIGN, str(home), "600", str(go), str(data_file)],
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    time.sleep(1.0)  # let them import (not an assert on timing: they race whenever they are ready)
    go.write_text("")
    urls = []
    for proc in procs:
        out, err = proc.communicate(timeout=WAIT)
        assert proc.returncode == 0, err
        urls.extend(json.loads(out))
    assert len({_port(u) for u in urls}) == 1
    assert _state(home)["port"] == _port(urls[0])
    for url in urls:
        assert requests.get(url, timeout=WAIT).content == PAYLOAD


def test_a_dead_pid_in_the_state_file_is_replaced(home: Path, data_file: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    idle = socket.socket()
    idle.bind(("127.0.0.1", 0))  # a port nothing listens on
    port = idle.getsockname()[1]
    (home / "run").mkdir(mode=0o700)
    (home / "run" / "fileserver.json").write_text(json.dumps({"pid": dead.pid, "port": port, "until": 4e9}))
    (url,) = _sign(home, data_file)
    idle.close()
    assert _port(url) != port
    assert _state(home)["pid"] != dead.pid
    assert requests.get(url, timeout=WAIT).content == PAYLOAD


class _Impostor(BaseHTTPRequestHandler):
    """Someone else's server on the recorded port: answers the probe, but cannot sign the nonce."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(204)
        self.send_header("X-Batchai-Compat-Proof", "0" * 64)
        self.send_header("X-Batchai-Compat-Pid", str(os.getpid()))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_a_live_pid_with_a_foreign_server_on_the_port_is_not_trusted(home: Path, data_file: Path) -> None:
    impostor = HTTPServer(("127.0.0.1", 0), _Impostor)
    thread = threading.Thread(target=impostor.serve_forever, daemon=True)
    thread.start()
    try:
        port = impostor.server_address[1]
        (home / "run").mkdir(mode=0o700)
        # a live pid (this test's) and a port that accepts and answers: both recycled, neither ours
        (home / "run" / "fileserver.json").write_text(json.dumps({"pid": os.getpid(), "port": port, "until": 4e9}))
        (url,) = _sign(home, data_file)
        assert _port(url) != port
        assert _state(home)["pid"] not in (os.getpid(), 0)
        assert requests.get(url, timeout=WAIT).content == PAYLOAD
    finally:
        impostor.shutdown()
        impostor.server_close()


@pytest.mark.slow
def test_a_silent_listener_on_the_port_is_not_trusted(home: Path, data_file: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections into its backlog and never answers (probe times out)
    try:
        port = silent.getsockname()[1]
        (home / "run").mkdir(mode=0o700)
        (home / "run" / "fileserver.json").write_text(json.dumps({"pid": os.getpid(), "port": port, "until": 4e9}))
        (url,) = _sign(home, data_file)
        assert _port(url) != port
        assert requests.get(url, timeout=WAIT).content == PAYLOAD
    finally:
        silent.close()


def test_signing_extends_until_and_the_server_exits_after_it_when_idle(home: Path, data_file: Path) -> None:
    (first,) = _sign(home, data_file, seconds=1)  # lives MIN_LINGER past the signing
    state = _state(home)
    (second,) = _sign(home, data_file, seconds=3)
    assert _port(second) == _port(first)
    later = _state(home)
    assert later["pid"] == state["pid"] and later["until"] >= state["until"]
    assert requests.get(second, timeout=WAIT).content == PAYLOAD
    assert _wait_gone(state["pid"]), "the shared server did not exit after its until"
    assert not (home / "run" / "fileserver.json").exists()
    (third,) = _sign(home, data_file)  # a new one starts on demand
    assert _state(home)["pid"] != state["pid"]
    assert requests.get(third, timeout=WAIT).content == PAYLOAD


def test_process_mode_stays_the_default(home: Path, data_file: Path) -> None:
    script = ("import sys; from batchai_compat import _fileserver; "
              "print(_fileserver.signed_url(sys.argv[1], expiry_minutes=5, home=sys.argv[2]))")
    env = dict(os.environ)
    env.pop("BATCHAI_COMPAT_FILESERVER", None)
    proc = subprocess.run([sys.executable, "-c", script, str(data_file), str(home)], env=env,
                          capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr
    assert not (home / "run" / "fileserver.json").exists()  # served by the (exited) process itself
    with pytest.raises(requests.ConnectionError):
        requests.get(proc.stdout.strip(), timeout=WAIT)


JOB_SETUP = r"""
import sys, time
from batchai_compat import BatchAIManagementClient, models as m
from batchai_compat.resource import ResourceManagementClient
from batchai_compat.storage import FileService
from batchai_compat.storage_mgmt import StorageManagementClient
from batchai_compat.storage_mgmt.models import Kind, Sku, StorageAccountCreateParameters

SUB = "00000000-0000-0000-0000-000000000000"
ResourceManagementClient(object(), SUB).resource_groups.create_or_update("rg", {"location": "eastus"})
storage = StorageManagementClient(object(), SUB)
storage.storage_accounts.create("rg", "jobstore", StorageAccountCreateParameters(
    sku=Sku(name="Standard_LRS"), kind=Kind.storage, location="eastus")).result()
key = storage.storage_accounts.list_keys("rg", "jobstore").keys[0].value
FileService("jobstore", key).create_share("logs")
client = BatchAIManagementClient(object(), SUB)
client.workspaces.create("rg", "ws", "eastus").result()
client.experiments.create("rg", "ws", "exp").result()
cluster = client.clusters.create("rg", "ws", "cl", m.ClusterCreateParameters(
    vm_size="STANDARD_D1", scale_settings=m.ScaleSettings(manual=m.ManualScaleSettings(target_node_count=1)),
    user_account_settings=m.UserAccountSettings(admin_user_name="u", admin_user_password="p"))).result()
share = m.AzureFileShareReference(
    account_name="jobstore", azure_file_url="https://jobstore.file.core.windows.net/logs",
    credentials=m.AzureStorageCredentialsInfo(account_key=key), relative_mount_path="logs")
client.jobs.create("rg", "ws", "exp", "job1", m.JobCreateParameters(
    cluster=m.ResourceId(id=cluster.id), node_count=1, std_out_err_path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
    mount_volumes=m.MountVolumes(azure_file_shares=[share]),
    custom_toolkit_settings=m.CustomToolkitSettings(command_line="printf 'hello from the job\\n'"))).result()
deadline = time.monotonic() + 120
while client.jobs.get("rg", "ws", "exp", "job1").execution_state not in ("succeeded", "failed"):
    if time.monotonic() > deadline:
        sys.exit("the job never finished")
    time.sleep(0.2)
client.close()
"""


def test_batchai_job_file_list_url_downloads_after_the_command_exited(
        cli_env: Dict[str, str], run_cli: Callable[..., Tuple[int, str, str]]) -> None:  # noqa: F811
    env = dict(cli_env)
    env.pop("BATCHAI_COMPAT_FILESERVER", None)  # the command itself chooses the shared mode
    setup = subprocess.run([sys.executable, "-c", JOB_SETUP], env=env,
                           capture_output=True, text=True, timeout=180)
    assert setup.returncode == 0, setup.stderr
    cli_home = Path(cli_env["BATCHAI_COMPAT_HOME"])
    try:
        code, out, err = run_cli("job", "file", "list", "-g", "rg", "-w", "ws", "-e", "exp", "-j", "job1",
                                 "--query", "[?name=='stdout.txt'].downloadUrl", "-o", "tsv", env=env)
        assert code == 0, err
        url = out.strip()
        assert url.startswith("http://127.0.0.1:"), out
        response = requests.get(url, timeout=WAIT)  # the batchai process is gone
        assert (response.status_code, response.content) == (200, b"hello from the job\n")
        ranged = requests.get(url, headers={"Range": "bytes=6-9"}, timeout=WAIT)
        assert (ranged.status_code, ranged.content) == (206, b"from")
        assert _state(cli_home)["port"] == _port(url)
    finally:
        _fileserver.stop_shared_server(cli_home)


def test_signed_path_is_quoted_like_process_mode(home: Path, data_file: Path) -> None:
    (url,) = _sign(home, data_file)
    rel = data_file.relative_to(home).as_posix()
    assert urlsplit(url).path == "/" + quote(rel, safe="/")
