"""``batchai job ...`` end to end: real subprocesses of the console entry on the real local backend.

One resource group ``rg`` per module (built once, in a subprocess, by :data:`SETUP`): storage account
``jobstore`` (its key known only to the storage service, as on Azure) with share ``logs`` and
container ``data``, workspace ``ws`` / experiment ``exp`` / 1-node cluster ``cl`` / file server ``nfs1``, and the 1-node
cluster ``oldcl`` of the default workspace that the pre-workspace shape sees. Jobs are tiny shell
command lines; each test waits for its own jobs so the next one finds the node idle. Every CLI call
goes through the shared ``run_cli`` fixture with this module's home in its environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg"
WS_ARGS = ("-g", RG, "-w", "ws", "-e", "exp")
ACCOUNT = "jobstore"
LOGS = "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs"
MOUNT_ARGS = ("--afs-name", "logs", "--afs-mount-path", "logs", "--storage-account-name", ACCOUNT)
CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/ws/clusters/cl"
OLD_CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/clusters/oldcl"

SETUP = r"""
import json, sys, time
from batchai_compat import BatchAIManagementClient, models as m
from batchai_compat.resource import ResourceManagementClient
from batchai_compat.storage import BlockBlobService, FileService
from batchai_compat.storage_mgmt import StorageManagementClient
from batchai_compat.storage_mgmt.models import Kind, Sku, StorageAccountCreateParameters

SUB = "00000000-0000-0000-0000-000000000000"
ResourceManagementClient(object(), SUB).resource_groups.create_or_update("rg", {"location": "eastus"})
storage = StorageManagementClient(object(), SUB)
storage.storage_accounts.create("rg", "jobstore", StorageAccountCreateParameters(
    sku=Sku(name="Standard_LRS"), kind=Kind.storage, location="eastus")).result()
key = storage.storage_accounts.list_keys("rg", "jobstore").keys[0].value
FileService("jobstore", key).create_share("logs")
BlockBlobService("jobstore", key).create_container("data")
client = BatchAIManagementClient(object(), SUB)
for workspace in ("ws", "default"):
    client.workspaces.create("rg", workspace, "eastus").result()
client.experiments.create("rg", "ws", "exp").result()
params = m.ClusterCreateParameters(
    vm_size="STANDARD_D1", scale_settings=m.ScaleSettings(manual=m.ManualScaleSettings(target_node_count=1)),
    user_account_settings=m.UserAccountSettings(admin_user_name="demo", admin_user_password="Passw0rd!"))
for workspace, name in (("ws", "cl"), ("default", "oldcl")):
    client.clusters.create("rg", workspace, name, params).result()
client.file_servers.create("rg", "ws", "nfs1", m.FileServerCreateParameters(
    vm_size="STANDARD_D1", ssh_configuration=m.SshConfiguration(user_account_settings=m.UserAccountSettings(
        admin_user_name="demo", admin_user_password="Passw0rd!")),
    data_disks=m.DataDisks(disk_size_in_gb=10, disk_count=1, storage_account_type="Standard_LRS"))).result()
deadline = time.monotonic() + 120
for workspace, name in (("ws", "cl"), ("default", "oldcl")):
    while client.clusters.get("rg", workspace, name).node_state_counts.idle_node_count != 1:
        if time.monotonic() > deadline:
            sys.exit("nodes never became idle")
        time.sleep(0.1)
print(json.dumps({"key": key}))
"""

TEARDOWN = r"""
from batchai_compat import BatchAIManagementClient
client = BatchAIManagementClient(object(), "00000000-0000-0000-0000-000000000000")
for ws in list(client.workspaces.list_by_resource_group("rg")):
    client.workspaces.delete("rg", ws.name).result()
"""

Result = Tuple[int, str, str]


class World:
    """The module's home and a runner bound to it."""

    def __init__(self, root: Path, key: str, env: Dict[str, str]) -> None:
        self.root = root
        self.key = key
        self.env = env
        self.runner: Optional[Callable[..., Result]] = None
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def run(self, *args: str, **kwargs: Any) -> Result:
        assert self.runner is not None
        env = dict(self.env)
        env.update(kwargs.pop("env", None) or {})
        kwargs.setdefault("cwd", str(self.root))
        return self.runner(*args, env=env, **kwargs)

    def ok(self, *args: str, **kwargs: Any) -> Any:
        code, out, err = self.run(*args, **kwargs)
        assert code == 0, f"batchai {' '.join(args)} exited {code}:\n{err}"
        return json.loads(out) if out.strip() else None

    def job_file(self, command: str, name: str = "job.json", **properties: Any) -> str:
        body: Dict[str, Any] = {
            "$schema": "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/job.json",
            "properties": {"nodeCount": 1, "stdOutErrPathPrefix": LOGS,
                           "customToolkitSettings": {"commandLine": command}}}
        body["properties"].update(properties)
        path = self.root / name
        path.write_text(json.dumps(body), encoding="utf-8")
        return name

    def create(self, job: str, command: str, *extra: str, **properties: Any) -> Any:
        path = self.job_file(command, f"{job}.json", **properties)
        return self.ok("job", "create", *WS_ARGS, "-n", job, "-c", "cl", "-f", path, *MOUNT_ARGS, *extra)

    def wait(self, job: str) -> Result:
        return self.run("job", "wait", *WS_ARGS, "-n", job, "--interval", "0.2")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("jobs")
    env = dict(os.environ)
    for name in ("AZURE_BATCHAI_STORAGE_ACCOUNT", "AZURE_BATCHAI_STORAGE_KEY", "BATCHAI_COMPAT_CONFIG",
                 "BATCHAI_COMPAT_SUBSCRIPTION"):
        env.pop(name, None)
    (root / "home" / ".ssh").mkdir(parents=True)
    (root / "azure").mkdir()
    env.update({"BATCHAI_COMPAT_HOME": str(root / "batchai_home"), "AZURE_CONFIG_DIR": str(root / "azure"),
                "HOME": str(root / "home"), "BATCHAI_COMPAT_BACKEND": "local"})
    proc = subprocess.run([sys.executable, "-c", SETUP], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    result = World(root, json.loads(proc.stdout)["key"], env)
    yield result
    subprocess.run([sys.executable, "-c", TEARDOWN], env=env, capture_output=True, text=True, timeout=180)
    from batchai_compat._fileserver import stop_shared_server

    stop_shared_server(env["BATCHAI_COMPAT_HOME"])  # the detached file server `job file list` started


@pytest.fixture
def w(world: World, run_cli: Callable[..., Result]) -> World:
    world.runner = run_cli
    return world


def _warnings(err: str) -> List[str]:
    return [line[len("WARNING: "):] for line in err.splitlines() if line.startswith("WARNING: ")]


# ------------------------------------------------------------------------------- create / show

def test_create_show_list_and_tables(w: World) -> None:
    job = w.name("hello")
    created = w.create(job, "echo hi")
    assert created["name"] == job
    assert created["id"].endswith(f"/workspaces/ws/experiments/exp/jobs/{job}")
    assert created["cluster"] == {"id": CLUSTER_ID, "resourceGroup": RG}
    assert created["resourceGroup"] == RG
    assert created["type"] == "Microsoft.BatchAI/workspaces/experiments/jobs"
    share = created["mountVolumes"]["azureFileShares"][0]
    assert share["azureFileUrl"] == f"https://{ACCOUNT}.file.core.windows.net/logs"
    assert share["relativeMountPath"] == "logs"
    assert w.wait(job)[0] == 0

    shown = w.ok("job", "show", *WS_ARGS, "-n", job)
    assert shown["executionState"] == "succeeded"
    assert shown["executionInfo"]["exitCode"] == 0
    # the storage key the CLI looked up went to the service, never to the output
    assert w.key not in json.dumps(created) + json.dumps(shown)

    code, out, err = w.run("job", "show", *WS_ARGS, "-n", job, "-o", "table")
    assert code == 0, err
    header, rule, row = out.splitlines()
    assert re.split(r"\s{2,}", header) == ["Name", "Cluster", "Cluster RG", "Cluster Workspace", "Tool", "Nodes",
                                           "State", "Exit code"]
    assert row.split() == [job, "cl", RG, "ws", "custom", "1", "succeeded", "0"]

    code, out, err = w.run("job", "list", *WS_ARGS, "-o", "table")
    assert code == 0, err
    assert job in [line.split()[0] for line in out.splitlines()[2:]]
    assert job in w.ok("job", "list", *WS_ARGS, "--query", "[].name")
    # az's --query and -o tsv on the job's output
    code, out, _ = w.run("job", "show", *WS_ARGS, "-n", job, "--query", "executionState", "-o", "tsv")
    assert (code, out) == (0, "succeeded\n")


def test_defaults_from_az_configure_and_prefix_abbreviations(w: World) -> None:
    job = w.name("defaults")
    w.create(job, "echo defaults")
    assert w.wait(job)[0] == 0
    config = Path(w.env["AZURE_CONFIG_DIR"]) / "config"
    config.write_text("[defaults]\ngroup = rg\nworkspace = ws\n", encoding="utf-8")
    try:
        # -g and -w from [defaults]; --exp and --na are unique prefixes of --experiment and --name
        assert w.ok("job", "show", "--exp", "exp", "--na", job, "--query", "name") == job
        files = w.ok("job", "file", "list", "-e", "exp", "--j", job, "--query", "[].name")
        assert "stdout.txt" in files
    finally:
        config.unlink()


# -------------------------------------------------------------------------------------- wait

def test_wait_success_prints_progress_and_exits_0(w: World) -> None:
    job = w.name("ok")
    w.create(job, "sleep 0.5; echo done")
    code, out, err = w.wait(job)
    assert (code, out) == (0, ""), err
    lines = _warnings(err)
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00:00"
    assert re.fullmatch(f"Job submitted at {stamp}", lines[0]), lines
    assert any(re.fullmatch(f"Job started execution at {stamp}", line) for line in lines), lines
    states = [line for line in lines if line.startswith("Job state: ")]
    assert states[-1] == "Job state: succeeded"
    assert len(states) == len(set(states))  # printed on every change only
    assert re.fullmatch(rf"Job completed at {stamp}; execution took \d+:\d\d:\d\d(\.\d+)?", lines[-1]), lines


def test_wait_failure_exits_with_the_jobs_exit_code(w: World) -> None:
    job = w.name("fails")
    w.create(job, "echo about to fail; exit 3")
    code, out, err = w.wait(job)
    assert (code, out) == (3, ""), err
    lines = _warnings(err)
    at = lines.index(f'The job "{job}" in resource group "{RG}" failed.')
    assert lines[at - 1] == "Job state: failed"
    assert re.fullmatch(r"Job failed with exit code 3 at .+; execution took .+", lines[at + 1]), lines
    # then the job's errors, as the service reported them (message, then "Details:")
    assert lines[at + 2].startswith("Error message: "), lines
    assert err.endswith("Details:\n <none>\n"), err
    # `job show -o table` has the exit code too
    code, out, _ = w.run("job", "show", *WS_ARGS, "-n", job, "-o", "table")
    assert out.splitlines()[2].split()[-2:] == ["failed", "3"]


def test_wait_for_a_missing_job(w: World) -> None:
    code, out, err = w.run("job", "wait", *WS_ARGS, "-n", "never-created", "--interval", "0.2")
    assert (code, out) == (1, "")
    assert err == "ERROR: The specified job never-created is not found\n"


# ------------------------------------------------------------------------------------- files

def test_file_stream_tails_until_the_job_ends(w: World) -> None:
    job = w.name("stream")
    # ~2 s of output, one line at a time; the stream starts before the job writes everything
    w.create(job, "for i in 1 2 3 4 5 6; do echo line $i; sleep 0.35; done; echo last line")
    code, out, err = w.run("job", "file", "stream", *WS_ARGS, "-j", job, "-f", "stdout.txt")
    assert code == 0, err
    assert out == "".join(f"line {i}\n" for i in range(1, 7)) + "last line\n"
    found = [line for line in _warnings(err) if line.startswith("File found with URL")]
    assert len(found) == 1 and found[0].endswith('". Start streaming')
    assert re.search(r'URL "http://127\.0\.0\.1:\d+/', found[0])
    # it returned because the job ended
    assert w.ok("job", "show", *WS_ARGS, "-n", job, "--query", "executionState") == "succeeded"


def test_file_stream_of_a_file_the_job_never_writes(w: World) -> None:
    job = w.name("nofile")
    w.create(job, "sleep 0.5")
    code, out, err = w.run("job", "file", "stream", *WS_ARGS, "-j", job, "-f", "missing.txt")
    assert (code, out) == (0, ""), err
    lines = _warnings(err)
    assert lines[-1] == 'The file "missing.txt" not found for the completed job.'
    assert set(lines[:-1]) <= {'The file "missing.txt" not found. Waiting for the job to generate it.'}


def test_file_list_output_directories_paths_and_table(w: World) -> None:
    job = w.name("files")
    w.create(job, "echo out; mkdir -p $AZ_BATCHAI_OUTPUT_MODEL/sub; echo 12345 > $AZ_BATCHAI_OUTPUT_MODEL/sub/m.txt",
             outputDirectories=[{"id": "MODEL", "pathPrefix": LOGS}])
    assert w.wait(job)[0] == 0
    files = w.ok("job", "file", "list", *WS_ARGS, "-j", job)
    names = {f["name"] for f in files}
    assert {"stdout.txt", "stderr.txt"} <= names
    stdout = next(f for f in files if f["name"] == "stdout.txt")
    assert set(stdout) == {"name", "fileType", "downloadUrl", "lastModified", "contentLength"}
    assert (stdout["fileType"], stdout["contentLength"]) == ("file", 4)

    assert w.ok("job", "file", "list", *WS_ARGS, "-j", job, "-d", "MODEL", "--query", "[].[name,fileType]") == [
        ["sub", "directory"]]
    listed = w.ok("job", "file", "list", *WS_ARGS, "-j", job, "-d", "MODEL", "-p", "sub", "--expiry", "5")
    assert [(f["name"], f["contentLength"]) for f in listed] == [("m.txt", 6)]

    code, out, err = w.run("job", "file", "list", *WS_ARGS, "-j", job, "-d", "MODEL", "-o", "table")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Type", "Size", "Modified"]
    assert lines[2].split() == ["sub", "directory"]  # no size (nor modification time) for directories

    code, out, err = w.run("job", "file", "list", *WS_ARGS, "-j", job, "-d", "NOPE")
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: ") and "NOPE" in err


def test_node_list(w: World) -> None:
    job = w.name("nodes")
    w.create(job, "echo on a node")
    assert w.wait(job)[0] == 0
    nodes = w.ok("job", "node", "list", *WS_ARGS, "-j", job)
    # the 1-node cluster's node, still allocated
    assert len(nodes) == 1 and set(nodes[0]) >= {"nodeId", "ipAddress", "port"}
    code, out, err = w.run("job", "node", "list", *WS_ARGS, "-j", job, "-o", "table")
    assert code == 0, err
    header, _, row = out.splitlines()
    assert re.split(r"\s{2,}", header) == ["ID", "IP", "SSH Port"]
    assert row.split() == [nodes[0]["nodeId"], nodes[0]["ipAddress"], str(int(nodes[0]["port"]))]


# --------------------------------------------------------------------------- terminate / delete

def test_terminate_then_delete(w: World) -> None:
    job = w.name("long")
    w.create(job, "echo started; sleep 120")
    code, out, err = w.run("job", "terminate", *WS_ARGS, "-n", job, "-y")
    assert (code, out) == (0, ""), err
    assert w.ok("job", "show", *WS_ARGS, "-n", job, "--query", "executionState") == "failed"
    # a terminated job has failed without an exit code: 255 (0.4.10 meant sys.exit(-1); it exited 0)
    code, out, err = w.wait(job)
    assert (code, out) == (255, ""), err
    assert re.search(r"^WARNING: Job failed with exit code None at ", err, re.MULTILINE), err
    # no TTY to confirm on: az's answer
    code, out, err = w.run("job", "delete", *WS_ARGS, "-n", job)
    assert (code, out) == (1, ""), err
    assert "Operation cancelled." in err
    code, out, err = w.run("job", "delete", *WS_ARGS, "-n", job, "-y")
    assert (code, out) == (0, ""), err
    # a show of a missing resource exits 3 (azure-cli-core's show_command)
    code, out, err = w.run("job", "show", *WS_ARGS, "-n", job)
    assert (code, out, err) == (3, "", f"ERROR: The specified job {job} is not found\n")


def test_ids(w: World) -> None:
    job = w.name("ids")
    created = w.create(job, "echo ids")
    assert w.wait(job)[0] == 0
    assert w.ok("job", "show", "--ids", created["id"], "--query", "name") == job
    code, out, err = w.run("job", "wait", "--ids", created["id"], "--interval", "0.2")
    assert code == 0, err
    code, out, err = w.run("job", "show", "--ids", "not-an-id")
    assert (code, out) == (2, "")
    assert "invalid resource ID: 'not-an-id'" in err.splitlines()[0]
    code, out, err = w.run("job", "delete", "--ids", created["id"], "-y")
    assert (code, out) == (0, ""), err


def test_node_exec_runs_on_the_jobs_node(w: World) -> None:
    job = w.name("exec")
    w.create(job, "echo x")
    assert w.wait(job)[0] == 0
    code, out, err = w.run("job", "node", "exec", *WS_ARGS, "-j", job, "--exec", "echo on-node; exit 4")
    assert (code, out) == (4, "on-node\n"), err
    # neither --exec nor -L: nothing to do (0.4.10 returned at once)
    assert w.run("job", "node", "exec", *WS_ARGS, "-j", job) == (0, "", "")


def test_no_wait_create_and_delete(w: World) -> None:
    job = w.name("nowait")
    path = w.job_file("echo quick", f"{job}.json")
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", job, "-c", "cl", "-f", path, *MOUNT_ARGS, "--no-wait")
    assert (code, out) == (0, ""), err
    assert w.wait(job)[0] == 0
    code, out, err = w.run("job", "delete", *WS_ARGS, "-n", job, "-y", "--no-wait")
    assert (code, out) == (0, ""), err


# ------------------------------------------------------------------------------- merge rules

def test_options_win_over_the_file_and_mounts_are_added(w: World) -> None:
    job = w.name("merge")
    other = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/ws/clusters/absent"
    volumes = {"azureFileShares": [{
        "accountName": "<AZURE_BATCHAI_STORAGE_ACCOUNT>",
        "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/logs",
        "credentials": {"accountKey": "<AZURE_BATCHAI_STORAGE_KEY>"}, "relativeMountPath": "fromfile"}]}
    path = w.job_file("ls $AZ_BATCHAI_JOB_MOUNT_ROOT", f"{job}.json", cluster={"id": other}, mountVolumes=volumes)
    env = {"AZURE_BATCHAI_STORAGE_ACCOUNT": ACCOUNT, "AZURE_BATCHAI_STORAGE_KEY": w.key}
    created = w.ok("job", "create", *WS_ARGS, "-n", job, "-c", CLUSTER_ID, "-f", path, *MOUNT_ARGS,
                   "--bfs-name", "data", env=env)
    # -c (here an ARM id) wins over the file's cluster
    assert created["cluster"]["id"] == CLUSTER_ID
    shares = created["mountVolumes"]["azureFileShares"]
    # the file's share (placeholders filled from the environment) first, then --afs-name's
    assert [(s["accountName"], s["relativeMountPath"]) for s in shares] == [(ACCOUNT, "fromfile"), (ACCOUNT, "logs")]
    assert shares[0]["azureFileUrl"] == f"https://{ACCOUNT}.file.core.windows.net/logs"
    blobs = created["mountVolumes"]["azureBlobFileSystems"]
    assert [(b["accountName"], b["containerName"], b["relativeMountPath"]) for b in blobs] == [(ACCOUNT, "data", "bfs")]
    assert w.wait(job)[0] == 0
    code, out, err = w.run("job", "file", "stream", *WS_ARGS, "-j", job, "-f", "stdout.txt")
    assert code == 0, err
    assert out.split() == ["bfs", "fromfile", "logs"]


def test_nfs_option_mounts_the_file_server(w: World) -> None:
    job = w.name("nfs")
    created = w.create(job, "test -d $AZ_BATCHAI_JOB_MOUNT_ROOT/mynfs && echo mounted", "--nfs", "nfs1",
                       "--nfs-mount-path", "mynfs")
    assert created["mountVolumes"]["fileServers"] == [{
        "fileServer": {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/ws/"
                             "fileservers/nfs1", "resourceGroup": RG},
        "mountOptions": "rw", "relativeMountPath": "mynfs", "sourceDirectory": None}]
    assert w.wait(job)[0] == 0
    assert w.run("job", "file", "stream", *WS_ARGS, "-j", job, "-f", "stdout.txt")[1] == "mounted\n"
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", "nonfs", "-c", "cl", "-f", f"{job}.json", "--nfs", "absent")
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: ") and "absent" in err
    _assert_no_job(w, "nonfs")


def test_placeholder_without_configuration_is_refused(w: World) -> None:
    job = w.name("placeholder")
    volumes = {"azureFileShares": [{"accountName": "<AZURE_BATCHAI_STORAGE_ACCOUNT>",
                                    "azureFileUrl": "https://x.file.core.windows.net/logs",
                                    "credentials": {"accountKey": "k"}, "relativeMountPath": "m"}]}
    path = w.job_file("true", f"{job}.json", mountVolumes=volumes)
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", job, "-c", "cl", "-f", path)
    assert (code, out) == (1, "")
    assert err == ("ERROR: Please configure Azure Storage account name via AZURE_BATCHAI_STORAGE_ACCOUNT or provide "
                   "storage_account value in batchai section of your az configuration file.\n")
    _assert_no_job(w, job)


# ------------------------------------------------------------------------------------ errors

def _assert_no_job(w: World, job: str) -> None:
    assert job not in w.ok("job", "list", *WS_ARGS, "--query", "[].name")


def test_missing_cluster(w: World) -> None:
    path = w.job_file("true", "missing-cluster.json")
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", "nocluster", "-c", "absent", "-f", path)
    assert (code, out, err) == (1, "", "ERROR: The specified cluster absent is not found\n")
    _assert_no_job(w, "nocluster")


def test_bad_json_and_missing_file(w: World) -> None:
    (w.root / "bad.json").write_text("{not json", encoding="utf-8")
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", "badjson", "-c", "cl", "-f", "bad.json")
    assert (code, out, err) == (1, "", "ERROR: Expecting property name enclosed in double quotes: line 1 column 2 "
                                       "(char 1)\n")
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", "badjson", "-c", "cl", "-f", "absent.json")
    assert (code, out, err) == (1, "", "ERROR: [Errno 2] No such file or directory: 'absent.json'\n")
    _assert_no_job(w, "badjson")


def test_unknown_option_and_missing_arguments(w: World) -> None:
    code, out, err = w.run("job", "show", *WS_ARGS, "-n", "x", "--bogus")
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == "ERROR: batchai: error: unrecognized arguments: --bogus"
    assert "usage: batchai" in err
    # the 2018-05-01 shape needs -e (0.4.10 made it required)
    code, out, err = w.run("job", "show", "-g", RG, "-w", "ws", "-n", "x")
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == ("ERROR: batchai job show: error: the following arguments are required: "
                                   "--experiment/-e")
    assert err.splitlines()[1].startswith("usage: batchai job show")
    # -e without a workspace: 0.4.10's command with -w missing
    code, out, err = w.run("job", "list", "-g", RG, "-e", "exp")
    assert (code, err.splitlines()[0]) == (
        2, "ERROR: batchai job list: error: the following arguments are required: --workspace/-w")
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", "x", "-c", "cl")
    assert (code, err.splitlines()[0]) == (
        2, "ERROR: batchai job create: error: the following arguments are required: --config-file/-f")
    _assert_no_job(w, "x")


def test_existing_job_is_not_replaced(w: World) -> None:
    job = w.name("twice")
    w.create(job, "echo first")
    assert w.wait(job)[0] == 0
    path = w.job_file("echo second", f"{job}-again.json")
    code, out, err = w.run("job", "create", *WS_ARGS, "-n", job, "-c", "cl", "-f", path, *MOUNT_ARGS)
    assert (code, out, err) == (
        1, "", "ERROR: A job with given name, experiment, workspace and resource group already exists.\n")


def test_no_file_upload_command(w: World) -> None:
    # azure-cli-batchai 0.4.10 had no `job file upload` (inputs went through `az storage`)
    code, out, err = w.run("job", "file", "upload", *WS_ARGS, "-j", "x")
    assert (code, out) == (2, "")
    assert "upload" in err


# ------------------------------------------------------------------------- pre-workspace shape

def _old_job_file(w: World, name: str, command: str) -> str:
    body = {"$schema": "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2017-09-01-preview/job.json",
            "properties": {"experimentName": "my-experiment", "nodeCount": 1, "stdOutErrPathPrefix": LOGS,
                           "customToolkitSettings": {"commandLine": command}}}
    (w.root / name).write_text(json.dumps(body), encoding="utf-8")
    return name


def test_old_shape_job_lifecycle(w: World) -> None:
    job = w.name("oldjob")
    path = _old_job_file(w, f"{job}.json", "for i in 1 2 3; do echo old $i; sleep 0.3; done")
    # 0.2.3: -c is the config file, -r the cluster; the location comes from the resource group
    created = w.ok("job", "create", "-g", RG, "-n", job, "-c", path, "-r", "oldcl", *MOUNT_ARGS)
    assert created["id"] == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/jobs/{job}"
    assert created["cluster"]["id"] == OLD_CLUSTER_ID
    assert created["location"] == "eastus"
    code, out, err = w.run("job", "file", "stream", "-g", RG, "-n", job, "-f", "stdout.txt")
    assert (code, out) == (0, "old 1\nold 2\nold 3\n"), err
    code, out, err = w.run("job", "wait", "-g", RG, "-n", job, "--interval", "0.2")
    assert code == 0, err
    assert _warnings(err)[-1].startswith("Job completed at ")
    # an old-form id selects the old shape
    assert w.ok("job", "show", "--ids", created["id"], "--query", "id") == created["id"]
    # the same job in the 2018-05-01 shape: workspace and experiment "default"
    assert w.ok("job", "show", "-g", RG, "-w", "default", "-e", "default", "-n", job, "--query", "name") == job

    code, out, err = w.run("job", "show", "-g", RG, "-n", job, "-o", "table")
    assert code == 0, err
    header, _, row = out.splitlines()
    assert re.split(r"\s{2,}", header) == ["Name", "Resource Group", "Cluster", "Cluster RG", "Tool", "Nodes",
                                           "State", "Exit code"]
    assert row.split() == [job, RG, "oldcl", RG, "custom", "1", "succeeded", "0"]
    assert job in w.ok("job", "list", "-g", RG, "--query", "[].name")
    assert job in w.ok("job", "list", "--query", "[].name")

    # 0.2.3's `job file list -n JOB -e EXPIRY` (is_directory listing)
    files = w.ok("job", "file", "list", "-g", RG, "-n", job, "-e", "10")
    assert {"stdout.txt", "stderr.txt"} <= {f["name"] for f in files}
    assert all("isDirectory" in f for f in files)
    code, out, err = w.run("job", "file", "list", "-g", RG, "-n", job, "-o", "table")
    assert out.splitlines()[0].split() == ["Name", "Is", "directory", "Size", "Modified"], err

    # 0.1.6's names
    code, out, err = w.run("job", "list-files", "-g", RG, "-n", job, "-d", "stdouterr", "-o", "table")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["Name", "Size", "URL"]
    code, out, err = w.run("job", "stream-file", "-g", RG, "-j", job, "-d", "stdouterr", "-n", "stdout.txt")
    assert (code, out) == (0, "old 1\nold 2\nold 3\n"), err
    code, out, err = w.run("job", "list-nodes", "-g", RG, "-n", job, "-o", "table")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["ID", "IP", "Port"] and len(out.splitlines()) == 3

    code, out, err = w.run("job", "delete", "-g", RG, "-n", job, "-y")
    assert (code, out) == (0, ""), err
    assert job not in w.ok("job", "list", "-g", RG, "--query", "[].name")


def test_config_file_spellings(w: World) -> None:
    # 0.4.10 accepted --config as an abbreviation of --config-file: with -w it is the 2018-05-01 file
    job = w.name("spelled")
    path = w.job_file("echo spelled", f"{job}.json")
    created = w.ok("job", "create", *WS_ARGS, "-n", job, "-c", "cl", "--config", path, *MOUNT_ARGS)
    assert created["id"].endswith(f"/workspaces/ws/experiments/exp/jobs/{job}")
    assert w.wait(job)[0] == 0
    # the old CLIs' `-c job.json` is an old command line: a configured default workspace is ignored
    old = w.name("oldspelled")
    old_path = _old_job_file(w, f"{old}.json", "echo old spelling")
    config = Path(w.env["AZURE_CONFIG_DIR"]) / "config"
    config.write_text("[defaults]\nworkspace = ws\n", encoding="utf-8")
    try:
        created = w.ok("job", "create", "-g", RG, "-n", old, "-c", old_path, "-r", "oldcl", *MOUNT_ARGS)
        assert created["id"].endswith(f"/providers/Microsoft.BatchAI/jobs/{old}")
        code, out, err = w.run("job", "create", "-g", RG, "-n", w.name("x"), "-l", "eastus")
        assert (code, err.splitlines()[0]) == (
            2, "ERROR: batchai job create: error: the following arguments are required: --config/-c")
    finally:
        config.unlink()
    assert w.run("job", "wait", "-g", RG, "-n", old, "--interval", "0.2")[0] == 0


def test_old_shape_config_option_and_generation_errors(w: World) -> None:
    job = w.name("oldcfg")
    path = _old_job_file(w, f"{job}.json", "echo cfg")
    created = w.ok("job", "create", "-g", RG, "-n", job, "--config", path, "--cluster-name", "oldcl",
                   "-l", "eastus", *MOUNT_ARGS)
    assert created["cluster"]["id"] == OLD_CLUSTER_ID
    assert w.run("job", "wait", "-g", RG, "-n", job, "--interval", "0.2")[0] == 0
    # an old-only option with -w: refused, nothing created
    code, out, err = w.run("job", "create", "-g", RG, "-w", "ws", "-n", "mixed", "-c", path, "-r", "oldcl")
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: --cluster-name: option(s) of the pre-workspace CLI")
    # old-only command names take no -w
    code, out, err = w.run("job", "list-files", "-g", RG, "-w", "ws", "-n", job, "-d", "stdouterr")
    assert (code, out) == (2, "")
    assert "unrecognized arguments: -w ws" in err
    # the old CLI's --cluster-resource-group names where the -r cluster lives
    code, out, err = w.run("job", "create", "-g", RG, "-n", "elsewhere", "-c", path, "-r", "oldcl",
                           "--cluster-resource-group", "other")
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: ")
    assert "elsewhere" not in w.ok("job", "list", "-g", RG, "--query", "[].name")
    w.ok("job", "delete", "-g", RG, "-n", job, "-y")
