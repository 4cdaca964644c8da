"""Node mode with a group: one launcher per node, acting together over TCP (launcher/group.py).

Each test starts one real launcher process per node (``--node-index i``), as the Azure ML node side
does on separate machines; the nodes have distinct loopback addresses, and their stdouterr is the
shared storage mounted on every node, as on Batch AI.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import List

import pytest

from batchai_compat.launcher import group as group_mod
from batchai_compat.launcher import ssh
from batchai_compat.launcher.spec import LaunchResult

from ..node_scripts import RENDEZVOUS_SCRIPT, TF_SCRIPT
from .helpers import Job, _stdouterr, make_job, processes_mentioning, start, wait_for

pytestmark = pytest.mark.spawns_processes

def start_nodes(job: Job, nodes: List[int] = None, timeout: float = 60.0) -> List[subprocess.Popen]:
    """One launcher per node, each with its own spec file and result file (as on separate machines)."""
    procs = []
    settings = {"token": "t-" + job.spec.job_uid, "port": group_mod.free_port(job.spec.nodes[0].address),
                "ports": 1, "timeout": timeout}
    for i in range(len(job.spec.nodes)) if nodes is None else nodes:
        spec = replace(job.spec, result_path=str(job.tmp / f"result-node{i}.json"), group=settings)
        spec_path = spec.write(job.tmp / f"spec-node{i}.json")
        procs.append(start(replace(job, spec=spec, spec_path=spec_path), "--node-index", str(i)))
    return procs


def finish_nodes(job: Job, procs: List[subprocess.Popen], timeout: float = 60.0) -> List[LaunchResult]:
    results = []
    for i, proc in enumerate(procs):
        try:
            proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                os.killpg(p.pid, signal.SIGKILL)
            raise AssertionError(f"node {i} did not finish in {timeout}s: {_stdouterr(job)}") from None
        results.append(LaunchResult.from_json((job.tmp / f"result-node{i}.json").read_text()))
    return results


def test_tensorflow_roles_on_their_nodes_and_a_ps_only_node_is_stopped(tmp_path):
    (tmp_path / "storage" / "share").mkdir(parents=True)
    (tmp_path / "storage" / "share" / "tf.py").write_text(TF_SCRIPT)
    # 2 nodes, 2 ps, 1 worker: ps 0 and the worker on node 0, ps 1 alone on node 1
    # (docs/service-behaviour.md §c.10 placement).
    job = make_job(tmp_path, node_count=2, tensorFlowSettings={
        "pythonScriptFilePath": "$AZ_BATCHAI_MOUNT_ROOT/azfiles/tf.py", "workerCount": 1,
        "parameterServerCount": 2})
    a, b = (n.address for n in job.spec.nodes)
    results = finish_nodes(job, start_nodes(job))
    files = _stdouterr(job)
    assert [r.error_code for r in results] == [None, None], files
    assert files["stdout-wk-0.txt"] == f"worker 0 on {a}:2223 got ps0 ps1\n", files
    assert files["stdout-ps-0.txt"] == f"ps 0 on {a}:2222\n"
    assert files["stdout-ps-1.txt"] == f"ps 1 on {b}:2222\n"
    log1 = files[f"execution-{job.spec.nodes[1].id}.log"]
    assert "Toolkit: tensorflow; 1 process(es) on this node" in log1
    assert "stopping parameter server 1" in log1, log1
    assert not processes_mentioning(str(tmp_path))


def test_node_0_starts_the_job_only_after_every_node_prepared(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    job = make_job(tmp_path, node_count=2,
                   jobPreparation={"commandLine": f'case "$AZ_BATCHAI_JOB_TEMP" in */node1/*) sleep 1.5;; esac; '
                                                  f'date +%s.%N > {marks}/prep-'
                                                  '$(basename $(dirname $AZ_BATCHAI_JOB_TEMP_DIR))'},
                   customToolkitSettings={"commandLine": f"date +%s.%N > {marks}/job-start; echo ran"})
    results = finish_nodes(job, start_nodes(job))
    files = _stdouterr(job)
    assert [r.error_code for r in results] == [None, None], files
    assert files["stdout.txt"] == "ran\n"
    prep1 = float((marks / "prep-node1").read_text())
    assert float((marks / "job-start").read_text()) >= prep1 > float((marks / "prep-node0").read_text())
    assert "All nodes prepared" in files[f"execution-{job.spec.nodes[0].id}.log"]


def test_job_preparation_failing_on_one_node_fails_the_job_everywhere(tmp_path):
    job = make_job(tmp_path, node_count=2,
                   jobPreparation={"commandLine": 'case "$AZ_BATCHAI_JOB_TEMP" in */node1/*) echo bad >&2; exit 7;; '
                                                  'esac; echo fine'},
                   customMpiSettings={"commandLine": "echo ran", "processCount": 2})
    results = finish_nodes(job, start_nodes(job))
    files = _stdouterr(job)
    assert [(r.error_code, r.exit_code) for r in results] == [("JobPreparationFailed", 7)] * 2, files
    assert "stdout.txt" not in files  # no toolkit process started anywhere
    n0, n1 = (n.id for n in job.spec.nodes)
    assert files[f"stdout-job_prep-{n0}.txt"] == "fine\n" and files[f"stderr-job_prep-{n1}.txt"] == "bad\n"
    assert f"JobPreparationFailed on node {n1}: not starting the job" in files[f"execution-{n0}.log"]


def test_pytorch_ranks_meet_over_tcp_on_node_0(tmp_path):
    (tmp_path / "storage" / "share").mkdir(parents=True)
    (tmp_path / "storage" / "share" / "rdv.py").write_text(RENDEZVOUS_SCRIPT)
    job = make_job(tmp_path, node_count=2, pyTorchSettings={
        "pythonScriptFilePath": "$AZ_BATCHAI_MOUNT_ROOT/azfiles/rdv.py", "processCount": 2,
        "communicationBackend": "gloo"})
    results = finish_nodes(job, start_nodes(job))
    files = _stdouterr(job)
    assert [r.error_code for r in results] == [None, None], files
    a = job.spec.nodes[0].address
    sent = files["stdout-1.txt"]
    assert sent.startswith(f"rank 1 sent via tcp://{a}:"), files
    init = sent.split(" via ")[1].strip()
    assert files["stdout-0.txt"] == f"rank 0 got hello from rank 1 via {init}\n"
    for node in job.spec.nodes:  # one rank on each node
        assert "Toolkit: pytorch; 1 process(es) on this node" in files[f"execution-{node.id}.log"]


def test_a_member_that_loses_node_0_stops_its_processes(tmp_path):
    (tmp_path / "storage" / "share").mkdir(parents=True)
    (tmp_path / "storage" / "share" / "tf.py").write_text(TF_SCRIPT)
    job = make_job(tmp_path, node_count=2, environmentVariables=[{"name": "SLEEP_ON", "value": "1"}],
                   tensorFlowSettings={"pythonScriptFilePath": "$AZ_BATCHAI_MOUNT_ROOT/azfiles/tf.py",
                                       "workerCount": 2, "parameterServerCount": 0})
    procs = start_nodes(job)
    n1 = job.spec.nodes[1].id
    log1 = job.stdouterr / f"execution-{n1}.log"
    assert wait_for(lambda: log1.exists() and "started worker 1" in log1.read_text(), 30), _stdouterr(job)
    # Node 0's worker ends at once; node 0 waits for node 1's worker. Now node 0's machine dies.
    log0 = job.stdouterr / f"execution-{job.spec.nodes[0].id}.log"
    assert wait_for(lambda: log0.exists() and "master (worker 0) exited with code 0" in log0.read_text(), 30)
    os.killpg(procs[0].pid, signal.SIGKILL)
    procs[0].wait()
    began = time.monotonic()
    procs[1].communicate(timeout=30)
    assert time.monotonic() - began < 15
    result = LaunchResult.from_json((job.tmp / "result-node1.json").read_text())
    assert result.error_code == "LauncherError" and "lost node 0" in result.error_message
    assert wait_for(lambda: not processes_mentioning(str(tmp_path)), 10)


def test_a_node_that_never_joins_fails_the_job_after_the_timeout(tmp_path):
    job = make_job(tmp_path, node_count=3, customToolkitSettings={"commandLine": "echo never"})
    procs = start_nodes(job, nodes=[0, 1], timeout=2.0)
    results = finish_nodes(job, procs[:1], timeout=30)
    assert results[0].error_code == "LauncherError"
    missing = re.search(r"node\(s\) ([\d, ]+) did not report", results[0].error_message)
    assert missing and "2" in missing.group(1).split(", "), results[0].error_message
    assert "stdout.txt" not in _stdouterr(job)
    procs[1].communicate(timeout=30)  # node 1 loses node 0 and ends too
    assert LaunchResult.from_json((job.tmp / "result-node1.json").read_text()).error_code == "LauncherError"


def test_coordinator_accepts_only_its_own_nodes():
    coordinator = group_mod.Coordinator("127.0.0.1", 0, 1, "secret", 2, timeout=5)
    try:
        port = coordinator.port
        for hello in ({"event": "hello", "token": "wrong", "node": 1}, {"event": "hello", "token": "secret",
                                                                         "node": 5}, {"event": "other"}):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall((json.dumps(hello) + "\n").encode())
                sock.settimeout(5)
                assert sock.recv(100) == b""  # dropped without an answer
        member = group_mod.Member("127.0.0.1", port, 1, "secret", 1, {"AZ_BATCHAI_JOB_TEMP": "/x"},
                                  lambda: None, timeout=5)
        member.prepared(None)
        failure, order = coordinator.gather(None, lambda: None)
        assert failure is None and sorted(order) == [0, 1]
        assert coordinator.vars == {1: {"AZ_BATCHAI_JOB_TEMP": "/x"}}
        coordinator.start({"K": "V"})
        assert member.verdict(lambda: None) == ("start", {"K": "V"})
        member.done(3)
        done: dict = {}
        assert wait_for(lambda: coordinator.poll_done(done) or done == {1: 3}, 5)
        coordinator.stop()
        assert wait_for(member.poll_stop, 5)
        member.close()
    finally:
        coordinator.close()


def test_forwarding_agent_exports_the_target_nodes_variables(tmp_path):
    context = {"ssh": "/usr/bin/ssh", "nodes": [
        {"id": "n0", "address": "10.0.0.4", "env": {"AZ_BATCHAI_JOB_TEMP": "/a b"}},
        {"id": "n1", "address": "10.0.0.5", "env": {"AZ_BATCHAI_JOB_TEMP": "/c", "AZ_BATCHAI_MOUNT_ROOT": "/m"}}]}
    assert ssh.forwarded_command(context, ["-o", "StrictHostKeyChecking=no", "-x", "10.0.0.5", "orted", "-mca", "x"]) \
        == ["/usr/bin/ssh", "-o", "StrictHostKeyChecking=no", "-x", "10.0.0.5",
            "export AZ_BATCHAI_JOB_TEMP=/c; export AZ_BATCHAI_MOUNT_ROOT=/m; orted -mca x"]
    assert ssh.forwarded_command(context, ["user@n0", "echo hi"]) == \
        ["/usr/bin/ssh", "user@n0", "export AZ_BATCHAI_JOB_TEMP='/a b'; echo hi"]
    # Other destinations, or no command: the real ssh unchanged.
    assert ssh.forwarded_command(context, ["10.9.9.9", "true"]) == ["/usr/bin/ssh", "10.9.9.9", "true"]
    assert ssh.forwarded_command(context, ["10.0.0.5"]) == ["/usr/bin/ssh", "10.0.0.5"]


def test_install_forwarding_needs_an_ssh(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    assert ssh.install_forwarding(str(tmp_path / "private"), []) is None
    fake = bin_dir / "ssh"
    fake.write_text("#!/bin/sh\necho \"$@\"\n")
    fake.chmod(0o755)
    (tmp_path / "private").mkdir()
    agent = ssh.install_forwarding(str(tmp_path / "private"), [{"id": "n1", "address": "10.0.0.5",
                                                               "env": {"AZ_BATCHAI_JOB_TEMP": "/c"}}])
    out = subprocess.run([agent, "10.0.0.5", "echo", "$AZ_BATCHAI_JOB_TEMP"], capture_output=True, text=True,
                         env={"PATH": str(bin_dir)})
    assert out.stdout == "10.0.0.5 export AZ_BATCHAI_JOB_TEMP=/c; echo $AZ_BATCHAI_JOB_TEMP\n", out.stderr
    assert oct(Path(agent).stat().st_mode & 0o777) == "0o700"
