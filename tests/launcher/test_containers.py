"""Jobs in containers (``docs/service-behaviour.md`` §c.1 step 2; behaviours 12, 25, 27, 29 of §g in their
container variants).

There is no container engine on this machine or in CI, and none can be installed (no Docker
daemon). The container runtime is therefore the fake of ``fake_runtime.py``: a docker-CLI-compatible
script that records every invocation and really runs ``exec`` commands, locally, with only the
variables passed by ``-e NAME``. It is a fake only at that boundary, which nothing real can reach
here; everything on our side of it (the launcher, the relay that carries ``ssh`` between
containers, ``mpirun`` and its rsh agent) is the real code. What these tests cannot show is how a
real engine behaves (image contents, file ownership, process isolation).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from . import fake_runtime as fr
from .helpers import finish, make_job, processes_mentioning, run, start, wait_for

IMAGE = "ubuntu"
SECRET = "s3cr3t-value"


def container_job(tmp_path, node_count=1, runtime=None, registry=None, settings=None, **props):
    runtime = runtime or fr.install(tmp_path / "runtime")
    job = make_job(tmp_path, node_count=node_count,
                   containerSettings={"imageSourceRegistry": registry or {"image": IMAGE}, **(settings or {})},
                   environmentVariables=[{"name": "VARIABLE", "value": "VALUE"}],
                   secrets=[{"name": "SECRET_VARIABLE", "value": SECRET}], **props)
    job.spec.container_runtime = str(runtime)
    job.spec.write(job.spec_path)
    return job, runtime


def name(job, node: int) -> str:
    return f"batchai-{job.spec.job_uid}-{node}"


def execs(runtime):
    return [a for a in fr.invocations(runtime) if a[0] == "exec"]


def user_command(argv):
    """The command an ``exec`` ran, after the launcher's PATH wrapper."""
    return argv[argv.index("bash", argv.index("-c")) + 1:]


def test_prep_and_job_run_in_one_container_with_exact_invocations(tmp_path):
    """Behaviour 25 (``docs/service-behaviour.md``) in a container: prep and job in the same container, same
    paths inside and out."""
    job, runtime = container_job(
        tmp_path,
        jobPreparation={"commandLine": "mkdir -p $AZ_BATCHAI_JOB_TEMP/in && echo hello | tee "
                                       "$AZ_BATCHAI_JOB_TEMP/in/hi.txt && echo $FAKE_CONTAINER > "
                                       "$AZ_BATCHAI_JOB_TEMP/prep-container"},
        customToolkitSettings={"commandLine": "cat $AZ_BATCHAI_JOB_TEMP/in/hi.txt; echo $VARIABLE $SECRET_VARIABLE; "
                                              "echo $FAKE_CONTAINER > $AZ_BATCHAI_JOB_TEMP/job-container; "
                                              "echo hi > $AZ_BATCHAI_OUTPUT_OUTPUTS/hi.txt"},
        outputDirectories=[{"id": "OUTPUTS", "pathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles", "pathSuffix": "files"}],
        settings={"shmSize": "2g"})
    out = run(job)
    assert (out.returncode, out.result.error_code, out.result.exit_code) == (0, None, 0), out.files
    assert out.without_logs() == {"stdout.txt": f"hello\nVALUE {SECRET}\n", "stderr.txt": "",
                                  "stdout-job_prep.txt": "hello\n", "stderr-job_prep.txt": ""}
    assert (job.output(job.storage, "files") / "hi.txt").read_text() == "hi\n"
    temp = tmp_path / "node0" / "jobs" / job.spec.job_uid
    assert (temp / "prep-container").read_text() == (temp / "job-container").read_text() == name(job, 0) + "\n"

    calls = fr.invocations(runtime)
    assert fr.commands(runtime) == ["image inspect", "pull", "run", "exec", "exec", "rm"]
    assert calls[0] == ["image", "inspect", IMAGE] and calls[1] == ["pull", IMAGE]
    run_args = calls[2]
    volumes = [run_args[i + 1] for i, a in enumerate(run_args) if a == "-v"]
    assert run_args[:9] == ["run", "-d", "--name", name(job, 0), "--network", "host", "--init", "--shm-size", "2g"]
    assert run_args[-5:] == ["-w", str(temp), IMAGE, "sleep", "infinity"]
    assert all(src == dst for src, dst in (v.split(":") for v in volumes))  # same paths inside and out
    mounted = [v.split(":")[0] for v in volumes]
    for needed in (tmp_path / "node0", job.storage, job.spec.shared_job_temp):
        assert str(needed) in mounted
    prep, main = execs(runtime)
    for call in (prep, main):
        assert call[call.index("-w") + 1] == str(temp) and call[call.index("-w") + 2] == name(job, 0)
        names = fr.exec_env_names(call)
        assert {"VARIABLE", "SECRET_VARIABLE", "AZ_BATCHAI_JOB_TEMP", "AZ_BATCHAI_MOUNT_ROOT",
                "AZ_BATCHAI_OUTPUT_OUTPUTS"} <= set(names)
        assert "PATH" not in names and "HOME" not in names
    assert user_command(prep)[-1].startswith("mkdir -p") and user_command(main)[-1].startswith("cat ")
    assert calls[-1] == ["rm", "-f", name(job, 0)]
    assert SECRET not in fr.raw_log(runtime)  # secrets travel as -e NAME, values in the environment
    assert SECRET not in out.files["execution.log"]
    assert fr.containers(runtime) == []


def test_image_present_is_not_pulled(tmp_path):
    job, runtime = container_job(tmp_path, customToolkitSettings={"commandLine": "echo hi"})
    fr.configure(runtime, images=[IMAGE])
    out = run(job)
    assert out.result.error_code is None
    assert fr.commands(runtime) == ["image inspect", "run", "exec", "rm"]


def test_two_nodes_ssh_between_containers(tmp_path):
    """Behaviour 29 (``docs/service-behaviour.md``): ssh from node 0's container runs the command in node 1's
    container."""
    job, runtime = container_job(tmp_path, node_count=2, jobPreparation={"commandLine": "echo prep $FAKE_CONTAINER"},
                                 customToolkitSettings={"commandLine": "true"})
    other = job.spec.nodes[1].address
    job.spec.job["properties"]["customToolkitSettings"]["commandLine"] = (
        f"ssh {other} echo done && ssh {other} echo done && ssh {other} 'echo $FAKE_CONTAINER $SECRET_VARIABLE'")
    job.spec.write(job.spec_path)
    out = run(job)
    assert out.result.error_code is None, out.files
    assert out.files["stdout.txt"] == f"done\ndone\n{name(job, 1)} {SECRET}\n"
    assert out.files["stderr.txt"] == f"Warning: Permanently added '{other}' (ECDSA) to the list of known hosts.\n"
    for i, node in enumerate(job.spec.nodes):
        assert out.files[f"stdout-job_prep-{node.id}.txt"] == f"prep {name(job, i)}\n"
    assert len(out.logs()) == 2
    calls = fr.invocations(runtime)
    runs = [a for a in calls if a[0] == "run"]
    assert [a[a.index("--name") + 1] for a in runs] == [name(job, 0), name(job, 1)]
    targets = [a[a.index("-w") + 2] for a in execs(runtime)]
    assert sorted(targets[:2]) == [name(job, 0), name(job, 1)]  # job preparation on each node
    assert targets[2:] == [name(job, 0), name(job, 1), name(job, 1), name(job, 1)]  # job, then 3 ssh commands
    assert calls[-1] == ["rm", "-f", name(job, 0), name(job, 1)]
    assert SECRET not in fr.raw_log(runtime)
    assert fr.containers(runtime) == []


@pytest.mark.mpi
def test_mpi_runs_mpirun_in_node0_container_and_ranks_in_each_node_container(tmp_path):
    job, runtime = container_job(tmp_path, node_count=2, customMpiSettings={
        "processCount": 4, "commandLine": "echo rank $OMPI_COMM_WORLD_RANK $FAKE_CONTAINER"})
    out = run(job, timeout=60)
    assert out.result.error_code is None, out.files
    lines = sorted(out.files["stdout.txt"].splitlines())
    assert lines == [f"rank 0 {name(job, 0)}", f"rank 1 {name(job, 0)}", f"rank 2 {name(job, 1)}",
                     f"rank 3 {name(job, 1)}"]
    first = execs(runtime)[0]
    assert first[first.index("-w") + 2] == name(job, 0) and "mpirun" in user_command(first)[-1] + " ".join(first)
    assert fr.containers(runtime) == []


def test_job_failure_removes_containers(tmp_path):
    job, runtime = container_job(tmp_path, customToolkitSettings={"commandLine": "echo out; false"})
    out = run(job)
    assert (out.result.error_code, out.result.exit_code) == ("JobFailed", 1)
    assert out.without_logs() == {"stdout.txt": "out\n", "stderr.txt": ""}
    assert fr.invocations(runtime)[-1] == ["rm", "-f", name(job, 0)]
    assert fr.containers(runtime) == []


def test_prep_failure_in_container(tmp_path):
    """Behaviour 27 (``docs/service-behaviour.md``): job `true`, prep `false`, in a container."""
    job, runtime = container_job(tmp_path, jobPreparation={"commandLine": "false"},
                                 customToolkitSettings={"commandLine": "true"})
    out = run(job)
    assert (out.result.error_code, out.result.exit_code) == ("JobPreparationFailed", 1)
    assert fr.commands(runtime) == ["image inspect", "pull", "run", "exec", "rm"]
    assert fr.containers(runtime) == []


def test_sigterm_kills_the_job_and_removes_containers(tmp_path):
    job, runtime = container_job(tmp_path, node_count=2,
                                 customToolkitSettings={"commandLine": "echo running; sleep 300; echo never"})
    proc = start(job)
    assert wait_for(lambda: (job.stdouterr / "stdout.txt").exists()
                    and (job.stdouterr / "stdout.txt").read_text() == "running\n", timeout=20)
    assert len(fr.containers(runtime)) == 2
    began = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    out = finish(job, proc, timeout=20)
    assert (out.returncode, out.result.error_code, out.result.exit_code) == (143, "JobTerminated", None)
    assert time.monotonic() - began < 10
    assert fr.invocations(runtime)[-1] == ["rm", "-f", name(job, 0), name(job, 1)]
    assert fr.containers(runtime) == []
    assert processes_mentioning(str(tmp_path / "node0")) == []


def test_pull_failure_is_failed_starting_container(tmp_path):
    job, runtime = container_job(tmp_path, registry={"image": "nosuch/image"},
                                 customToolkitSettings={"commandLine": "echo never"})
    fr.configure(runtime, fail_pull=["nosuch/image"])
    out = run(job)
    assert out.returncode == 1
    assert (out.result.error_code, out.result.exit_code) == ("FailedStartingContainer", None)
    assert "pull access denied for nosuch/image" in out.result.error_message
    assert "nosuch/image" in out.result.error_message
    assert fr.commands(runtime) == ["image inspect", "pull"]  # nothing started, nothing to remove
    assert "stdout.txt" not in out.files


def test_start_failure_is_failed_starting_container_and_cleans_up(tmp_path):
    job, runtime = container_job(tmp_path, customToolkitSettings={"commandLine": "echo never"})
    fr.configure(runtime, images=[IMAGE], fail_run=True)
    out = run(job)
    assert (out.result.error_code, out.result.exit_code) == ("FailedStartingContainer", None)
    assert "failed to create task" in out.result.error_message
    assert fr.commands(runtime) == ["image inspect", "run", "rm"]


def test_private_registry_login_uses_stdin(tmp_path):
    password = "registry-Pa55word"
    registry = {"image": "team/trainer:1", "serverUrl": "https://myregistry.azurecr.io",
                "credentials": {"username": "demo", "password": password}}
    job, runtime = container_job(tmp_path, registry=registry, customToolkitSettings={"commandLine": "echo hi"})
    out = run(job)
    assert out.result.error_code is None, out.result
    full = "myregistry.azurecr.io/team/trainer:1"
    calls = fr.invocations(runtime)
    assert calls[:3] == [["image", "inspect", full],
                         ["login", "--username", "demo", "--password-stdin", "myregistry.azurecr.io"],
                         ["pull", full]]
    assert fr.login_stdin(runtime) == password + "\n"
    assert password not in fr.raw_log(runtime)
    assert all(password not in text for text in out.files.values())


def test_missing_runtime_is_failed_starting_container(tmp_path):
    job, _runtime = container_job(tmp_path, runtime=tmp_path / "no" / "docker",
                                  customToolkitSettings={"commandLine": "echo never"})
    out = run(job)
    assert (out.result.error_code, out.result.exit_code) == ("FailedStartingContainer", None)
    assert "not found" in out.result.error_message


def test_sigterm_during_pull(tmp_path):
    job, runtime = container_job(tmp_path, customToolkitSettings={"commandLine": "echo never"})
    fr.configure(runtime, pull_seconds=300)
    proc = start(job)
    assert wait_for(lambda: "pull" in fr.commands(runtime), timeout=20)
    began = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    out = finish(job, proc, timeout=20)
    assert (out.result.error_code, out.result.exit_code) == ("JobTerminated", None)
    assert time.monotonic() - began < 10
    assert "run" not in fr.commands(runtime) and "stdout.txt" not in out.files
    assert processes_mentioning(str(runtime)) == []


def test_framework_toolkits_use_the_image_python(tmp_path):
    """The launcher's interpreter is a host path; in a container the image's ``python`` runs."""
    job, runtime = container_job(tmp_path, caffe2Settings={"pythonScriptFilePath": "train.py",
                                                           "commandLineArgs": "--epochs 1"})
    run(job)
    assert user_command(execs(runtime)[0])[-1] == "python train.py --epochs 1"
    assert fr.containers(runtime) == []
