"""Pure helpers of the launcher (no processes)."""

from __future__ import annotations

import pytest

from batchai_compat.launcher.env import expand
from batchai_compat.launcher.execlog import ExecutionLog
from batchai_compat.launcher.layout import join_prefix
from batchai_compat.launcher.ssh import orted_command, parse_ssh_args
from batchai_compat.launcher.toolkits import tensorflow_placement

from .helpers import make_job, run


def test_tensorflow_placement_matches_the_recorded_three_node_job():
    # docs/service-behaviour.md §c.10: 3 nodes, 1 ps, 3 workers -> ps 10.0.0.4:2222; workers .4:2223, .5:2222, .6:2222
    ps, workers = tensorflow_placement(3, 1, 3)
    assert ps == [(0, 2222)]
    assert workers == [(0, 2223), (1, 2222), (2, 2222)]
    ps, workers = tensorflow_placement(2, 2, 4)
    assert ps == [(0, 2222), (1, 2222)] and workers == [(0, 2223), (1, 2223), (0, 2224), (1, 2224)]


@pytest.mark.parametrize("args, expected", [
    (["10.0.0.5", "echo", "done"], ("10.0.0.5", ["echo", "done"], False)),
    (["-o", "StrictHostKeyChecking=no", "-p", "22", "u@10.0.0.5", "ls"], ("10.0.0.5", ["ls"], False)),
    (["-q", "-x", "h"], ("h", [], True)),
    (["-oLogLevel=ERROR", "-tt", "h", "a", "b c"], ("h", ["a", "b c"], True)),
    (["-l"], (None, [], False)),
])
def test_parse_ssh_args(args, expected):
    assert parse_ssh_args(args) == expected


def test_orted_command_is_kept_in_the_tree_with_its_own_session_dir():
    cmd = 'PATH=/x; export PATH; orted --daemonize -mca ess "env" -mca orte_tmpdir_base "/t/n0" -mca a b'
    expected = 'PATH=/x; export PATH; orted -mca orte_tmpdir_base /t/n1 -mca ess "env" -mca a b'
    assert orted_command(cmd, "/t/n1") == expected
    assert orted_command("echo orted --daemonize", "/t/n1") == "echo orted --daemonize"


def test_expand_and_join_prefix():
    env = {"AZ_BATCHAI_MOUNT_ROOT": "/m"}
    assert expand("$AZ_BATCHAI_MOUNT_ROOT/a/${AZ_BATCHAI_MOUNT_ROOT}/$UNKNOWN", env) == "/m/a//m/$UNKNOWN"
    assert join_prefix("/m/azfiles/", "seg/x", "outputs", None) == "/m/azfiles/seg/x/outputs"
    assert join_prefix("/m/azfiles//", "seg", "outputs", "/files/") == "/m/azfiles/seg/outputs/files"


def test_execution_log_masks_secret_values(tmp_path):
    log = ExecutionLog(str(tmp_path / "execution.log"), ["hunter2", ""])
    log.info("curl -H 'key: hunter2' https://x?sig=hunter2&y  SECRET_hunter2_NAME")
    log.close()
    text = (tmp_path / "execution.log").read_text()
    assert "key: ******'" in text and "sig=******&y" in text and "SECRET_hunter2_NAME" in text


def test_unknown_ssh_host_fails_like_ssh(tmp_path):
    job = make_job(tmp_path, customToolkitSettings={"commandLine": "ssh 10.9.9.9 true"})
    out = run(job)
    assert (out.result.exit_code, out.result.error_code) == (255, "JobFailed")
    assert "Could not resolve hostname 10.9.9.9" in out.files["stderr.txt"]


def test_empty_custom_command_line_succeeds(tmp_path):
    out = run(make_job(tmp_path, customToolkitSettings={}))
    assert out.result.error_code is None and out.result.exit_code == 0
    assert out.without_logs() == {"stdout.txt": "", "stderr.txt": ""}


def test_bad_prefix_is_a_launcher_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = run(make_job(tmp_path, stdOutErrPathPrefix=str(blocker),
                       customToolkitSettings={"commandLine": "true"}))
    assert out.returncode == 70
    assert out.result.error_code == "LauncherError" and "cannot create" in out.result.error_message


def test_hostfile_lists_each_address_once(tmp_path):
    from batchai_compat.launcher.layout import NodePaths, write_hostfile
    from batchai_compat.launcher.spec import NodeSpec

    paths = NodePaths(0, NodeSpec("n0", "10.0.0.4", "/r"), "", "", "", "", str(tmp_path / "hostfile"))
    nodes = [NodeSpec(f"n{i}", a, "/r") for i, a in enumerate(["10.0.0.4", "10.0.0.5", "10.0.0.4"])]
    write_hostfile(paths, nodes, 2)
    # OpenMPI refuses a host listed twice with slots: nodes sharing an address share a line.
    assert (tmp_path / "hostfile").read_text() == "10.0.0.4 slots=4\n10.0.0.5 slots=2\n"


@pytest.mark.parametrize("props, expected", [
    ({}, False),
    ({"customToolkitSettings": {"commandLine": "x"}}, False),
    ({"customToolkitSettings": {"commandLine": "ls $AZ_BATCHAI_SHARED_JOB_TEMP"}}, True),
    ({"customMpiSettings": {"commandLine": "x"}, "jobPreparation": {"commandLine": "cp a $AZ_BATCHAI_SHARED_JOB_TEMP"}},
     True),
    ({"pyTorchSettings": {"pythonScriptFilePath": "x", "communicationBackend": "gloo"}}, False),
    ({"tensorFlowSettings": {"pythonScriptFilePath": "x", "workerCommandLineArgs": "--d=$AZ_BATCHAI_SHARED_JOB_TEMP"}},
     True),
    ({"caffe2Settings": {"pythonScriptFilePath": "x"}}, True),
])
def test_shares_job_temp(props, expected):
    from batchai_compat.launcher.toolkits import shares_job_temp

    assert shares_job_temp(props) is expected
