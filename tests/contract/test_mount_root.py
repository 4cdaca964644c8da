"""The service's literal mount root ``/mnt/batch/tasks/shared/LS_root/mounts`` (the value of
``$AZ_BATCHAI_MOUNT_ROOT`` on Batch AI nodes, ``docs/service-behaviour.md`` §d.1/§d.2) names the node's
cluster-level mounts, as it did on the service: in path prefixes, output and input directories, command
lines, job preparation, environment variable values and setup tasks (issue #11 item 8).

Nothing may be written to the host's real ``/mnt/batch`` (``HOST_ROOT`` must not appear), and what the
job wrote must be listable through ``list_output_files``.
"""

from __future__ import annotations

import os

import batchai_compat.models as models

from .helpers import INPUT_ID, OUTPUT_ID, job_parameters

SERVICE_ROOT = "/mnt/batch/tasks/shared/LS_root/mounts"
HOST_ROOT = "/mnt/batch/tasks/shared/LS_root"


def test_literal_mount_root_in_prefixes_commands_and_variables(ctx):
    existed_before = os.path.exists(HOST_ROOT)
    cluster = ctx.create_cluster()
    command = (f"echo hello > {SERVICE_ROOT}/azfiles/literal.txt; "
               f"echo out > $AZ_BATCHAI_OUTPUT_{OUTPUT_ID}/result.txt; "
               f"echo input=$AZ_BATCHAI_INPUT_{INPUT_ID} data=$DATA; "
               f"cat '{SERVICE_ROOT}/azfiles/prep.txt'; "
               f"echo /x{SERVICE_ROOT}/a {SERVICE_ROOT}2/b")  # other paths: left alone
    params = job_parameters(
        cluster.id, command, prep=f"echo prepared > \"{SERVICE_ROOT}/azfiles/prep.txt\"",
        std_out_err_path_prefix=f"{SERVICE_ROOT}/azfiles",
        output_directories=[models.OutputDirectory(id=OUTPUT_ID, path_prefix=f"{SERVICE_ROOT}/azfiles/",
                                                   path_suffix="files")],
        input_directories=[models.InputDirectory(id=INPUT_ID, path=f"{SERVICE_ROOT}/azfiles/input")],
        environment_variables=[models.EnvironmentVariable(name="DATA", value=f"{SERVICE_ROOT}/azfiles/data")])
    job = ctx.run_job("literal", params)
    assert job.execution_state == "succeeded", job.execution_info.errors
    # what the user sent is what the service returns
    assert job.std_out_err_path_prefix == f"{SERVICE_ROOT}/azfiles"

    stdouterr = ctx.files("literal", "stdouterr")
    lines = stdouterr["stdout.txt"].splitlines()
    node_mount_root = lines[0].split("input=", 1)[1].split(" ")[0][:-len("/azfiles/input")]
    assert lines == [f"input={node_mount_root}/azfiles/input data={node_mount_root}/azfiles/data", "prepared",
                     f"/x{SERVICE_ROOT}/a {SERVICE_ROOT}2/b"]
    assert not node_mount_root.startswith("/mnt/batch/")  # the node's own mount root
    assert ctx.files("literal", OUTPUT_ID) == {"result.txt": "out\n"}
    share = ctx.share_dir()
    assert (share / "literal.txt").read_text() == "hello\n"
    assert (share / "prep.txt").read_text() == "prepared\n"
    assert (share / job.job_output_directory_path_segment / "stdouterr" / "stdout.txt").is_file()
    assert os.path.exists(HOST_ROOT) == existed_before


def test_literal_mount_root_in_a_setup_task(ctx):
    existed_before = os.path.exists(HOST_ROOT)
    task = models.SetupTask(command_line=f"echo set up > {SERVICE_ROOT}/azfiles/setup.txt",
                            std_out_err_path_prefix=f"{SERVICE_ROOT}/azfiles")
    cluster = ctx.create_cluster(setup_task=task)
    (node_id,) = ctx.node_ids()
    assert (ctx.share_dir() / "setup.txt").read_text() == "set up\n"
    suffix = cluster.node_setup.setup_task.std_out_err_path_suffix
    assert (ctx.share_dir() / suffix / f"stdout-{node_id}.txt").is_file()
    assert os.path.exists(HOST_ROOT) == existed_before

