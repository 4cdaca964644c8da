"""Path-safety suite: no name, id or URL reaches outside the home; no URL serves another file.

What users rely on (issue 11 items 2 and 3): whatever they pass as a subscription id, resource
group or resource name, and whatever a job leaves in its output directory, the local backend
creates and removes files only under ``BATCHAI_COMPAT_HOME``, answers bad names with the original
SDK's ``ValidationError`` or the service's ``CloudError``, and a download URL serves the file it was
signed for - not ``state.db``, not another job's secrets, not ``run/fileserver.key``.

Every test compares a snapshot of the directory *around* the home (a sibling ``outside/`` holding a
user's file) before and after; each prints its counts.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

import pytest
import requests
from msrest.exceptions import SerializationError, ValidationError
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models
from batchai_compat import BatchAIManagementClient, _home
from batchai_compat.backends.base import FileServerRef, WorkspaceRef
from batchai_compat.backends.local import LocalBackend
from tests.contract.helpers import EXP, LOCATION, OUTPUT_ID, RG, SUB, WS, Ctx, job_parameters
from tests.reliability.conftest import scale

# Names that mean something to a file system, or that the SDK's patterns let through.
BAD_NAMES: List[Any] = [
    "..", ".", "../..", "../../outside/x", "/", "a/b", "/etc", "\\", "a\\b", "..\\..", "\x00", "a\x00b",
    "x" * 65, "x" * 91, "x" * 300, "a\n", "..\n", "a.", ".hidden", "%2e%2e", "%2f", "ünïcødé", "名前",
    "-", "_", "CON", "a b", "", None, 0, 600, 1.5, b"bytes", ["list"],
]
BAD_SUBSCRIPTIONS: List[Any] = [
    "../../outside/x", "..", ".", "/", "a/b", "a\\b", "sub\x00", "x" * 300, "sub\n", " ", "a b",
]
ALLOWED = (ValidationError, CloudError, SerializationError)


class _Credentials:
    def signed_session(self, session: Any = None) -> Any:  # pragma: no cover - never called locally
        return session


def _client(home: Path, subscription: Any = SUB) -> BatchAIManagementClient:
    return BatchAIManagementClient(_Credentials(), subscription, home=str(home))


def snapshot(root: Path, skip: Optional[Path] = None) -> Dict[str, Tuple[str, int]]:
    """Every path under ``root`` (not following symlinks) but ``skip``'s subtree: kind and size."""
    found: Dict[str, Tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip is not None and Path(dirpath) == skip:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            if skip is not None and path == skip:
                continue
            st = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            found[str(path.relative_to(root))] = (kind, 0 if kind == "dir" else st.st_size)
    return found


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dict[str, Path]:
    """``tmp/home`` (the home) next to ``tmp/outside`` (a user's files the backend must not touch)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(home))
    outside = tmp_path / "outside"
    (outside / "x").mkdir(parents=True)
    (outside / "x" / "precious.txt").write_text("a user's file")
    (outside / "ws" / "fs").mkdir(parents=True)
    (outside / "ws" / "fs" / "keep.txt").write_text("also a user's file")
    return {"root": tmp_path, "home": home, "outside": outside}


def _fs_params() -> models.FileServerCreateParameters:
    return models.FileServerCreateParameters(
        vm_size="STANDARD_D1",
        ssh_configuration=models.SshConfiguration(user_account_settings=models.UserAccountSettings(
            admin_user_name="demoUser", admin_user_password="Pa$$w0rd")),
        data_disks=models.DataDisks(disk_size_in_gb=10, disk_count=1, storage_account_type="Standard_LRS"))


def _cluster_params() -> models.ClusterCreateParameters:
    return models.ClusterCreateParameters(
        vm_size="STANDARD_D1", scale_settings=models.ScaleSettings(
            manual=models.ManualScaleSettings(target_node_count=0)),
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser", admin_user_password="x"))


def _job_params(sub: str) -> models.JobCreateParameters:
    # A cluster that does not exist: job creation is refused before anything starts.
    missing = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/{WS}/clusters/none"
    return job_parameters(missing, "true")


def _operations(client: BatchAIManagementClient, sub: str) -> List[Tuple[str, int, Callable[..., Any], List[Any]]]:
    """(label, number of name parameters, call, valid arguments) for every operation taking names."""
    c = client
    return [
        ("workspaces.create", 2, lambda *a: c.workspaces.create(*a, LOCATION), [RG, WS]),
        ("workspaces.get", 2, c.workspaces.get, [RG, WS]),
        ("workspaces.update", 2, lambda *a: c.workspaces.update(*a, tags={"k": "v"}), [RG, WS]),
        ("workspaces.delete", 2, c.workspaces.delete, [RG, WS]),
        ("workspaces.list_by_resource_group", 1, c.workspaces.list_by_resource_group, [RG]),
        ("experiments.create", 3, c.experiments.create, [RG, WS, EXP]),
        ("experiments.get", 3, c.experiments.get, [RG, WS, EXP]),
        ("experiments.delete", 3, c.experiments.delete, [RG, WS, EXP]),
        ("experiments.list_by_workspace", 2, c.experiments.list_by_workspace, [RG, WS]),
        ("file_servers.create", 3, lambda *a: c.file_servers.create(*a, _fs_params()), [RG, WS, "fs"]),
        ("file_servers.get", 3, c.file_servers.get, [RG, WS, "fs"]),
        ("file_servers.delete", 3, c.file_servers.delete, [RG, WS, "fs"]),
        ("file_servers.list_by_workspace", 2, c.file_servers.list_by_workspace, [RG, WS]),
        ("clusters.create", 3, lambda *a: c.clusters.create(*a, _cluster_params()), [RG, WS, "cl"]),
        ("clusters.get", 3, c.clusters.get, [RG, WS, "cl"]),
        ("clusters.delete", 3, c.clusters.delete, [RG, WS, "cl"]),
        ("clusters.list_by_workspace", 2, c.clusters.list_by_workspace, [RG, WS]),
        ("clusters.list_remote_login_information", 3, c.clusters.list_remote_login_information, [RG, WS, "cl"]),
        ("jobs.create", 4, lambda *a: c.jobs.create(*a, _job_params(sub)), [RG, WS, EXP, "job"]),
        ("jobs.get", 4, c.jobs.get, [RG, WS, EXP, "job"]),
        ("jobs.delete", 4, c.jobs.delete, [RG, WS, EXP, "job"]),
        ("jobs.terminate", 4, c.jobs.terminate, [RG, WS, EXP, "job"]),
        ("jobs.list_by_experiment", 3, c.jobs.list_by_experiment, [RG, WS, EXP]),
        ("jobs.list_output_files", 4, lambda *a: c.jobs.list_output_files(
            *a, models.JobsListOutputFilesOptions(outputdirectoryid="stdouterr")), [RG, WS, EXP, "job"]),
        ("jobs.list_remote_login_information", 4, c.jobs.list_remote_login_information, [RG, WS, EXP, "job"]),
    ]


def _run(call: Callable[..., Any], args: List[Any]) -> Optional[BaseException]:
    """Call an operation to the end (poll LROs, iterate pages); the exception it raised, if any."""
    try:
        result = call(*args)
        if hasattr(result, "result"):
            result.result(timeout=30)
        elif hasattr(result, "__iter__") and hasattr(result, "next"):
            list(result)
    except Exception as exc:  # noqa: BLE001 - classified by the caller
        return exc
    return None


def _finish(operation: Any) -> None:
    while not operation.poll().done:
        time.sleep(operation.delay)


def _assert_inside(home: Path) -> None:
    """Every path the backend made under the home is a real directory chain (no ``..`` parts)."""
    for dirpath, dirnames, filenames in os.walk(home):
        for name in dirnames + filenames:
            assert name not in (".", "..") and "/" not in name and "\x00" not in name
            assert _home.is_inside(Path(dirpath, name), home) or Path(dirpath, name).is_symlink()


def test_every_name_parameter_of_every_operation(world: Dict[str, Path]) -> None:
    home, root = world["home"], world["root"]
    client = _client(home)
    client.workspaces.create(RG, WS, LOCATION).result()
    client.experiments.create(RG, WS, EXP).result()
    before = snapshot(root, skip=home)
    calls = 0
    raised: Dict[str, int] = {}
    for label, names, call, valid in _operations(client, SUB):
        for position in range(names):
            for bad in BAD_NAMES:
                args = list(valid)
                args[position] = bad
                exc = _run(call, args)
                calls += 1
                if exc is not None:
                    assert isinstance(exc, ALLOWED), f"{label}(arg {position}={bad!r}) raised {exc!r}"
                    raised[type(exc).__name__] = raised.get(type(exc).__name__, 0) + 1
                if isinstance(exc, CloudError):
                    assert exc.error.error not in ("InternalError", None), (label, bad, exc)
    print(f"path safety: {calls} calls with bad names, raised {raised}")
    assert snapshot(root, skip=home) == before
    _assert_inside(home)
    client.close()


@pytest.mark.parametrize("subscription", BAD_SUBSCRIPTIONS)
def test_bad_subscription_ids_reach_no_path(world: Dict[str, Path], subscription: Any) -> None:
    home, root = world["home"], world["root"]
    before = snapshot(root, skip=home)
    client = _client(home, subscription)
    codes: Dict[str, int] = {}
    for label, _names, call, valid in _operations(client, subscription):
        exc = _run(call, valid)
        assert isinstance(exc, (CloudError, ValidationError)), f"{label} with subscription {subscription!r}: {exc!r}"
        if isinstance(exc, CloudError):
            codes[exc.error.error] = codes.get(exc.error.error, 0) + 1
    assert isinstance(_run(lambda: client.workspaces.list(), []), CloudError)
    assert isinstance(_run(lambda: client.usages.list(LOCATION), []), CloudError)
    assert set(codes) == {"InvalidSubscriptionId"}, codes
    assert snapshot(root, skip=home) == before
    client.close()


def test_issue_repro_dotdot_resource_group_creates_and_deletes_nothing_outside(world: Dict[str, Path]) -> None:
    """``BatchAIManagementClient(c, "../../outside/x")`` + ``file_servers.create("..", ...)``, then delete."""
    home, root = world["home"], world["root"]
    before = snapshot(root, skip=home)
    client = _client(home, "../../outside/x")
    for call in (lambda: client.workspaces.create("..", WS, LOCATION),
                 lambda: client.file_servers.create("..", WS, "fs", _fs_params()),
                 lambda: client.file_servers.delete("..", WS, "fs")):
        exc = _run(call, [])
        assert isinstance(exc, CloudError), exc
    good = _client(home)
    for rg in ("..", ".", "a.", "x" * 91, "rg\n"):
        exc = _run(good.file_servers.create, [rg, WS, "fs", _fs_params()])
        assert isinstance(exc, CloudError) and exc.error.error == "ResourceGroupNotFound", (rg, exc)
        assert exc.status_code == 404
    assert snapshot(root, skip=home) == before
    assert (world["outside"] / "x" / "precious.txt").read_text() == "a user's file"


def test_paths_built_without_the_operation_layer_stay_inside(world: Dict[str, Path]) -> None:
    """The backend itself (no validation in front) turns ``..`` names into one directory each."""
    home, root = world["home"], world["root"]
    before = snapshot(root, skip=home)
    backend = LocalBackend(home=home)
    made = []
    for sub, rg in (("../../outside/x", ".."), ("..", "."), ("a/../../..", "/"), ("\\..", "x" * 300)):
        ref = FileServerRef(sub, rg, "ws", "fs")
        _finish(backend.create_workspace(WorkspaceRef(sub, rg, "ws"), {"location": LOCATION}))
        _finish(backend.create_file_server(ref, _fs_params().serialize()))
        exports = list((home / "fileservers").rglob("data"))
        assert len(exports) == 1 and _home.is_inside(exports[0], home / "fileservers")
        made.append(exports[0])
        _assert_inside(home)
        assert snapshot(root, skip=home) == before
        _finish(backend.delete_file_server(ref))
        assert not any(p.is_dir() for p in (home / "fileservers").rglob("fs"))
    assert snapshot(root, skip=home) == before
    assert (world["outside"] / "ws" / "fs" / "keep.txt").read_text() == "also a user's file"
    print(f"backend-level file servers with traversal names: {len(made)}, all inside the home")
    backend.close()


def test_an_export_path_recorded_outside_the_home_is_never_removed(world: Dict[str, Path]) -> None:
    """A state database written by an older version may record an escaped export: delete keeps it."""
    home = world["home"]
    client = _client(home)
    client.workspaces.create(RG, WS, LOCATION).result()
    client.file_servers.create(RG, WS, "fs", _fs_params()).result()
    victim = world["outside"] / "ws" / "fs" / "data"
    victim.mkdir()
    with client.backend.store.write() as conn:
        conn.execute("UPDATE file_servers SET export=?", (str(victim),))
    client.file_servers.delete(RG, WS, "fs").result()
    assert (world["outside"] / "ws" / "fs" / "keep.txt").read_text() == "also a user's file"
    assert victim.is_dir()
    client.close()


def test_names_that_differ_only_by_case_are_one_resource_and_one_directory(world: Dict[str, Path]) -> None:
    home = world["home"]
    client = _client(home)
    client.workspaces.create(RG, WS, LOCATION).result()
    client.file_servers.create(RG, WS, "Fs", _fs_params()).result()
    assert client.file_servers.get(RG.upper(), WS.upper(), "FS").name == "Fs"
    exports = sorted(p for p in (home / "fileservers").rglob("data"))
    assert len(exports) == 1
    (exports[0] / "kept.txt").write_text("x")
    client.file_servers.create(RG, WS, "other", _fs_params()).result()
    client.file_servers.delete(RG.upper(), WS.upper(), "fS").result()
    remaining = sorted(p for p in (home / "fileservers").rglob("data"))
    assert len(remaining) == 1 and remaining[0].parent.name == "other"
    client.close()


# -- output files and download URLs of a job that really ran ------------------------------------------
JOB_SCRIPT = r"""
set -e
out=$AZ_BATCHAI_OUTPUT_OUTPUTS
mkdir -p "$out/sub"
printf inside-a > "$out/a.txt"
printf inside-b > "$out/sub/b.txt"
mkdir -p "$out/sub2"
printf inside-c > "$out/c.txt"
printf inside-d > "$out/sub2/d.txt"
ln -s a.txt "$out/alias.txt"
ln -s "$HOME_UNDER_TEST/state.db" "$out/db.txt"
ln -s "$HOME_UNDER_TEST/run" "$out/rundir"
ln -s "$OUTSIDE_UNDER_TEST/x/precious.txt" "$out/precious.txt"
ln -s "$OUTSIDE_UNDER_TEST" "$out/outside"
"""


@pytest.fixture(scope="module")
def ran_world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One job, run once for the module on a one-node cluster, that left files and hostile symlinks
    in its outputs (``a.txt``/``sub`` are only read; ``c.txt``/``sub2`` are for the swap test)."""
    root = tmp_path_factory.mktemp("ran")
    home = root / "home"
    home.mkdir(mode=0o700)
    outside = root / "outside"
    (outside / "x").mkdir(parents=True)
    (outside / "x" / "precious.txt").write_text("a user's file")
    old = os.environ.get("BATCHAI_COMPAT_HOME")
    os.environ["BATCHAI_COMPAT_HOME"] = str(home)
    client = BatchAIManagementClient(_Credentials(), SUB, backend=LocalBackend(home=home, leave_seconds=0.3))
    ctx = Ctx(client, home, "local")
    try:
        ctx.setup_workspace()
        cluster = ctx.create_cluster("cluster", target=1)
        params = job_parameters(cluster.id, JOB_SCRIPT.replace("$HOME_UNDER_TEST", str(home))
                                .replace("$OUTSIDE_UNDER_TEST", str(outside)))
        job = ctx.run_job("job", params)
        assert job.execution_state == "succeeded", ctx.files("job", "stdouterr")
        yield ctx, {"root": root, "home": home, "outside": outside}
    finally:
        client.workspaces.delete(RG, WS).result(timeout=60)
        client.close()
        if old is None:
            os.environ.pop("BATCHAI_COMPAT_HOME", None)
        else:
            os.environ["BATCHAI_COMPAT_HOME"] = old


@pytest.fixture
def ran(ran_world: Any) -> Any:
    return ran_world[0]


@pytest.fixture
def ran_paths(ran_world: Any) -> Dict[str, Path]:
    return ran_world[1]


def _listing(ctx: Any, directory: str = ".", output_id: str = OUTPUT_ID) -> Dict[str, Any]:
    options = models.JobsListOutputFilesOptions(outputdirectoryid=output_id, directory=directory)
    return {f.name: f for f in ctx.client.jobs.list_output_files(RG, WS, EXP, "job", options)}


def _secrets(world: Dict[str, Path]) -> List[bytes]:
    """What no URL may serve. The database is recognised by its header: this test process must not
    open (and close) ``state.db`` itself, which would drop its own client's SQLite locks."""
    home = world["home"]
    return [(home / "run" / "fileserver.key").read_bytes(), (world["outside"] / "x" / "precious.txt").read_bytes(),
            b"SQLite format 3\x00"]


def test_output_listing_signs_only_files_inside_the_output_directory(ran_paths: Dict[str, Path], ran: Any) -> None:
    files = _listing(ran)
    urls = {name: f.download_url for name, f in files.items() if f.download_url}
    assert set(urls) == {"a.txt", "alias.txt", "c.txt"}, files
    assert requests.get(urls["a.txt"], timeout=10).content == b"inside-a"
    assert requests.get(urls["alias.txt"], timeout=10).content == b"inside-a"  # a link inside: its target
    # Links leading out of the output directory are neither listed nor signed.
    assert {n for n, f in files.items() if f.file_type == "directory"} == {"sub", "sub2"}
    assert not {"db.txt", "rundir", "precious.txt", "outside"} & set(files)
    sub = _listing(ran, "sub")
    assert requests.get(sub["b.txt"].download_url, timeout=10).content == b"inside-b"
    print(f"output listing: {len(files)} entries, {len(urls)} signed")


@pytest.mark.parametrize("directory", [
    "..", "../..", "../../..", "/", "/etc", "sub/../..", "./../", "sub/../../..", "rundir", "outside",
    "outside/x", "rundir/..", "sub\x00", "\x00", "sub\\..\\..", "%2e%2e", "x" * 300, "a/" * 200,
])
def test_traversal_in_the_directory_option(ran_paths: Dict[str, Path], ran: Any, directory: str) -> None:
    inside = {"a.txt", "alias.txt", "sub", "b.txt", "c.txt", "sub2", "d.txt"}
    world = ran_paths
    before = snapshot(world["root"], skip=world["home"])
    try:
        files = _listing(ran, directory)
    except CloudError as exc:
        assert exc.status_code == 400, exc
        files = {}
    assert set(files) <= inside, (directory, sorted(files))
    for f in files.values():
        if f.download_url:
            content = requests.get(f.download_url, timeout=10).content
            assert all(secret not in content for secret in _secrets(world))
    assert snapshot(world["root"], skip=world["home"]) == before


@pytest.mark.parametrize("output_id", [
    "..", "../OUTPUTS", "OUTPUTS/..", "OUTPUTS/../..", "stdouterr/..", "/", "/etc/passwd", "\x00", "OUTPUTS\x00",
    "x" * 300, "%2e%2e", "ÖUTPUTS",
])
def test_traversal_in_the_output_directory_id(ran: Any, output_id: str) -> None:
    with pytest.raises(CloudError) as err:
        _listing(ran, ".", output_id)
    assert err.value.status_code in (400, 404)
    assert err.value.error.error == "OutputDirectoryNotFound"


def test_symlink_swaps_after_signing_serve_nothing(ran_paths: Dict[str, Path], ran: Any) -> None:
    world = ran_paths
    home = world["home"]
    url_c = _listing(ran)["c.txt"].download_url
    url_d = _listing(ran, "sub2")["d.txt"].download_url
    assert requests.get(url_c, timeout=10).content == b"inside-c"
    c = next(ran.share_dir().rglob("c.txt"))
    swaps = 0
    for target in (home / "state.db", home / "state.db-wal", home / "run" / "fileserver.key",
                   world["outside"] / "x" / "precious.txt", c.parent / "a.txt"):
        c.unlink()
        c.symlink_to(target)
        swaps += 1
        response = requests.get(url_c, timeout=10)
        assert response.status_code in (403, 404), target
        assert all(secret not in response.content for secret in _secrets(world))
    sub2 = c.parent / "sub2"
    shutil.rmtree(sub2)
    sub2.symlink_to(home / "run", target_is_directory=True)
    swaps += 1
    assert requests.get(url_d, timeout=10).status_code in (403, 404)
    print(f"symlink swaps after signing: {swaps}, none served")


def test_traversal_in_download_url_paths(ran_paths: Dict[str, Path], ran: Any) -> None:
    world = ran_paths
    url = _listing(ran)["a.txt"].download_url
    parts = urlsplit(url)
    variants = [
        parts.path.rsplit("/", 1)[0] + "/../../../../state.db",
        parts.path.rsplit("/", 1)[0] + "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/run/fileserver.key",
        "/run/fileserver.key", "/state.db", "/../outside/x/precious.txt", "/%2e%2e/outside/x/precious.txt",
        parts.path + "%00", parts.path + "/..", "//etc/passwd",
    ]
    for path in variants:
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(f"GET {path}?{parts.query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        status = int(data.split(b" ", 2)[1])
        assert status in (400, 403, 404), (path, data[:100])
        assert all(secret not in data for secret in _secrets(world))
    print(f"download URL traversal variants: {len(variants)}, all refused")


def test_many_names_round_trip_inside_the_home(world: Dict[str, Path]) -> None:
    """Valid but unusual names (any script, case variants, periods) each get one directory."""
    home, root = world["home"], world["root"]
    before = snapshot(root, skip=home)
    client = _client(home)
    names = ["ünïcødé", "名前", "-", "_", "CON", "a" * 64, "x-y_z"][: scale(4, 7)]
    groups = ["..a", "名前", "G" * 90, "a.b", "x"][: scale(3, 5)]
    created = 0
    for rg in groups:
        client.workspaces.create(rg, WS, LOCATION).result()
        for name in names:
            client.file_servers.create(rg, WS, name, _fs_params()).result()
            created += 1
    _assert_inside(home)
    exports = list((home / "fileservers").rglob("data"))
    assert len(exports) == created
    for rg in groups:
        for name in names:
            client.file_servers.delete(rg, WS, name).result()
    assert list((home / "fileservers").rglob("data")) == []
    assert snapshot(root, skip=home) == before
    print(f"unusual names: {created} file servers created and deleted inside the home")
    client.close()


def test_storage_names_stay_inside_the_home(world: Dict[str, Path]) -> None:
    """Local-mode blob and file names (the other name-derived paths): traversal, NUL and segments no
    file system can store are the service's ``AzureHttpError`` (400), never an ``OSError``."""
    from azure.common import AzureHttpError

    from batchai_compat.storage import BlockBlobService, FileService

    home, root = world["home"], world["root"]
    before = snapshot(root, skip=home)
    blobs, files = BlockBlobService("teststorage", "a2V5"), FileService("teststorage", "a2V5")
    blobs.create_container("box", fail_on_exist=False)
    files.create_share("share", fail_on_exist=False)
    names = ["../../../outside/x/evil.txt", "/etc/x", "a/../../b", "..", ".", "a\x00b", "x" * 256, "a/" + "é" * 128,
             "d//e"]
    refused = 0
    for name in names:
        with pytest.raises(AzureHttpError) as err:
            blobs.create_blob_from_text("box", name, "x")
        assert err.value.status_code == 400, name
        with pytest.raises(AzureHttpError):
            files.create_file_from_text("share", None, name, "x")
        refused += 2
    for container in ("..", "../x", "a\x00", "x" * 300, "UPPER"):
        with pytest.raises(AzureHttpError):
            blobs.create_container(container)
        refused += 1
    blobs.create_blob_from_text("box", "d/" * 100 + "deep.txt", "x")  # long names are fine, in parts
    assert snapshot(root, skip=home) == before
    _assert_inside(home)
    print(f"storage names: {refused} refused, nothing outside the home")
