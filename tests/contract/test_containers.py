"""Container jobs through the public client when a container runtime is configured
(``docs/service-behaviour.md`` §c.1 step 2; behaviours 12, 18, 25, 27 in containers).

There is no container engine on this machine or in CI and none can be installed (no Docker
daemon), so the runtime is the docker-CLI-compatible fake of ``tests/launcher/fake_runtime.py``: it
records its invocations and really runs ``exec`` commands locally. It fakes only that boundary,
which nothing real can reach here; the client, the local backend, its supervisor and the launcher
are the real ones.
"""

from __future__ import annotations

import os
import signal
import warnings
from typing import Any

import pytest
from msrestazure.azure_exceptions import CloudError

from batchai_compat import BatchAIManagementClient
from batchai_compat.exceptions import BatchAICompatWarning
from tests.launcher import fake_runtime as fr

from .conftest import _Credentials, _delete_everything
from .helpers import EXP, RG, SUB, WS, Ctx, job_parameters, wait_for

JOB = "echo hello | tee $AZ_BATCHAI_OUTPUT_OUTPUTS/hi.txt"
VARIABLE = "BATCHAI_COMPAT_CONTAINER_RUNTIME"


@pytest.fixture
def runtime(tmp_path: Any) -> Any:
    return fr.install(tmp_path / "runtime")


@pytest.fixture
def make_ctx(home: Any, monkeypatch: Any):
    monkeypatch.delenv(VARIABLE, raising=False)
    clients = []

    def make(**options: Any) -> Ctx:
        client = BatchAIManagementClient(_Credentials(), SUB, backend="local", home=home, leave_seconds=0.3,
                                         **options)
        clients.append(client)
        ctx = Ctx(client, home, "local")
        ctx.setup_workspace()
        return ctx

    yield make
    for client in clients:
        _delete_everything(client)
        client.close()


def _create_without_warning(ctx: Ctx, name: str, params: Any) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ctx.create_job(name, params)
    assert [w for w in record if issubclass(w.category, BatchAICompatWarning)] == []


def test_container_job_runs_in_the_configured_runtime_without_warning(make_ctx, runtime):
    ctx = make_ctx(container_runtime=str(runtime))
    cluster = ctx.create_cluster()
    _create_without_warning(ctx, "container_job", job_parameters(
        cluster.id, JOB + " && echo $FAKE_CONTAINER > $AZ_BATCHAI_JOB_TEMP/where",
        prep="echo prep; echo $FAKE_CONTAINER > $AZ_BATCHAI_JOB_TEMP/prep-where", image="ubuntu"))
    job = ctx.wait_for_job("container_job")
    assert job.execution_state == "succeeded", job.execution_info
    assert ctx.files("container_job", "OUTPUTS") == {"hi.txt": "hello\n"}
    assert ctx.files("container_job", "stdouterr") == {"stdout.txt": "hello\n", "stderr.txt": "",
                                                       "stdout-job_prep.txt": "prep\n", "stderr-job_prep.txt": ""}
    assert job.container_settings.image_source_registry.image == "ubuntu"
    assert "_containerRuntime" not in str(ctx.client.jobs.get(RG, WS, EXP, "container_job", raw=True).response.text)
    assert fr.commands(runtime) == ["info", "image inspect", "pull", "run", "exec", "exec", "rm"]
    calls = fr.invocations(runtime)
    run_args = calls[3]
    assert run_args[:7] == ["run", "-d", "--name", run_args[3], "--network", "host", "--init"]
    assert run_args[3].startswith("batchai-") and run_args[-3:] == ["ubuntu", "sleep", "infinity"]
    assert {a[a.index("-w") + 2] for a in calls if a[0] == "exec"} == {run_args[3]}
    assert calls[-1] == ["rm", "-f", run_args[3]]
    assert fr.containers(runtime) == []


def test_environment_variable_configures_the_runtime_and_the_option_wins(make_ctx, runtime, monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, str(runtime))
    ctx = make_ctx()
    cluster = ctx.create_cluster()
    _create_without_warning(ctx, "by_variable", job_parameters(cluster.id, JOB, image="ubuntu"))
    assert ctx.wait_for_job("by_variable").execution_state == "succeeded"
    assert "run" in fr.commands(runtime)

    monkeypatch.setenv(VARIABLE, str(tmp_path / "missing" / "docker"))
    other = make_ctx(container_runtime=str(runtime))
    _create_without_warning(other, "by_option", job_parameters(cluster.id, JOB, image="ubuntu"))
    assert other.wait_for_job("by_option").execution_state == "succeeded"


@pytest.mark.parametrize("how", ["missing", "info_fails"])
def test_configured_runtime_that_does_not_work_fails_the_create(make_ctx, runtime, tmp_path, how):
    configured = str(tmp_path / "nowhere" / "podman") if how == "missing" else str(runtime)
    if how == "info_fails":
        fr.configure(runtime, fail_info=True)
    ctx = make_ctx(container_runtime=configured)
    cluster = ctx.create_cluster()
    with pytest.raises(CloudError) as err:
        ctx.create_job("job", job_parameters(cluster.id, JOB, image="ubuntu"))
    assert err.value.status_code == 400 and err.value.error.error == "ContainerRuntimeNotAvailable"
    assert configured in str(err.value.message)
    if how == "info_fails":
        assert "Cannot connect to the Docker daemon" in str(err.value.message)
    with pytest.raises(CloudError):
        ctx.get_job("job")  # nothing was created
    # A job without containerSettings does not need the runtime.
    assert ctx.run_job("host", job_parameters(cluster.id, JOB)).execution_state == "succeeded"


def test_no_runtime_keeps_the_host_and_the_warning(make_ctx):
    ctx = make_ctx()
    cluster = ctx.create_cluster()
    with pytest.warns(BatchAICompatWarning):
        ctx.create_job("job", job_parameters(cluster.id, JOB, image="ubuntu"))
    assert ctx.wait_for_job("job").execution_state == "succeeded"


def test_pull_failure_fails_the_job_with_failed_starting_container(make_ctx, runtime):
    fr.configure(runtime, fail_pull=["private/nope"])
    ctx = make_ctx(container_runtime=str(runtime))
    cluster = ctx.create_cluster()
    ctx.create_job("job", job_parameters(cluster.id, JOB, image="private/nope"))
    job = ctx.wait_for_job("job")
    assert job.execution_state == "failed"
    assert job.execution_info.exit_code is None
    assert [e.code for e in job.execution_info.errors] == ["FailedStartingContainer"]
    assert "pull access denied for private/nope" in job.execution_info.errors[0].message
    assert [(d.name, d.value) for d in job.execution_info.errors[0].details] == [("imageName", "private/nope")]


def test_a_launcher_killed_with_sigkill_leaves_no_containers(make_ctx, runtime):
    ctx = make_ctx(container_runtime=str(runtime))
    cluster = ctx.create_cluster()
    ctx.create_job("job", job_parameters(cluster.id, "sleep 600", image="ubuntu"))
    ctx.wait_for_state("job", "running")
    store = ctx.client.backend.store  # local-only machinery: the launcher's pid
    row = wait_for(lambda: store.connection().execute(
        "SELECT run_pid FROM jobs WHERE run_pid IS NOT NULL").fetchone(), message="launcher pid")
    wait_for(lambda: len(fr.containers(runtime)) == 1, 20, message="the container")
    os.kill(row["run_pid"], signal.SIGKILL)
    job = ctx.wait_for_job("job", timeout=30)
    assert job.execution_state == "failed"
    wait_for(lambda: fr.containers(runtime) == [], 15, message="the supervisor to remove the container")


def test_failed_and_terminated_container_jobs_remove_their_containers(make_ctx, runtime):
    ctx = make_ctx(container_runtime=str(runtime))
    cluster = ctx.create_cluster(target=2)
    job = ctx.run_job("failing", job_parameters(cluster.id, "false", prep="true", image="ubuntu", node_count=2))
    assert job.execution_state == "failed" and job.execution_info.exit_code == 1
    assert fr.invocations(runtime)[-1][:2] == ["rm", "-f"] and fr.containers(runtime) == []

    ctx.create_job("long", job_parameters(cluster.id, "echo started; sleep 300", image="ubuntu", node_count=2))
    ctx.wait_for_state("long", "running")
    wait_for(lambda: len(fr.containers(runtime)) == 2 and "started" in (ctx.files("long", "stdouterr").get(
        "stdout.txt") or ""), 30, message="the job to run in its containers")
    ctx.client.jobs.terminate(RG, WS, EXP, "long").result()
    job = ctx.get_job("long")
    assert job.execution_state == "failed" and [e.code for e in job.execution_info.errors] == ["JobTerminated"]
    wait_for(lambda: fr.containers(runtime) == [], 15, message="the containers to be removed")
