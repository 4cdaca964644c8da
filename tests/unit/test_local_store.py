"""The local backend's control plane, driven directly through the backend interface.

These tests need no job execution: every cluster has 0 nodes, so jobs stay ``queued``.
The same behaviours are covered through the public client in ``tests/contract/``.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import warnings

import pytest

from batchai_compat.backends.base import ClusterRef, ExperimentRef, FileServerRef, JobRef, WorkspaceRef
from batchai_compat.backends.errors import Conflict, InvalidInput, NotFound, NotSupported
from batchai_compat.backends.local import LocalBackend, nodes
from batchai_compat.backends.local.store import Store
from batchai_compat.exceptions import BatchAICompatStateError, BatchAICompatWarning

SUB, RG = "00000000-0000-0000-0000-000000000000", "rg"
WS = WorkspaceRef(SUB, RG, "ws")
EXP = ExperimentRef(SUB, RG, "ws", "exp")
CL = ClusterRef(SUB, RG, "ws", "cl")


@pytest.fixture
def backend(tmp_path):
    # delete_seconds=0: a deletion without processes completes at once (these tests poll once)
    b = LocalBackend(home=tmp_path, delete_seconds=0.0)
    yield b
    b.close()


def cluster_params(target=0, **props):
    body = {"vmSize": "STANDARD_D1", "vmPriority": "lowpriority",
            "userAccountSettings": {"adminUserName": "demoUser", "adminUserPassword": "hunter2"},
            "scaleSettings": {"manual": {"targetNodeCount": target}}}
    body.update(props)
    return {"properties": body}


def job_params(cluster_id, **props):
    body = {"cluster": {"id": cluster_id}, "nodeCount": 1, "stdOutErrPathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles",
            "customToolkitSettings": {"commandLine": "true"}}
    body.update(props)
    return {"properties": body}


@pytest.fixture
def world(backend):
    backend.create_workspace(WS, {"location": "eastus"})
    backend.create_experiment(EXP)
    cluster = backend.create_cluster(CL, cluster_params()).poll().resource
    return cluster


def test_state_file_is_private_and_in_wal_mode(backend, tmp_path):
    mode = stat.S_IMODE(os.stat(tmp_path / "state.db").st_mode)
    assert mode == 0o600
    backend.create_workspace(WS, {"location": "eastus"})
    for suffix in ("-wal", "-shm"):
        path = tmp_path / f"state.db{suffix}"
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    mode = backend.store.connection().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _rows_seen_by_a_fresh_process(db, table="standby"):
    code = f"import sqlite3; print(sqlite3.connect({str(db)!r}).execute('SELECT count(*) FROM {table}').fetchone()[0])"
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def _insert_standby(store, pid):
    with store.write() as conn:
        conn.execute("INSERT INTO standby(pid, start, fifo, since) VALUES (?, 1, 'fifo', 0)", (pid,))


@pytest.mark.parametrize("make", [Store, Store.shared], ids=["constructor", "shared"])
def test_a_second_store_in_one_process_keeps_the_first_ones_locks(tmp_path, make):
    """Issue 11.1: building a second client used to open and close state.db, which drops every POSIX
    lock the process holds on it; the next process to close its connection (a job supervisor exiting)
    then deleted state.db-wal under the first client, whose later commits were lost."""
    db = tmp_path / "state.db"
    first = make(db)
    _insert_standby(first, 1)
    make(db)  # the notebook re-runs the cell that builds the client
    closer = f"from batchai_compat.backends.local.store import Store; Store({str(db)!r}).close()"
    subprocess.run([sys.executable, "-c", closer], check=True)  # as every supervisor does when it exits
    assert (tmp_path / "state.db-wal").exists()
    _insert_standby(first, 2)
    assert _rows_seen_by_a_fresh_process(db) == 2


def test_a_forked_child_takes_its_own_locks(tmp_path):
    """multiprocessing's fork start method: a child building its own client on the parent's home.
    SQLite's per-process lock record is inherited without the locks; the child's connections used to
    hold none, so when the parent closed its client the -wal was deleted under the child."""
    db = tmp_path / "state.db"
    parent = Store.shared(db)
    _insert_standby(parent, 1)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            child = Store.shared(db)
            _insert_standby(child, 2)
            os.write(ready_w, b"1")
            os.read(go_r, 1)  # the parent has closed its connection meanwhile
            _insert_standby(child, 3)
            status = 0
        finally:
            os._exit(status)
    os.read(ready_r, 1)
    parent.close()
    os.write(go_w, b"1")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _rows_seen_by_a_fresh_process(db) == 3


def test_one_shared_store_per_process_and_database(tmp_path):
    db = tmp_path / "state.db"
    store = Store.shared(db)
    assert Store.shared(tmp_path / "." / "state.db") is store
    assert Store.shared(tmp_path / "other.db") is not store
    seen = []
    worker = threading.Thread(target=lambda: seen.append((Store.shared(db), Store.shared(db).connection())))
    worker.start()
    worker.join()
    assert seen[0][0] is store and seen[0][1] is not store.connection()  # one connection per thread


def test_a_database_deleted_under_a_running_process_is_reported(tmp_path):
    """Writes into a deleted state.db would be invisible to every other process: refuse them."""
    db = tmp_path / "state.db"
    store = Store.shared(db)
    _insert_standby(store, 1)
    os.unlink(db)
    with pytest.raises(BatchAICompatStateError, match="was deleted or replaced while this process was using it"):
        _insert_standby(store, 2)
    with pytest.raises(BatchAICompatStateError, match="reset --home"):
        Store.shared(db)  # a new client of this process must not start over silently either
    assert not db.exists()


def test_a_lost_write_ahead_log_is_reported(tmp_path):
    db = tmp_path / "state.db"
    store = Store(db)
    _insert_standby(store, 1)
    os.unlink(f"{db}-wal")  # what the issue-11.1 bug did
    with pytest.raises(BatchAICompatStateError, match="lost its write-ahead log"):
        _insert_standby(store, 2)


def test_the_database_is_created_private_with_its_marker(tmp_path):
    """Several processes creating the same fresh home at once: one database, 0600, its marker."""
    db = tmp_path / "home" / "state.db"
    code = ("import sys, time; from batchai_compat.backends.local.store import Store\n"
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); Store(sys.argv[1]).close()\n")
    start = str(time.time() + 1.0)
    racers = [subprocess.Popen([sys.executable, "-c", code, str(db), start]) for _ in range(6)]
    assert [racer.wait(timeout=60) for racer in racers] == [0] * 6
    Store(db)
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(".")) == []  # no temporary left
    assert json.loads((db.parent / "state.created").read_text())["database"] == "state.db"


def test_workspace_lifecycle(backend):
    op = backend.create_workspace(WS, {"location": "eastus", "tags": {"a": "b"}})
    body = op.initial
    assert body["id"] == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/ws"
    assert body["type"] == "Microsoft.BatchAI/workspaces"
    assert body["location"] == "eastus" and body["tags"] == {"a": "b"}
    props = body["properties"]
    assert props["provisioningState"] == "succeeded"
    assert props["creationTime"] == props["provisioningStateTransitionTime"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", props["creationTime"])
    assert backend.get_workspace(WS)["id"] == body["id"]
    assert backend.update_workspace(WS, {"tags": {"x": "y"}})["tags"] == {"x": "y"}
    assert [w["name"] for w in backend.list_workspaces(SUB, None, 1000, None).value] == ["ws"]
    assert [w["name"] for w in backend.list_workspaces(SUB, RG, 1000, None).value] == ["ws"]
    assert backend.list_workspaces(SUB, "other", 1000, None).value == []
    backend.delete_workspace(WS).poll()
    with pytest.raises(NotFound) as err:
        backend.get_workspace(WS)
    assert err.value.code == "WorkspaceNotFound"
    assert err.value.message == "The specified workspace ws is not found"


def test_create_workspace_is_create_or_update(backend):
    first = backend.create_workspace(WS, {"location": "eastus"}).initial
    again = backend.create_workspace(WS, {"location": "eastus", "tags": {"k": "v"}}).initial
    assert again["properties"]["creationTime"] == first["properties"]["creationTime"]
    assert again["tags"] == {"k": "v"}
    with pytest.raises(Conflict):
        backend.create_workspace(WS, {"location": "westus"})


def test_paging_with_continuation(backend):
    for i in range(5):
        backend.create_workspace(WorkspaceRef(SUB, RG, f"w{i}"), {"location": "eastus"})
    names, token = [], None
    while True:
        page = backend.list_workspaces(SUB, RG, 2, token)
        assert len(page.value) <= 2
        names += [w["name"] for w in page.value]
        token = page.next_link
        if not token:
            break
    assert names == [f"w{i}" for i in range(5)]
    with pytest.raises(InvalidInput):
        backend.list_workspaces(SUB, RG, 2, "!!garbage!!")


def test_experiment_lifecycle_and_not_found_codes(backend):
    with pytest.raises(NotFound) as err:
        backend.create_experiment(EXP)
    assert err.value.code == "WorkspaceNotFound"
    backend.create_workspace(WS, {"location": "eastus"})
    body = backend.create_experiment(EXP).initial
    assert body["type"] == "Microsoft.BatchAI/workspaces/experiments"
    assert body["id"].endswith("/workspaces/ws/experiments/exp")
    assert backend.create_experiment(EXP).initial == body
    assert [e["id"] for e in backend.list_experiments(WS, 1000, None).value] == [body["id"]]
    backend.delete_experiment(EXP).poll()
    with pytest.raises(NotFound) as err:
        backend.get_experiment(EXP)
    assert err.value.code == "ExperimentNotFound"
    for call, code in ((lambda: backend.get_cluster(CL), "ClusterNotFound"),
                       (lambda: backend.get_file_server(FileServerRef(SUB, RG, "ws", "fs")), "FileServerNotFound"),
                       (lambda: backend.get_job(JobRef(SUB, RG, "ws", "nope", "j")), "ExperimentNotFound")):
        with pytest.raises(NotFound) as err:
            call()
        assert err.value.code == code


def test_cluster_body_defaults_and_secrets(backend):
    backend.create_workspace(WS, {"location": "eastus"})
    params = cluster_params(nodeSetup={
        "setupTask": {"commandLine": "true", "stdOutErrPathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles",
                      "secrets": [{"name": "S", "value": "secret-value"}]},
        "mountVolumes": {"azureFileShares": [{
            "accountName": "acct", "azureFileUrl": "https://acct.file.core.windows.net/share",
            "credentials": {"accountKey": "KEY"}, "relativeMountPath": "azfiles",
            "fileMode": "0777", "directoryMode": "0777"}]},
    })
    op = backend.create_cluster(CL, params)
    assert op.initial is None  # 202 with an empty body
    body = op.poll().resource
    props = body["properties"]
    assert body["type"] == "Microsoft.BatchAI/workspaces/clusters"
    assert props["virtualMachineConfiguration"]["imageReference"] == {
        "publisher": "Canonical", "offer": "UbuntuServer", "sku": "16.04-LTS", "version": "latest"}
    assert props["userAccountSettings"] == {"adminUserName": "demoUser"}
    assert props["nodeSetup"]["mountVolumes"]["azureFileShares"][0]["credentials"] == {}
    assert props["nodeSetup"]["setupTask"]["secrets"] == [{"name": "S"}]
    assert re.match(rf"^{SUB}/{RG}/workspaces/ws/clusters/cl/[0-9a-f-]{{36}}$",
                    props["nodeSetup"]["setupTask"]["stdOutErrPathSuffix"])
    assert props["scaleSettings"] == {"manual": {"targetNodeCount": 0, "nodeDeallocationOption": "requeue"}}
    assert props["nodeStateCounts"] == {"idleNodeCount": 0, "runningNodeCount": 0, "preparingNodeCount": 0,
                                        "unusableNodeCount": 0, "leavingNodeCount": 0}
    assert props["currentNodeCount"] == 0 and props["allocationState"] == "steady"
    assert "errors" not in props
    again = backend.create_cluster(CL, params).poll().resource  # identical create: idempotent
    assert again["properties"]["creationTime"] == props["creationTime"]
    assert "_createRequestDigest" not in again
    changed = dict(params, properties=dict(params["properties"], vmSize="STANDARD_NC6"))
    with pytest.raises(Conflict, match="different parameters"):
        backend.create_cluster(CL, changed)


def test_cluster_nodes_and_remote_login(backend):
    backend.create_workspace(WS, {"location": "eastus"})
    body = backend.create_cluster(CL, cluster_params(target=2)).poll().resource
    assert body["properties"]["nodeStateCounts"]["idleNodeCount"] == 2
    logins = backend.list_cluster_remote_login_information(CL, None).value
    assert len(logins) == 2
    assert len({x["ipAddress"] for x in logins}) == 2
    for i, login in enumerate(logins):
        assert re.match(r"^tvm-\d+_\d+-\d{8}t\d{6}z-p$", login["nodeId"])  # low priority
        octet = nodes.home_octet(backend.home)
        assert re.match(rf"^127\.{octet}\.\d+\.\d+$", login["ipAddress"]) and login["ipAddress"] != "127.0.0.1"
        assert login["port"] == 50000 + i
        uid_dirs = list((backend.home / "nodes").iterdir())
        assert (uid_dirs[0] / login["nodeId"]).is_dir()
    backend.update_cluster(CL, {"properties": {"scaleSettings": {"manual": {"targetNodeCount": 0}}}})
    props = backend.get_cluster(CL)["properties"]
    assert props["nodeStateCounts"]["leavingNodeCount"] == 2 and props["allocationState"] == "resizing"


def test_unmanaged_file_system_is_refused(backend):
    backend.create_workspace(WS, {"location": "eastus"})
    params = cluster_params(nodeSetup={"mountVolumes": {"unmanagedFileSystems": [
        {"mountCommand": "mount -t glusterfs 10.0.0.4:/gv0", "relativeMountPath": "g"}]}})
    with pytest.raises(NotSupported) as err:
        backend.create_cluster(CL, params)
    assert "unmanagedFileSystems" in err.value.message


def test_file_server(backend):
    backend.create_workspace(WS, {"location": "eastus"})
    ref = FileServerRef(SUB, RG, "ws", "FS1")
    params = {"properties": {"vmSize": "STANDARD_D1",
                             "sshConfiguration": {"userAccountSettings": {"adminUserName": "u",
                                                                          "adminUserPassword": "pw"}},
                             "dataDisks": {"diskSizeInGB": 10, "diskCount": 2, "storageAccountType": "Standard_LRS"}}}
    op = backend.create_file_server(ref, params)
    assert op.initial is None
    body = op.poll().resource
    assert body["id"].endswith("/workspaces/ws/fileservers/FS1")
    assert body["type"] == "Microsoft.BatchAI/workspaces/fileservers"
    props = body["properties"]
    assert props["provisioningState"] == "succeeded"
    assert props["sshConfiguration"]["userAccountSettings"] == {"adminUserName": "u"}
    assert props["dataDisks"]["cachingType"] == "none"
    assert props["mountSettings"]["mountPoint"] == "/data"
    assert re.match(r"^127\.\d+\.\d+\.\d+$", props["mountSettings"]["fileServerInternalIP"])
    assert [f["name"] for f in backend.list_file_servers(WS, 1000, None).value] == ["FS1"]
    export = backend.home / "fileservers" / SUB / RG / "ws" / "FS1" / "data"
    assert export.is_dir()
    backend.delete_file_server(ref).poll()
    assert backend.list_file_servers(WS, 1000, None).value == []
    assert not export.exists()


def test_job_server_filled_fields(backend, world):
    ref = JobRef(SUB, RG, "ws", "exp", "job")
    params = job_params(world["id"], secrets=[{"name": "SECRET", "value": "s3cr3t"}],
                        environmentVariables=[{"name": "V", "value": "1"}],
                        mountVolumes={"azureBlobFileSystems": [{"accountName": "acct", "containerName": "cont",
                                                                "credentials": {"accountKey": "K"},
                                                                "relativeMountPath": "bfs"}]},
                        containerSettings={"imageSourceRegistry": {"image": "ubuntu", "credentials": {
                            "username": "me", "password": "pw"}}})
    with pytest.warns(BatchAICompatWarning, match="ubuntu"):
        op = backend.create_job(ref, params)
    assert op.initial is None
    body = backend.get_job(ref)
    props = body["properties"]
    assert body["type"] == "Microsoft.BatchAI/workspaces/experiments/jobs"
    assert props["toolType"] == "custom" and props["schedulingPriority"] == "normal"
    assert props["constraints"] == {"maxWallClockTime": "P7D"}
    assert props["provisioningState"] == "succeeded" and props["experimentName"] == "exp"
    assert props["executionState"] == "queued" and "executionInfo" not in props
    assert props["executionStateTransitionTime"] == props["creationTime"]
    assert re.match(rf"^{SUB}/{RG}/workspaces/ws/experiments/exp/jobs/job/[0-9a-f-]{{36}}$",
                    props["jobOutputDirectoryPathSegment"])
    assert props["secrets"] == [{"name": "SECRET"}]
    assert props["environmentVariables"] == [{"name": "V", "value": "1"}]
    assert props["mountVolumes"]["azureBlobFileSystems"][0]["credentials"] == {}
    assert props["containerSettings"]["imageSourceRegistry"]["credentials"] == {"username": "me"}
    assert props["stdOutErrPathPrefix"] == "$AZ_BATCHAI_MOUNT_ROOT/azfiles"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchAICompatWarning)
        again = backend.create_job(ref, params).poll().resource  # identical create: idempotent
    assert again["properties"]["jobOutputDirectoryPathSegment"] == props["jobOutputDirectoryPathSegment"]
    assert again["properties"]["secrets"] == [{"name": "SECRET"}]
    changed = job_params(world["id"])
    with pytest.raises(Conflict, match="different parameters"):
        backend.create_job(ref, changed)


@pytest.mark.parametrize("settings, node_count, expected", [
    ({"horovodSettings": {"pythonScriptFilePath": "a.py"}}, 2, ("horovod", "horovodSettings", {"processCount": 2})),
    ({"customMpiSettings": {"commandLine": "x"}}, 3, ("mpi", "customMpiSettings", {"processCount": 3})),
    ({"pyTorchSettings": {"pythonScriptFilePath": "a.py"}}, 2, ("pytorch", "pyTorchSettings", {"processCount": 2})),
    ({"cntkSettings": {"pythonScriptFilePath": "a.py"}}, 1, ("cntk", "cntkSettings", {"languageType": "Python"})),
    ({"tensorFlowSettings": {"pythonScriptFilePath": "a.py"}}, 2,
     ("tensorflow", "tensorFlowSettings", {"workerCount": 2, "parameterServerCount": 1})),
    ({"tensorFlowSettings": {"pythonScriptFilePath": "a.py"}}, 1, ("tensorflow", "tensorFlowSettings", {})),
    ({"caffe2Settings": {"pythonScriptFilePath": "a.py"}}, 1, ("caffe2", "caffe2Settings", {})),
])
def test_toolkit_defaults(backend, world, settings, node_count, expected):
    props = {"nodeCount": node_count, "customToolkitSettings": None, **settings}
    backend.create_job(JobRef(SUB, RG, "ws", "exp", "j"), job_params(world["id"], **props))
    got = backend.get_job(JobRef(SUB, RG, "ws", "exp", "j"))["properties"]
    tool, key, fields = expected
    assert got["toolType"] == tool
    for name, value in fields.items():
        assert got[key][name] == value
    if tool == "tensorflow" and node_count == 1:
        assert got[key].get("workerCount") is None and got[key].get("parameterServerCount") is None


def test_job_validation(backend, world):
    ref = JobRef(SUB, RG, "ws", "exp", "j")
    with pytest.raises(InvalidInput):
        backend.create_job(ref, job_params(world["id"], tensorFlowSettings={"pythonScriptFilePath": "x"}))
    with pytest.raises(NotFound) as err:
        backend.create_job(ref, job_params(world["id"] + "x"))
    assert err.value.code == "ClusterNotFound"


def test_terminate_and_delete_queued_job(backend, world):
    ref = JobRef(SUB, RG, "ws", "exp", "j")
    backend.create_job(ref, job_params(world["id"]))
    backend.terminate_job(ref).poll()
    props = backend.get_job(ref)["properties"]
    assert props["executionState"] == "failed"
    info = props["executionInfo"]
    assert info["errors"] == [{"code": "JobTerminated", "message": "The specified job has been terminated by the user"}]
    assert "exitCode" not in info and info["startTime"] == info["endTime"]
    assert backend.terminate_job(ref).poll().done  # no-op on a finished job
    assert backend.get_job(ref)["properties"]["executionInfo"] == info
    backend.delete_job(ref).poll()
    with pytest.raises(NotFound) as err:
        backend.get_job(ref)
    assert err.value.code == "JobNotFound" and err.value.message == "The specified job j is not found"


def test_cascade_deletes(backend):
    for ws in ("first", "second"):
        wref = WorkspaceRef(SUB, RG, ws)
        backend.create_workspace(wref, {"location": "eastus"})
        cluster = backend.create_cluster(ClusterRef(SUB, RG, ws, "cluster"), cluster_params()).poll().resource
        for exp in ("exp1", "exp2"):
            backend.create_experiment(ExperimentRef(SUB, RG, ws, exp))
            backend.create_job(JobRef(SUB, RG, ws, exp, "job"), job_params(cluster["id"]))
    backend.delete_experiment(ExperimentRef(SUB, RG, "first", "exp1")).poll()
    with pytest.raises(NotFound):
        backend.get_job(JobRef(SUB, RG, "first", "exp1", "job"))
    assert backend.get_job(JobRef(SUB, RG, "first", "exp2", "job"))["properties"]["executionState"] == "queued"
    backend.delete_workspace(WorkspaceRef(SUB, RG, "first")).poll()
    with pytest.raises(NotFound):
        backend.get_workspace(WorkspaceRef(SUB, RG, "first"))
    store = backend.store.connection()
    assert store.execute("SELECT COUNT(*) FROM jobs WHERE ws_key LIKE '%/first'").fetchone()[0] == 0
    assert store.execute("SELECT COUNT(*) FROM clusters WHERE ws_key LIKE '%/first'").fetchone()[0] == 0
    for exp in ("exp1", "exp2"):
        job = backend.get_job(JobRef(SUB, RG, "second", exp, "job"))
        assert job["properties"]["executionState"] == "queued"
    assert backend.get_cluster(ClusterRef(SUB, RG, "second", "cluster"))["name"] == "cluster"


def test_usages_count_clusters_and_vcpus(backend):
    backend.create_workspace(WS, {"location": "East US"})
    backend.create_cluster(CL, cluster_params(target=2, vmSize="STANDARD_NC6", vmPriority="dedicated"))
    usages = {u["name"]["value"]: u for u in backend.list_usages(SUB, "eastus")}
    assert usages["Clusters"]["currentValue"] == 1
    assert usages["Total Cluster Dedicated Regional vCPUs"]["currentValue"] == 12
    assert usages["Standard NC Family Cluster Dedicated vCPUs"]["currentValue"] == 12
    assert all(u["unit"] == "Count" for u in usages.values())
    assert {u["name"]["value"]: u["currentValue"] for u in backend.list_usages(SUB, "westus")}["Clusters"] == 0


def test_many_threads_create_jobs_without_loss(backend, world):
    errors = []

    def worker(t):
        try:
            for i in range(20):
                backend.create_job(JobRef(SUB, RG, "ws", "exp", f"j{t}_{i}"), job_params(world["id"]))
                backend.get_job(JobRef(SUB, RG, "ws", "exp", f"j{t}_{i}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names, token = [], None
    while True:
        page = backend.list_jobs(EXP, 1000, token)
        names += [j["name"] for j in page.value]
        token = page.next_link
        if not token:
            break
    assert sorted(names) == sorted(f"j{t}_{i}" for t in range(10) for i in range(20))


def test_state_survives_in_another_process(backend, world, tmp_path):
    backend.create_job(JobRef(SUB, RG, "ws", "exp", "j"), job_params(world["id"]))
    code = (
        "import sys, json\n"
        "from batchai_compat.backends.local import LocalBackend\n"
        "from batchai_compat.backends.base import JobRef, ExperimentRef\n"
        f"b = LocalBackend(home={str(tmp_path)!r})\n"
        f"print(b.get_job(JobRef({SUB!r}, {RG!r}, 'ws', 'exp', 'j'))['properties']['executionState'])\n"
        f"b.create_experiment(ExperimentRef({SUB!r}, {RG!r}, 'ws', 'other'))\n"
    )
    from batchai_compat.backends.local import procs

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=procs.child_env(),
                         check=True)
    assert out.stdout.strip() == "queued"
    assert backend.get_experiment(ExperimentRef(SUB, RG, "ws", "other"))["name"] == "other"


def test_unknown_options_are_refused(tmp_path):
    with pytest.raises(TypeError):
        LocalBackend(home=tmp_path, bogus=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LocalBackend(home=tmp_path, leave_seconds=0.1).close()


def test_host_path_maps_node_paths_to_mount_sources(tmp_path):
    from batchai_compat.backends.local.mounts import host_path

    cluster = [{"relative_mount_path": "azfiles", "source": "/s/share"},
               {"relative_mount_path": "azfiles/deep", "source": "/s/deep"}]
    job = [{"relative_mount_path": "job_afs", "source": "/s/job"}]
    assert str(host_path("$AZ_BATCHAI_MOUNT_ROOT/azfiles/a/b", cluster, job)) == "/s/share/a/b"
    assert str(host_path("${AZ_BATCHAI_MOUNT_ROOT}/azfiles/deep/x", cluster, job)) == "/s/deep/x"
    assert str(host_path("$AZ_BATCHAI_JOB_MOUNT_ROOT/job_afs/", cluster, job)) == "/s/job"
    assert host_path("$AZ_BATCHAI_MOUNT_ROOT/other", cluster, job) is None
    assert host_path("$AZ_BATCHAI_MOUNT_ROOT/azfiles/../../etc", cluster, job) is None
    assert host_path("/abs/path", cluster, job) is None
    assert host_path("$AZ_BATCHAI_JOB_TEMP", cluster, job) is None


def test_process_identity_needs_the_start_time():
    from batchai_compat.backends.local import procs

    me = os.getpid()
    start = procs.start_time(me)
    assert procs.alive(me, start)
    assert not procs.alive(me, (start or 0) + 12345)  # same pid, another process (recycled pid)
    assert not procs.alive(None, None) and not procs.alive(2 ** 22 + 7, None)


def test_wall_clock_parsing():
    from batchai_compat.backends.local import resources

    assert resources.wall_clock_seconds({}) == 7 * 24 * 3600
    assert resources.wall_clock_seconds({"constraints": {"maxWallClockTime": "PT1M30S"}}) == 90
    with pytest.raises(InvalidInput):
        resources.wall_clock_seconds({"constraints": {"maxWallClockTime": "soon"}})


def test_job_ids_are_case_insensitive(backend, world):
    backend.create_job(JobRef(SUB, RG, "ws", "exp", "Job"), job_params(world["id"]))
    assert backend.get_job(JobRef(SUB, RG.upper(), "WS", "EXP", "job"))["name"] == "Job"
    assert backend.create_job(JobRef(SUB, RG, "ws", "exp", "JOB"), job_params(world["id"])).poll().resource[
        "name"] == "Job"  # the same job: names are case-insensitive, the create is idempotent
    changed = job_params(world["id"])
    changed["properties"]["nodeCount"] = 2
    with pytest.raises(Conflict):
        backend.create_job(JobRef(SUB, RG, "ws", "exp", "JOB"), changed)


def test_invalid_storage_names_are_bad_requests(backend, world):
    bad = {"azureBlobFileSystems": [{"accountName": "acct", "containerName": "../../etc", "credentials": {},
                                     "relativeMountPath": "b"}]}
    with pytest.raises(InvalidInput):
        backend.create_job(JobRef(SUB, RG, "ws", "exp", "j"), job_params(world["id"], mountVolumes=bad))
    bad = {"azureFileShares": [{"accountName": "acct", "azureFileUrl": "https://acct.file.core.windows.net/Bad_Share",
                                "credentials": {}, "relativeMountPath": "a"}]}
    with pytest.raises(InvalidInput):
        backend.create_job(JobRef(SUB, RG, "ws", "exp", "j"), job_params(world["id"], mountVolumes=bad))
