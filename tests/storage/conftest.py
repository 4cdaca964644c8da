"""Fixtures for the storage compatibility tests: one test function, both modes.

* local mode: a temporary ``BATCHAI_COMPAT_HOME``;
* remote mode, blobs: Azurite started by this suite (``azurite-blob`` on PATH or in
  ``<repo>/.tools/node_modules/.bin``; installed by ``make test``), bound to 127.0.0.1;
* remote mode, files: :class:`tests.storage.fake_files.FakeFileShareServer` (no emulator exists).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest

from batchai_compat import _fileserver
from batchai_compat.storage import BlockBlobService, FileService

from .fake_files import FakeFileShareServer

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "testacct"
ACCOUNT_KEY = "dGVzdC1rZXktbm90LWEtc2VjcmV0LXRlc3Qta2V5LW5vdC1hLXNlY3JldA=="
# Azurite's published development account.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azurite_executable() -> str:
    found = shutil.which("azurite-blob")
    local = REPO / ".tools" / "node_modules" / ".bin" / "azurite-blob"
    if found:
        return found
    if local.exists():
        return str(local)
    pytest.fail(
        "azurite-blob (the Azure Storage emulator) was not found on PATH nor in "
        f"{local}. `make test` installs it; by hand: mkdir -p .tools && cd .tools && "
        "npm install --no-audit --no-fund azurite@3", pytrace=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An Azurite blob service on 127.0.0.1; yields its connection string."""
    exe = _azurite_executable()
    location = tmp_path_factory.mktemp("azurite")
    log = location / "azurite.log"
    for _attempt in range(3):  # the free port may be taken between probe and bind
        port = _free_port()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(location),
                 "--skipApiVersionCheck", "--loose"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        if proc.poll() is None and time.monotonic() < deadline:
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail(f"Azurite did not start; its output:\n{log.read_text(errors='replace')[-4000:]}",
                    pytrace=False)
    try:
        yield (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
               f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def fake_files() -> Iterator[FakeFileShareServer]:
    server = FakeFileShareServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "home"
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(root))
    monkeypatch.delenv("BATCHAI_COMPAT_STORAGE", raising=False)
    yield root
    _fileserver.stop_server()


@pytest.fixture(params=["local", pytest.param("remote", marks=pytest.mark.azurite)])
def blob_service(request: pytest.FixtureRequest, home: Path) -> BlockBlobService:
    if request.param == "local":
        service = BlockBlobService(ACCOUNT, ACCOUNT_KEY)
    else:
        service = BlockBlobService(connection_string=request.getfixturevalue("azurite"))
    assert service.mode == request.param
    return service


@pytest.fixture
def container(blob_service: BlockBlobService) -> Iterator[str]:
    name = "c" + uuid.uuid4().hex[:12]
    assert blob_service.create_container(name) is True
    yield name
    blob_service.delete_container(name)


@pytest.fixture(params=["local", "remote"])
def file_service(request: pytest.FixtureRequest, home: Path) -> FileService:
    if request.param == "local":
        service = FileService(ACCOUNT, ACCOUNT_KEY)
    else:
        fake = request.getfixturevalue("fake_files")
        service = FileService(connection_string=(
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"FileEndpoint={fake.endpoint}"))
    assert service.mode == request.param
    return service


@pytest.fixture
def share(file_service: FileService) -> Iterator[str]:
    name = "s" + uuid.uuid4().hex[:12]
    assert file_service.create_share(name) is True
    yield name
    file_service.delete_share(name)


class SocketGuard:
    """Records (and refuses) every outbound connection and DNS lookup."""

    def __init__(self) -> None:
        self.attempts: List[str] = []


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> SocketGuard:
    guard = SocketGuard()

    def refuse(what: str):  # type: ignore[no-untyped-def]
        def _refused(*args, **kwargs):  # type: ignore[no-untyped-def]
            guard.attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise OSError(f"network access refused by the test's socket guard: {what}")

        return _refused

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    return guard


def python_env() -> dict:
    """Environment for subprocess tests: the repo importable, nothing else changed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env
