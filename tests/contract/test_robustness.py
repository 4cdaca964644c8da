"""Supervision and concurrency: jobs outlive their client, a killed supervisor is reported, many
threads and processes share one home without losing or duplicating jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from .helpers import EXP, RG, SUB, WS, job_parameters, wait_for


def _run_python(code, env_home):
    env = dict(os.environ, BATCHAI_COMPAT_HOME=str(env_home))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=60)


def test_kill_9_of_the_supervisor_fails_the_job_with_a_clear_error(ctx, local_backend):
    cluster = ctx.create_cluster()
    ctx.create_job("job", job_parameters(cluster.id, "sleep 600"))
    ctx.wait_for_state("job", "running")
    row = wait_for(lambda: local_backend.store.connection().execute(
        "SELECT sup_pid, run_pid FROM jobs WHERE run_pid IS NOT NULL").fetchone(), message="launcher pid")
    os.kill(row["sup_pid"], signal.SIGKILL)
    job = ctx.wait_for_job("job", timeout=10)
    assert job.execution_state == "failed" and job.execution_info.exit_code is None
    (error,) = job.execution_info.errors
    assert error.code == "JobSupervisorDied" and str(row["sup_pid"]) in error.message
    assert job.execution_info.end_time is not None
    ctx.wait_for_nodes("cluster", 1)

    def group_gone():
        try:
            os.killpg(row["run_pid"], 0)
        except ProcessLookupError:
            return True
        return False
    wait_for(group_gone, timeout=15, message="the job's processes to be killed")
    assert list((ctx.home / "run" / "jobs").glob("*/spec.json")) == []  # no secrets left behind


def test_jobs_survive_the_client_process(ctx):
    cluster = ctx.create_cluster()
    out = _run_python(f"""
        import batchai_compat, batchai_compat.models as models
        client = batchai_compat.BatchAIManagementClient(object(), {SUB!r})
        params = models.JobCreateParameters(cluster=models.ResourceId(id={cluster.id!r}), node_count=1,
            std_out_err_path_prefix='$AZ_BATCHAI_MOUNT_ROOT/azfiles',
            custom_toolkit_settings=models.CustomToolkitSettings(command_line='sleep 1; echo survived'))
        print(client.jobs.create({RG!r}, {WS!r}, {EXP!r}, 'job', params).result().execution_state)
    """, ctx.home)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in ("queued", "running")
    assert ctx.wait_for_job("job").execution_state == "succeeded"
    assert ctx.files("job", "stdouterr")["stdout.txt"] == "survived\n"


def test_state_survives_a_new_client_in_a_new_process(ctx):
    cluster = ctx.create_cluster()
    assert ctx.run_job("job", job_parameters(cluster.id, "echo hi")).execution_state == "succeeded"
    out = _run_python(f"""
        import batchai_compat
        client = batchai_compat.BatchAIManagementClient(object(), {SUB!r})
        job = client.jobs.get({RG!r}, {WS!r}, {EXP!r}, 'job')
        cluster = client.clusters.get({RG!r}, {WS!r}, 'cluster')
        print(job.execution_state, job.execution_info.exit_code, cluster.node_state_counts.idle_node_count)
        client.experiments.create({RG!r}, {WS!r}, 'from_child').result()
    """, ctx.home)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["succeeded", "0", "1"]
    assert ctx.client.experiments.get(RG, WS, "from_child").name == "from_child"


@pytest.mark.slow
def test_30_threads_create_300_jobs_on_a_2_node_cluster(ctx):
    cluster = ctx.create_cluster(target=2)
    ran = ctx.share_dir() / "ran.txt"
    errors = []

    def submit(thread):
        try:
            for i in range(10):
                name = f"t{thread:02d}_{i}"
                command = f"echo {name} >> $AZ_BATCHAI_MOUNT_ROOT/azfiles/ran.txt"
                ctx.create_job(name, job_parameters(cluster.id, command))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=submit, args=(t,)) for t in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = {f"t{t:02d}_{i}" for t in range(30) for i in range(10)}

    def all_done():
        jobs = list(ctx.client.jobs.list_by_experiment(RG, WS, EXP))
        return jobs if len(jobs) == 300 and all(j.execution_state in ("succeeded", "failed") for j in jobs) else None
    jobs = wait_for(all_done, timeout=240, interval=0.5, message="300 jobs to finish")
    assert {j.name for j in jobs} == expected
    assert [j.name for j in jobs if j.execution_state != "succeeded"] == []
    lines = ran.read_text().split()
    assert sorted(lines) == sorted(expected)  # each ran exactly once
    counts = ctx.client.clusters.get(RG, WS, "cluster").node_state_counts
    assert counts.idle_node_count == 2 and counts.running_node_count == 0


def test_two_processes_share_one_cluster_without_double_starts(ctx):
    cluster = ctx.create_cluster(target=2)
    code = f"""
        import sys, batchai_compat, batchai_compat.models as models
        client = batchai_compat.BatchAIManagementClient(object(), {SUB!r})
        for i in range(15):
            name = 'p%s_%d' % (sys.argv[1] if len(sys.argv) > 1 else 'x', i)
            params = models.JobCreateParameters(cluster=models.ResourceId(id={cluster.id!r}), node_count=1,
                std_out_err_path_prefix='$AZ_BATCHAI_MOUNT_ROOT/azfiles',
                custom_toolkit_settings=models.CustomToolkitSettings(
                    command_line='echo %s >> $AZ_BATCHAI_MOUNT_ROOT/azfiles/ran.txt' % name))
            client.jobs.create({RG!r}, {WS!r}, {EXP!r}, name, params).result()
    """
    env = dict(os.environ, BATCHAI_COMPAT_HOME=str(ctx.home))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), tag], env=env) for tag in "ab"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    expected = {f"p{tag}_{i}" for tag in "ab" for i in range(15)}
    for name in expected:
        assert ctx.wait_for_job(name).execution_state == "succeeded"
    assert sorted((ctx.share_dir() / "ran.txt").read_text().split()) == sorted(expected)


def test_terminate_a_job_that_follows_another_on_the_same_node(ctx):
    """The second job starts the moment the first ends (possibly under the same supervisor)."""
    cluster = ctx.create_cluster()
    ctx.create_job("first", job_parameters(cluster.id, "true"))
    ctx.create_job("second", job_parameters(cluster.id, "sleep 600"))
    ctx.wait_for_state("second", "running")
    ctx.client.jobs.terminate(RG, WS, EXP, "second").result(timeout=30)
    job = ctx.get_job("second")
    assert job.execution_state == "failed" and [e.code for e in job.execution_info.errors] == ["JobTerminated"]


def test_deleting_a_running_job_does_not_hurt_the_job_that_follows(ctx):
    cluster = ctx.create_cluster()
    ctx.create_job("doomed", job_parameters(cluster.id, "sleep 600"))
    ctx.wait_for_state("doomed", "running")
    ctx.create_job("next", job_parameters(cluster.id, "sleep 1; echo ok"))
    ctx.client.jobs.delete(RG, WS, EXP, "doomed").result(timeout=30)
    job = ctx.wait_for_job("next")
    assert job.execution_state == "succeeded", job.execution_info.errors
    assert ctx.files("next", "stdouterr")["stdout.txt"] == "ok\n"


def test_an_idle_supervisor_stands_by_for_the_next_job(ctx, local_backend):
    cluster = ctx.create_cluster()
    assert ctx.run_job("first", job_parameters(cluster.id, "true")).execution_state == "succeeded"
    conn = local_backend.store.connection()
    wait_for(lambda: conn.execute("SELECT COUNT(*) FROM standby").fetchone()[0] == 1, message="a standby")
    assert ctx.run_job("second", job_parameters(cluster.id, "true")).execution_state == "succeeded"
    pids = [r[0] for r in conn.execute("SELECT sup_pid FROM jobs ORDER BY seq")]
    assert pids[0] == pids[1]  # no new interpreter for the second job
    wait_for(lambda: conn.execute("SELECT COUNT(*) FROM standby").fetchone()[0] == 0, timeout=10,
             message="the standby to retire")
