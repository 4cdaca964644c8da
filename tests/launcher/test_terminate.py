"""SIGTERM = terminate/delete: the whole process tree dies and JobTerminated is reported
(``docs/service-behaviour.md`` §f.1)."""

from __future__ import annotations

import os
import signal
import textwrap
import time

import pytest

from .helpers import finish, make_job, processes_mentioning, start, wait_for

DAEMON = textwrap.dedent("""
    import os, sys, time
    if os.fork() == 0:
        os.setsid()                      # escape the launcher's session and process group
        if os.fork() == 0:
            open(sys.argv[1], "w").close()
            time.sleep(300)
        os._exit(0)
    time.sleep(300)
""")


def _terminate(job, proc, ready, group: bool = False) -> "tuple":
    assert wait_for(ready, timeout=20), "job did not start"
    assert processes_mentioning(str(job.tmp)), "the /proc scan must see the running job"
    began = time.monotonic()
    if group:  # what the supervisor does
        os.killpg(proc.pid, signal.SIGTERM)
    else:  # the launcher alone: it must take its children down itself
        os.kill(proc.pid, signal.SIGTERM)
    out = finish(job, proc, timeout=20)
    return out, time.monotonic() - began


def test_sigterm_kills_the_whole_tree_and_reports_job_terminated(tmp_path):
    script, ready = tmp_path / "daemon.py", tmp_path / "daemon-ready"
    script.write_text(DAEMON)
    job = make_job(tmp_path, job_mounts={"job_afs": tmp_path / "storage" / "jobshare"},
                   customToolkitSettings={"commandLine": f"echo running; (sleep 300 &); python3 {script} {ready} "
                                                         "& sleep 301; echo never"})
    proc = start(job)
    out, elapsed = _terminate(job, proc, lambda: ready.exists() and "running" in _read(job.stdouterr / "stdout.txt"))
    assert out.returncode == 143
    assert (out.result.exit_code, out.result.error_code) == (None, "JobTerminated")
    assert out.result.error_message == "The specified job has been terminated by the user"
    assert out.without_logs() == {"stdout.txt": "running\n", "stderr.txt": ""}
    assert "terminated" in out.files["execution.log"]
    assert elapsed < 10
    assert processes_mentioning(str(tmp_path)) == []
    assert not (tmp_path / "node0" / "jobs" / job.spec.job_uid / "mounts" / "job_afs").exists()


@pytest.mark.mpi
@pytest.mark.parametrize("group", [False, True], ids=["launcher", "process-group"])
def test_sigterm_kills_mpirun_and_all_ranks(tmp_path, group):
    job = make_job(tmp_path, node_count=2, customMpiSettings={
        "processCount": 4, "commandLine": "echo started $OMPI_COMM_WORLD_RANK; exec sleep 300"})
    proc = start(job)
    out, elapsed = _terminate(job, proc, lambda: _read(job.stdouterr / "stdout.txt").count("started") == 4, group)
    assert (out.result.exit_code, out.result.error_code) == (None, "JobTerminated")
    assert elapsed < 10
    assert processes_mentioning(str(tmp_path)) == []


def test_sigterm_during_job_preparation(tmp_path):
    marker = tmp_path / "job-ran"
    job = make_job(tmp_path, node_count=2, customToolkitSettings={"commandLine": f"touch {marker}"},
                   jobPreparation={"commandLine": "echo prep; sleep 300"})
    proc = start(job)
    name = f"stdout-job_prep-{job.spec.nodes[1].id}.txt"
    out, _ = _terminate(job, proc, lambda: _read(job.stdouterr / name) == "prep\n")
    assert out.result.error_code == "JobTerminated"
    assert not marker.exists()
    assert processes_mentioning(str(tmp_path)) == []


def _read(path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
