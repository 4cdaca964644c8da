"""Concurrency suite: many clients per process (threads) and many processes on one home.

What users rely on (issue 11 item 1): however many ``BatchAIManagementClient`` objects a notebook
builds, in however many threads and processes, and while job supervisors come and go, no change is
lost or duplicated, SQLite never reports an error, every job runs exactly once and ends in a terminal
state, every process sees the same state, and no process of ours is left behind.

Every job appends its name to ``ran.txt`` on the cluster's share (one short ``O_APPEND`` write), so
"ran exactly once" is read from the file system, not from the state database under test. Sizes
come from ``scale(short, long)`` (``BATCHAI_COMPAT_LONG=1`` for the long variants); each test prints
its counts.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import requests

import batchai_compat.models as models
from batchai_compat import BatchAIManagementClient, _home
from batchai_compat.backends.local.__main__ import users
from tests.contract.helpers import EXP, LOCATION, RG, SUB, WS, cluster_parameters, job_parameters, share_mount
from tests.reliability.conftest import scale

REPO = Path(__file__).resolve().parents[2]
# Short-lived supervisors: standbys give up quickly, so supervisors exit (and close their database
# connections) all through the tests - the moment the issue-11.1 bug corrupted the state.
OPTIONS: Dict[str, Any] = {"linger_seconds": 0.2, "leave_seconds": 0.1, "autoscale_idle_seconds": 0.3}
REGIONS = ("eastus", "westus2", "westeurope", "southeastasia", "japaneast", "australiaeast")
SQLITE_WORDS = ("sqlite", "DatabaseError", "malformed", "disk I/O error", "not a database", "database is locked")


class _Credentials:
    def signed_session(self, session: Any = None) -> Any:  # pragma: no cover - never called locally
        return session


def new_client(home: Path) -> BatchAIManagementClient:
    return BatchAIManagementClient(_Credentials(), SUB, home=str(home), **OPTIONS)


def prepare_home(home: Path, nodes: int = 2) -> str:
    """The shared workspace, experiment and a ``nodes``-node cluster; returns the cluster's id."""
    home.mkdir(mode=0o700, exist_ok=True)
    _home.share_path("teststorage", "share", home).mkdir(parents=True, exist_ok=True)
    client = new_client(home)
    client.workspaces.create(RG, WS, LOCATION).result()
    client.experiments.create(RG, WS, EXP).result()
    cluster = client.clusters.create(RG, WS, "cluster", cluster_parameters(nodes)).result()
    deadline = time.monotonic() + 60
    while client.clusters.get(RG, WS, "cluster").node_state_counts.idle_node_count != nodes:
        assert time.monotonic() < deadline, "the shared cluster's nodes never became idle"
        time.sleep(0.05)
    client.close()
    return cluster.id


def run_command(name: str) -> str:
    return f"echo {name} >> $AZ_BATCHAI_MOUNT_ROOT/azfiles/ran.txt"


def wait_all_terminal(client: Any, expected: set, timeout: float) -> List[Any]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = [j for j in client.jobs.list_by_experiment(RG, WS, EXP) if j.name in expected]
        if len(jobs) == len(expected) and all(j.execution_state in ("succeeded", "failed") for j in jobs):
            return jobs
        if time.monotonic() > deadline:
            states = collections.Counter(j.execution_state for j in jobs)
            raise AssertionError(f"after {timeout}s: {len(jobs)} of {len(expected)} jobs visible, {dict(states)}")
        time.sleep(0.2)


def ran_counts(home: Path) -> collections.Counter:
    ran = _home.share_path("teststorage", "share", home) / "ran.txt"
    return collections.Counter(ran.read_text().split()) if ran.exists() else collections.Counter()


def view_from_a_fresh_process(home: Path) -> Dict[str, str]:
    """``{job name: state}`` as a brand-new process sees it."""
    code = (f"import json, sys; sys.path.insert(0, {str(REPO)!r})\n"
            "from tests.reliability.test_concurrency import new_client, RG, WS, EXP\n"
            f"c = new_client({str(home)!r})\n"
            "print(json.dumps({j.name: j.execution_state for j in c.jobs.list_by_experiment(RG, WS, EXP)}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=str(REPO))
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_no_leftover_processes(home: Path, timeout: float = 30.0) -> List[Any]:
    """Supervisors linger ``linger_seconds``; after that none of ours may remain."""
    deadline = time.monotonic() + timeout
    while True:
        left = users(home) or []
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def supervisor_log_errors(home: Path) -> List[str]:
    """Lines of the backend's own process logs (kept only when something went wrong) naming SQLite."""
    found = []
    logs = _home.run_dir(home) / "logs"
    for path in sorted(logs.glob("*")) if logs.is_dir() else []:
        text = path.read_text(errors="replace")
        found += [f"{path.name}: {line}" for line in text.splitlines() if any(w in line for w in SQLITE_WORDS)]
    return found


def check_outcome(home: Path, client: Any, expected: set, label: str, timeout: float) -> None:
    jobs = wait_all_terminal(client, expected, timeout)
    counts = ran_counts(home)
    lost = sorted(name for name in expected if counts[name] == 0)
    duplicated = sorted(name for name in expected if counts[name] > 1)
    print(f"[concurrency] {label}: {len(expected)} jobs, {len(lost)} lost, {len(duplicated)} duplicated")
    assert lost == [] and duplicated == []
    assert [j.name for j in jobs if j.execution_state != "succeeded"] == []
    fresh = view_from_a_fresh_process(home)
    assert {name: fresh.get(name) for name in expected} == dict.fromkeys(expected, "succeeded")
    assert supervisor_log_errors(home) == []
    assert wait_no_leftover_processes(home) == []


# -- one process, many clients ---------------------------------------------------------------------
def test_the_notebook_pattern_second_client_then_supervisor_exit(tmp_path):
    """Issue 11.1, as notebooks 04 then 05 in one kernel: client A runs a job, the cell building the
    client is run again (client B), A's supervisor exits, and work continues with A."""
    home = tmp_path / "home"
    cluster_id = prepare_home(home, nodes=1)
    a = new_client(home)
    a.jobs.create(RG, WS, EXP, "first", job_parameters(cluster_id, run_command("first"))).result()
    wait_all_terminal(a, {"first"}, timeout=60)
    b = new_client(home)
    assert wait_no_leftover_processes(home) == []  # A's supervisor has exited
    names = {"first"} | {f"next{i}" for i in range(scale(4, 20))}
    for name in sorted(names - {"first"}):
        a.jobs.create(RG, WS, EXP, name, job_parameters(cluster_id, run_command(name))).result()
    assert {j.name for j in b.jobs.list_by_experiment(RG, WS, EXP)} == names  # B sees A's work at once
    check_outcome(home, a, names, "notebook pattern (client A, client B, A's supervisor exits)", timeout=90)
    a.close()
    b.close()


def test_a_download_of_a_hard_link_to_the_database_keeps_the_locks(tmp_path):
    """The download-URL server runs inside the client's process: a signed output file that a job
    replaced by a hard link to state.db is refused (403) without that process ever closing a
    descriptor of the database (which would drop its SQLite locks, and let the next supervisor to
    exit delete the -wal the client writes into)."""
    home = tmp_path / "home"
    cluster_id = prepare_home(home, nodes=1)
    client = new_client(home)
    command = "echo hi > $AZ_BATCHAI_OUTPUT_OUTPUTS/x.txt && " + run_command("writer")
    client.jobs.create(RG, WS, EXP, "writer", job_parameters(cluster_id, command)).result()
    wait_all_terminal(client, {"writer"}, timeout=60)
    options = models.JobsListOutputFilesOptions(outputdirectoryid="OUTPUTS")
    url = next(f.download_url for f in client.jobs.list_output_files(RG, WS, EXP, "writer", options)
               if f.name == "x.txt")
    [path] = list(_home.share_path("teststorage", "share", home).rglob("x.txt"))
    path.unlink()
    os.link(home / "state.db", path)  # what any job could do: it runs as the same user
    assert requests.get(url, timeout=30).status_code == 403
    assert wait_no_leftover_processes(home) == []  # the writer's supervisor has exited
    client.jobs.create(RG, WS, EXP, "after", job_parameters(cluster_id, run_command("after"))).result()
    check_outcome(home, client, {"writer", "after"}, "download of a hard link to state.db", timeout=60)
    client.close()


def pause_for_supervisors_to_exit() -> None:
    time.sleep(OPTIONS["linger_seconds"] * 2)


def test_many_threads_each_with_its_own_client(tmp_path):
    """8 threads, each building its own client (as a notebook re-running cells in threads would),
    submit jobs in rounds; between rounds the job supervisors exit, while the clients live on."""
    home = tmp_path / "home"
    cluster_id = prepare_home(home, nodes=2)
    threads_n, per_thread = 8, scale(3, 25)
    errors: List[str] = []

    def submit(t: int) -> None:
        try:
            client = new_client(home)
            for i in range(per_thread):
                name = f"t{t}_{i}"
                client.jobs.create(RG, WS, EXP, name, job_parameters(cluster_id, run_command(name))).result()
                list(client.jobs.list_by_experiment(RG, WS, EXP))
                wait_all_terminal(client, {name}, timeout=120)
                if i % 2:
                    client = new_client(home)  # the cell that builds the client is run again
                pause_for_supervisors_to_exit()
            client.close()
        except Exception as exc:  # reported by the assertion below
            errors.append(f"thread {t}: {exc!r}")

    workers = [threading.Thread(target=submit, args=(t,)) for t in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    expected = {f"t{t}_{i}" for t in range(threads_n) for i in range(per_thread)}
    client = new_client(home)
    check_outcome(home, client, expected, f"1 proc x {threads_n} threads", timeout=180)
    client.close()


# -- many processes, many clients each -------------------------------------------------------------
def worker(home: str, proc: int, threads_n: int, per_thread: int, cluster_id: str) -> Dict[str, Any]:
    """One process of the multi-process test: ``threads_n`` threads, each with its own client, create,
    list and delete workspaces, clusters and jobs; every thread submits ``per_thread`` jobs to the
    shared cluster. Returns the errors met and the jobs submitted."""
    errors: List[str] = []
    submitted: List[str] = []
    lock = threading.Lock()

    def run(t: int) -> None:
        try:
            client = new_client(Path(home))
            ws = f"ws-p{proc}-t{t}"
            # one region per process: the service's quota of 20 clusters applies per region (usages)
            client.workspaces.create(RG, ws, REGIONS[proc % len(REGIONS)]).result()
            client.experiments.create(RG, ws, "own").result()
            own = client.clusters.create(RG, ws, "idle", models.ClusterCreateParameters(
                vm_size="STANDARD_D1", scale_settings=models.ScaleSettings(
                    manual=models.ManualScaleSettings(target_node_count=0)),
                user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="p"),
                node_setup=models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[share_mount()])),
            )).result()
            for i in range(per_thread):
                name = f"p{proc}t{t}j{i}"
                client.jobs.create(RG, WS, EXP, name, job_parameters(cluster_id, run_command(name))).result()
                with lock:
                    submitted.append(name)
                wait_all_terminal(client, {name}, timeout=120)
                # a job that never runs (0 nodes), deleted again: it must neither run nor linger
                queued = client.jobs.create(RG, ws, "own", f"q{i}", job_parameters(own.id, run_command(f"q-{name}")))
                queued.result()
                client.jobs.delete(RG, ws, "own", f"q{i}").result()
                assert f"q{i}" not in {j.name for j in client.jobs.list_by_experiment(RG, ws, "own")}
                assert ws in {w.name for w in client.workspaces.list_by_resource_group(RG)}
                pause_for_supervisors_to_exit()
                client = new_client(Path(home))  # and the cell building the client is run again
            client.clusters.delete(RG, ws, "idle").result()
            client.workspaces.delete(RG, ws).result()
            client.close()
        except Exception as exc:  # reported to the parent
            with lock:
                errors.append(f"proc {proc} thread {t}: {exc!r}")

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads_n)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"errors": errors, "submitted": submitted}


def _forked_submitter(home: str, cluster_id: str, names: List[str], errors: Any) -> None:
    try:
        client = new_client(Path(home))
        for name in names:
            client.jobs.create(RG, WS, EXP, name, job_parameters(cluster_id, run_command(name))).result()
            wait_all_terminal(client, {name}, timeout=120)
            pause_for_supervisors_to_exit()
        client.close()
    except Exception as exc:  # reported to the parent
        errors.put(repr(exc))


def test_forked_worker_processes_after_the_parent_closed_its_client(tmp_path):
    """multiprocessing with the fork start method (Linux's default before 3.14): the parent has a
    client, forks workers that build their own, and closes its client while they work."""
    home = tmp_path / "home"
    cluster_id = prepare_home(home, nodes=2)
    parent = new_client(home)
    list(parent.jobs.list_by_experiment(RG, WS, EXP))  # the parent holds the database open
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    rounds = scale(3, 15)
    names = {w: [f"f{w}_{i}" for i in range(rounds)] for w in range(3)}
    workers = [context.Process(target=_forked_submitter, args=(str(home), cluster_id, names[w], errors))
               for w in names]
    for worker_process in workers:
        worker_process.start()
    parent.close()  # e.g. the cell's client goes out of scope; the workers go on
    for worker_process in workers:
        worker_process.join(timeout=240)
    assert [w.exitcode for w in workers] == [0] * len(workers)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    client = new_client(home)
    check_outcome(home, client, {n for ns in names.values() for n in ns}, "3 forked workers", timeout=120)
    client.close()


def test_several_processes_with_several_clients_each(tmp_path):
    home = tmp_path / "home"
    cluster_id = prepare_home(home, nodes=2)
    procs_n, threads_n, per_thread = scale(3, 4), scale(3, 8), scale(2, 10)
    code = ("import json, sys\n"
            f"sys.path.insert(0, {str(REPO)!r})\n"
            "from tests.reliability.test_concurrency import worker\n"
            "print(json.dumps(worker(*json.loads(sys.argv[1]))))\n")
    children = [subprocess.Popen([sys.executable, "-c", code,
                                  json.dumps([str(home), p, threads_n, per_thread, cluster_id])],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO))
                for p in range(procs_n)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [e for r in results for e in r["errors"]] == []
    submitted = [name for r in results for name in r["submitted"]]
    assert len(submitted) == len(set(submitted)) == procs_n * threads_n * per_thread
    client = new_client(home)
    check_outcome(home, client, set(submitted), f"{procs_n} procs x {threads_n} threads", timeout=240)
    assert not any(name.startswith("q-") for name in ran_counts(home))  # deleted queued jobs never ran
    assert {w.name for w in client.workspaces.list_by_resource_group(RG)} == {WS}
    client.close()
