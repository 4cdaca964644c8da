"""Behaviours 18-27, 30-32, 38 and 40 of ``docs/service-behaviour.md`` (g): job lifecycle and outputs.

Containers: there is no container engine locally, so "container" jobs run on the host (one
``BatchAICompatWarning`` at create) and must produce the same results as host jobs.
"""

from __future__ import annotations

import re
import time
import warnings
from datetime import timedelta

import pytest
import requests
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models

from .helpers import EXP, JOB_MOUNT_ROOT, OUTPUT_ID, RG, SUB, WS, blob_mount, job_parameters, share_mount, wait_for


@pytest.fixture
def cluster(ctx):
    return ctx.create_cluster()


def _no_warnings():
    return warnings.catch_warnings()


def test_18_container_job_outputs_and_delete(ctx, cluster):
    with pytest.warns(Warning):
        ctx.create_job("job", job_parameters(cluster.id, "echo hi | tee $AZ_BATCHAI_OUTPUT_OUTPUTS/hi.txt",
                                             image="ubuntu"))
    job = ctx.wait_for_job("job")
    assert job.execution_state == "succeeded"
    assert ctx.files("job", "stdouterr") == {"stdout.txt": "hi\n", "stderr.txt": ""}
    assert ctx.files("job", "OUTPUTS") == {"hi.txt": "hi\n"}
    stored = ctx.share_dir() / job.job_output_directory_path_segment / "stdouterr" / "stdout.txt"
    assert stored.read_text() == "hi\n"
    ctx.client.jobs.delete(RG, WS, EXP, "job").result()
    with pytest.raises(CloudError) as err:
        ctx.get_job("job")
    assert err.value.status_code == 404 and err.value.error.error == "JobNotFound"
    assert err.value.message == "The specified job job is not found"


def test_19_delete_running_job(ctx, cluster):
    ctx.create_job("job", job_parameters(cluster.id, "sleep 600"))
    ctx.wait_for_state("job", "running", timeout=60)
    ctx.client.jobs.delete(RG, WS, EXP, "job").result()
    with pytest.raises(CloudError):
        ctx.get_job("job")
    ctx.wait_for_nodes("cluster", 1)  # the node is free again


def test_20_terminate_running_job(ctx, cluster):
    ctx.create_job("longrunning", job_parameters(cluster.id, "sleep 600"))
    ctx.wait_for_state("longrunning", "running")
    ctx.client.jobs.terminate(RG, WS, EXP, "longrunning").result()
    job = ctx.wait_for_job("longrunning")
    assert job.execution_state == "failed"
    info = job.execution_info
    assert info.exit_code is None and [e.code for e in info.errors] == ["JobTerminated"]
    assert info.errors[0].message == "The specified job has been terminated by the user"
    assert info.start_time <= info.end_time
    ctx.wait_for_nodes("cluster", 1)


def test_terminate_shows_terminating_then_failed(ctx, cluster):
    # a job that ignores SIGTERM keeps the job in "terminating" until it is killed
    ctx.create_job("stubborn", job_parameters(cluster.id, "trap '' TERM; sleep 600"))
    ctx.wait_for_state("stubborn", "running")
    poller = ctx.client.jobs.terminate(RG, WS, EXP, "stubborn")
    assert ctx.get_job("stubborn").execution_state in ("terminating", "failed")
    poller.result(timeout=30)
    assert ctx.get_job("stubborn").execution_state == "failed"


def test_21_terminate_queued_job(ctx):
    cluster = ctx.create_cluster(target=0, wait=False)
    ctx.create_job("job", job_parameters(cluster.id, "true"))
    ctx.client.jobs.terminate(RG, WS, EXP, "job").result()
    job = ctx.get_job("job")
    assert job.execution_state == "failed"
    assert [e.code for e in job.execution_info.errors] == ["JobTerminated"]
    assert job.execution_info.exit_code is None
    assert abs((job.execution_info.end_time - job.execution_info.start_time).total_seconds()) < 1
    ctx.client.jobs.delete(RG, WS, EXP, "job").result()
    with pytest.raises(CloudError):
        ctx.get_job("job")


def test_22_terminate_finished_job_is_a_no_op(ctx, cluster):
    job = ctx.run_job("job", job_parameters(cluster.id, "true"))
    assert job.execution_state == "succeeded"
    assert ctx.client.jobs.terminate(RG, WS, EXP, "job").result() is None
    again = ctx.get_job("job")
    assert again.execution_state == "succeeded" and again.execution_info.exit_code == 0
    assert again.execution_info.errors is None
    assert again.execution_info.end_time == job.execution_info.end_time
    ctx.client.jobs.delete(RG, WS, EXP, "job").result()


def test_23_failing_job(ctx, cluster):
    job = ctx.run_job("job", job_parameters(cluster.id, "false"))
    assert job.execution_state == "failed"
    assert job.execution_info.exit_code == 1
    assert len(job.execution_info.errors) == 1 and job.execution_info.errors[0].code == "JobFailed"
    assert job.execution_info.errors[0].message == "Job failed with non-zero exit code"


@pytest.mark.parametrize("image", [None, "ubuntu"], ids=["host", "container"])
def test_24_25_job_preparation(ctx, cluster, image):
    prep = "mkdir -p $AZ_BATCHAI_INPUT_INPUT && echo hello | tee $AZ_BATCHAI_INPUT_INPUT/hi.txt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = ctx.run_job("job", job_parameters(cluster.id, "cat $AZ_BATCHAI_INPUT_INPUT/hi.txt", prep=prep,
                                                image=image))
    assert job.execution_state == "succeeded"
    assert ctx.files("job", "stdouterr") == {"stdout.txt": "hello\n", "stderr.txt": "",
                                             "stdout-job_prep.txt": "hello\n", "stderr-job_prep.txt": ""}


@pytest.mark.parametrize("image", [None, "ubuntu"], ids=["host", "container"])
def test_26_27_failing_job_preparation(ctx, cluster, image):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = ctx.run_job("job", job_parameters(cluster.id, "true", prep="false", image=image))
    assert job.execution_state == "failed"
    assert job.execution_info.exit_code == 1
    assert [e.code for e in job.execution_info.errors] == ["JobPreparationFailed"]


def test_30_31_job_level_mounts(ctx):
    ctx.create_storage(shares=["clustershare", "jobshare"], containers=["jobcontainer"])
    cluster = ctx.create_cluster(extra_shares=[share_mount("jobshare_cluster", share="clustershare")])
    mounts = models.MountVolumes(azure_file_shares=[share_mount("job_afs", share="jobshare")],
                                 azure_blob_file_systems=[blob_mount("job_bfs", "jobcontainer")])
    outputs = [models.OutputDirectory(id="OUTPUT1", path_prefix=f"{JOB_MOUNT_ROOT}/job_afs"),
               models.OutputDirectory(id="OUTPUT2", path_prefix=f"{JOB_MOUNT_ROOT}/job_bfs")]
    prep = ("echo afs > $AZ_BATCHAI_OUTPUT_OUTPUT1/prep_afs.txt; echo bfs > $AZ_BATCHAI_OUTPUT_OUTPUT2/prep_bfs.txt;"
            " echo done")
    command = ("echo afs > $AZ_BATCHAI_OUTPUT_OUTPUT1/job_afs.txt; echo bfs > $AZ_BATCHAI_OUTPUT_OUTPUT2/job_bfs.txt;"
               " mkdir $AZ_BATCHAI_OUTPUT_OUTPUT1/afs; echo afs > $AZ_BATCHAI_OUTPUT_OUTPUT1/afs/job_afs.txt;"
               " mkdir $AZ_BATCHAI_OUTPUT_OUTPUT2/bfs; echo bfs > $AZ_BATCHAI_OUTPUT_OUTPUT2/bfs/job_bfs.txt;"
               " echo done")
    job = ctx.run_job("job", job_parameters(cluster.id, command, prep=prep, mount_volumes=mounts,
                                            output_directories=outputs))
    assert job.execution_state == "succeeded"
    assert job.mount_volumes.azure_file_shares[0].credentials.account_key is None
    assert ctx.files("job", "stdouterr") == {"stdout.txt": "done\n", "stderr.txt": "",
                                             "stdout-job_prep.txt": "done\n", "stderr-job_prep.txt": ""}
    assert ctx.files("job", "OUTPUT1") == {"job_afs.txt": "afs\n", "prep_afs.txt": "afs\n", "afs": None}
    assert ctx.files("job", "OUTPUT2") == {"job_bfs.txt": "bfs\n", "prep_bfs.txt": "bfs\n", "bfs": None}
    assert ctx.files("job", "OUTPUT1", "afs") == {"job_afs.txt": "afs\n"}
    assert ctx.files("job", "output2", "bfs") == {"job_bfs.txt": "bfs\n"}  # ids are case-insensitive
    segment = job.job_output_directory_path_segment
    assert (ctx.share_dir("jobshare") / segment / "outputs" / "job_afs.txt").is_file()
    assert (ctx.container_dir("jobcontainer") / segment / "outputs" / "job_bfs.txt").is_file()
    # 31: the job-level mounts are gone for the next job, the cluster-level mount remains
    checker = ctx.run_job("checker", job_parameters(
        cluster.id, "echo job; ls $AZ_BATCHAI_JOB_MOUNT_ROOT 2>/dev/null | grep -E 'job_bfs|job_afs'"))
    assert checker.execution_state == "failed" and checker.execution_info.exit_code == 1
    assert [e.code for e in checker.execution_info.errors] == ["JobFailed"]
    assert ctx.files("checker", "stdouterr") == {"stdout.txt": "job\n", "stderr.txt": ""}


def test_32_environment_variables_and_secrets(ctx, cluster):
    params = job_parameters(
        cluster.id, "echo $VARIABLE $SECRET_VARIABLE", prep="echo $VARIABLE $SECRET_VARIABLE",
        environment_variables=[models.EnvironmentVariable(name="VARIABLE", value="VALUE")],
        secrets=[models.EnvironmentVariableWithSecretValue(name="SECRET_VARIABLE", value="SECRET")])
    created = ctx.create_job("job", params)
    assert [(v.name, v.value) for v in created.environment_variables] == [("VARIABLE", "VALUE")]
    assert [(s.name, s.value) for s in created.secrets] == [("SECRET_VARIABLE", None)]
    assert ctx.wait_for_job("job").execution_state == "succeeded"
    assert ctx.files("job", "stdouterr") == {"stdout.txt": "VALUE SECRET\n", "stderr.txt": "",
                                             "stdout-job_prep.txt": "VALUE SECRET\n", "stderr-job_prep.txt": ""}
    logs = [f for f in ctx.list_files("job", "stdouterr") if f.name.startswith("execution")]
    assert logs and not any(re.search(r"\bSECRET\b", requests.get(f.download_url, timeout=10).text)
                            for f in logs)  # the secret's value never reaches the execution log
    for path in ctx.home.rglob("*"):  # nor any file of the home but the 0600 state database
        if path.is_file() and not path.name.startswith("state.db") and not path.name.startswith("stdout"):
            assert not re.search(rb"\bSECRET\b", path.read_bytes()), path


def test_38_new_job_defaults(ctx):
    cluster = ctx.create_cluster(target=0, wait=False)
    job = ctx.create_job("job", job_parameters(cluster.id, "true"))
    assert job.scheduling_priority == "normal"
    assert job.constraints.max_wall_clock_time == timedelta(days=7)
    assert job.tool_type == "custom" and job.provisioning_state == "succeeded"
    assert re.match(rf"^{SUB}/{RG}/workspaces/{WS}/experiments/{EXP}/jobs/job/[0-9a-f-]{{36}}$",
                    job.job_output_directory_path_segment)
    assert job.type == "Microsoft.BatchAI/workspaces/experiments/jobs"
    assert job.execution_state == "queued"
    assert job.execution_state_transition_time == job.creation_time


def test_40_execution_info_while_queued_and_running(ctx):
    cluster = ctx.create_cluster(target=0, wait=False)
    ctx.create_job("job", job_parameters(cluster.id, "sleep 600"))
    assert ctx.get_job("job").execution_info is None
    ctx.client.clusters.update(RG, WS, "cluster", scale_settings=models.ScaleSettings(
        manual=models.ManualScaleSettings(target_node_count=1)))
    job = ctx.wait_for_state("job", "running")
    assert job.execution_info.start_time is not None
    assert job.execution_info.end_time is None and job.execution_info.exit_code is None
    assert job.execution_info.errors is None


def test_polling_false_create_returns_none(ctx):
    cluster = ctx.create_cluster(target=0, wait=False)
    poller = ctx.client.jobs.create(RG, WS, EXP, "job", job_parameters(cluster.id, "true"), polling=False)
    assert poller.result() is None
    assert ctx.get_job("job").execution_state == "queued"


def test_priorities_and_fifo(ctx):
    cluster = ctx.create_cluster(target=0, wait=False)
    order = [("low1", "low"), ("normal1", "normal"), ("high1", "high"), ("normal2", "normal"), ("high2", "high")]
    for name, priority in order:
        ctx.create_job(name, job_parameters(cluster.id, "date +%s.%N", scheduling_priority=priority))
    ctx.client.clusters.update(RG, WS, "cluster", scale_settings=models.ScaleSettings(
        manual=models.ManualScaleSettings(target_node_count=1)))
    starts = {name: ctx.wait_for_job(name).execution_info.start_time for name, _ in order}
    assert sorted(starts, key=starts.get) == ["high1", "high2", "normal1", "normal2", "low1"]


def test_gang_scheduling_waits_for_enough_idle_nodes(ctx):
    cluster = ctx.create_cluster(target=2)
    ctx.create_job("one", job_parameters(cluster.id, "sleep 2"))
    ctx.wait_for_state("one", "running")
    ctx.create_job("two", job_parameters(cluster.id, "true", node_count=2))
    assert ctx.get_job("two").execution_state == "queued"
    assert ctx.wait_for_job("two").execution_state == "succeeded"
    assert ctx.get_job("one").execution_info.end_time <= ctx.get_job("two").execution_info.start_time


def test_wall_clock_limit_stops_the_job(ctx, cluster):
    job = ctx.run_job("job", job_parameters(cluster.id, "sleep 600", constraints=models.JobBasePropertiesConstraints(
        max_wall_clock_time=timedelta(seconds=1))))
    assert job.execution_state == "failed" and job.execution_info.exit_code is None
    assert [e.code for e in job.execution_info.errors] == ["MaxWallClockTimeExceeded"]
    assert (job.execution_info.end_time - job.execution_info.start_time).total_seconds() < 10


def test_output_file_listing_details(ctx, cluster):
    command = ("mkdir $AZ_BATCHAI_OUTPUT_OUTPUTS/sub && printf abc > $AZ_BATCHAI_OUTPUT_OUTPUTS/b.txt && "
               "printf 0123456789 > $AZ_BATCHAI_OUTPUT_OUTPUTS/a-b.txt && printf x > $AZ_BATCHAI_OUTPUT_OUTPUTS/a.txt")
    assert ctx.run_job("job", job_parameters(cluster.id, command)).execution_state == "succeeded"
    items = ctx.list_files("job", "outputs")
    assert [i.name for i in items] == ["a-b.txt", "a.txt", "b.txt", "sub"]  # byte order: '-' < '.'
    sub = items[-1]
    assert sub.file_type == "directory" and sub.download_url is None and sub.content_length is None
    first = items[0]
    assert first.file_type == "file" and first.content_length == 10 and first.last_modified.tzinfo is not None
    ranged = requests.get(first.download_url, headers={"Range": "bytes=2-4"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == b"234"
    pages = ctx.client.jobs.list_output_files(RG, WS, EXP, "job", models.JobsListOutputFilesOptions(
        outputdirectoryid="OUTPUTS", max_results=1))
    assert [i.name for i in pages] == ["a-b.txt", "a.txt", "b.txt", "sub"]
    assert ctx.list_files("job", "OUTPUTS", "sub") == []
    with pytest.raises(CloudError):
        ctx.list_files("job", "OUTPUTS", "../..")
    with pytest.raises(CloudError):
        ctx.list_files("job", "NOPE")


def test_output_directory_not_on_a_mount_is_refused(ctx, cluster):
    params = job_parameters(cluster.id, "true", std_out_err_path_prefix="$AZ_BATCHAI_JOB_TEMP")
    assert ctx.run_job("job", params).execution_state == "succeeded"
    with pytest.raises(CloudError) as err:
        ctx.list_files("job", "stdouterr")
    assert err.value.message == "The specified outputDirectoryId stdouterr is not present on a mount root"


def test_job_remote_login_information(ctx):
    cluster = ctx.create_cluster(target=2)
    ctx.create_job("job", job_parameters(cluster.id, "sleep 600", node_count=2))
    ctx.wait_for_state("job", "running")
    job_nodes = list(ctx.client.jobs.list_remote_login_information(RG, WS, EXP, "job"))
    cluster_nodes = list(ctx.client.clusters.list_remote_login_information(RG, WS, "cluster"))
    assert sorted((n.node_id, n.ip_address, n.port) for n in job_nodes) == \
        sorted((n.node_id, n.ip_address, n.port) for n in cluster_nodes)


def test_missing_cluster_is_reported(ctx):
    params = job_parameters(f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/{WS}"
                            "/clusters/nope", "true")
    with pytest.raises(CloudError) as err:
        ctx.client.jobs.create(RG, WS, EXP, "job", params).result()
    assert err.value.status_code == 404 and err.value.error.error == "ClusterNotFound"


def test_jobs_list_by_experiment_pages(ctx):
    cluster = ctx.create_cluster(target=0, wait=False)
    for i in range(3):
        ctx.create_job(f"j{i}", job_parameters(cluster.id, "true"))
    options = models.JobsListByExperimentOptions(max_results=1)
    assert [j.name for j in ctx.client.jobs.list_by_experiment(RG, WS, EXP, options)] == ["j0", "j1", "j2"]
    wait_for(lambda: True)


def test_job_temp_dir_is_wiped_when_the_node_starts_another_job(ctx, cluster):
    first = ctx.run_job("first", job_parameters(cluster.id, "echo data > $AZ_BATCHAI_JOB_TEMP/scratch.txt"))
    assert first.execution_state == "succeeded"
    second = ctx.run_job("second", job_parameters(
        cluster.id, "ls $AZ_BATCHAI_JOB_TEMP_DIR | wc -l; test -d $AZ_BATCHAI_JOB_TEMP && echo own"))
    assert second.execution_state == "succeeded"
    assert ctx.files("second", "stdouterr")["stdout.txt"].split() == ["1", "own"]


def _job_in_state(ctx, state):
    """A job named ``job`` in ``state`` (queued on a 0-node cluster, else on the 1-node ``cluster``)."""
    if state == "queued":
        cluster = ctx.create_cluster("empty", target=0, wait=False)
        ctx.create_job("job", job_parameters(cluster.id, "true"))
        return
    cluster = ctx.create_cluster()
    started = "touch $AZ_BATCHAI_OUTPUT_OUTPUTS/started"
    command = {"running": f"{started}; sleep 600", "terminating": f"trap '' TERM; {started}; sleep 600",
               "succeeded": "true", "failed": "false"}[state]
    ctx.create_job("job", job_parameters(cluster.id, command))
    if state in ("succeeded", "failed"):
        assert ctx.wait_for_job("job").execution_state == state
        return
    ctx.wait_for_state("job", "running")
    wait_for(lambda: ctx.files("job", OUTPUT_ID).get("started") == "", message="the command to start")
    if state == "terminating":  # the command ignores SIGTERM: terminating lasts until the SIGKILL
        ctx.client.jobs.terminate(RG, WS, EXP, "job", polling=False)
        assert ctx.get_job("job").execution_state == "terminating"


@pytest.mark.parametrize("state", ["queued", "running", "terminating", "succeeded", "failed"])
def test_delete_works_in_every_state(ctx, state):
    _job_in_state(ctx, state)
    ctx.client.jobs.delete(RG, WS, EXP, "job").result(timeout=30)
    with pytest.raises(CloudError) as err:
        ctx.get_job("job")
    assert err.value.error.error == "JobNotFound"
    assert list(ctx.client.jobs.list_by_experiment(RG, WS, EXP)) == []


@pytest.mark.parametrize("state", ["succeeded", "failed"])
def test_terminate_is_a_no_op_on_finished_jobs(ctx, state):
    _job_in_state(ctx, state)
    before = ctx.get_job("job")
    assert ctx.client.jobs.terminate(RG, WS, EXP, "job").result() is None
    after = ctx.get_job("job")
    assert after.execution_state == state and after.execution_info.as_dict() == before.execution_info.as_dict()


def test_stdout_can_be_streamed_while_the_job_runs(ctx, cluster):
    """What the recipes' ``utilities.job.wait_for_job_completion`` did: poll the listing and fetch the
    new bytes of stdout.txt with ``Range`` requests until the job ends."""
    ctx.create_job("job", job_parameters(cluster.id, "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done"))
    received, seen_running = b"", False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = ctx.get_job("job")
        seen_running = seen_running or job.execution_state == "running"
        for item in ctx.list_files("job", "stdouterr"):
            if item.name == "stdout.txt" and item.content_length > len(received):
                part = requests.get(item.download_url, headers={"Range": f"bytes={len(received)}-"}, timeout=10)
                assert part.status_code == 206
                received += part.content
        finished = job.execution_state in ("succeeded", "failed")
        if finished and ctx.files("job", "stdouterr")["stdout.txt"].encode() == received:
            break
        time.sleep(0.05)
    assert seen_running and job.execution_state == "succeeded"
    assert received.decode() == "".join(f"line {i}\n" for i in range(1, 6))
