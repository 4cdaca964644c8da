"""Multi-node behaviour: ssh between virtual nodes (28), per-node files, job-level mounts (30, 31)."""

from __future__ import annotations

import re

from .helpers import finish, make_job, run, start


def test_ssh_between_virtual_nodes(tmp_path):  # behaviour 28 (docs/service-behaviour.md)
    job = make_job(tmp_path, node_count=2, customToolkitSettings={"commandLine": ""})
    a, b = (n.address for n in job.spec.nodes)
    job.spec.job["properties"]["customToolkitSettings"]["commandLine"] = (
        f"ssh {a} echo done && ssh {b} echo done && ssh {b} 'echo $AZ_BATCHAI_MOUNT_ROOT' >&2"
    )
    job.spec.write(job.spec_path)
    out = run(job)
    assert out.result.error_code is None, out.files
    assert set(out.logs()) == {f"execution-{n.id}.log" for n in job.spec.nodes}
    assert out.without_logs()["stdout.txt"] == "done\ndone\n"
    stderr = out.files["stderr.txt"]
    assert re.match(r"Permanently added.*", stderr.split("Warning: ", 1)[1])
    # One warning per host and job, the remote command runs with node 1's environment.
    assert stderr.count("Permanently added") == 2
    assert f"Warning: Permanently added '{a}' (ECDSA) to the list of known hosts." in stderr
    assert stderr.splitlines()[-1] == str(tmp_path / "node1" / "mounts")


def test_multi_node_job_preparation_files_per_node(tmp_path):
    job = make_job(tmp_path, node_count=2, customToolkitSettings={"commandLine": "echo main"},
                   jobPreparation={"commandLine": "echo prep on $AZ_BATCHAI_JOB_TEMP"})
    out = run(job)
    assert out.result.error_code is None
    expected = {"stdout.txt", "stderr.txt"}
    for i, node in enumerate(job.spec.nodes):
        expected |= {f"stdout-job_prep-{node.id}.txt", f"stderr-job_prep-{node.id}.txt"}
        assert out.files[f"stdout-job_prep-{node.id}.txt"] == f"prep on {tmp_path}/node{i}/jobs/{job.spec.job_uid}\n"
        assert f"execution-{node.id}.log" in out.files
    assert set(out.without_logs()) == expected


def test_job_mounts_hold_outputs_and_are_removed_afterwards(tmp_path):  # behaviours 30, 31 (docs/service-behaviour.md)
    jobshare, jobcontainer = tmp_path / "storage" / "jobshare", tmp_path / "storage" / "jobcontainer"
    job = make_job(
        tmp_path,
        job_mounts={"job_afs": jobshare, "job_bfs": jobcontainer},
        outputDirectories=[
            {"id": "OUTPUT1", "pathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/job_afs"},
            {"id": "OUTPUT2", "pathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/job_bfs"},
        ],
        jobPreparation={"commandLine": "echo afs > $AZ_BATCHAI_OUTPUT_OUTPUT1/prep_afs.txt; "
                                       "echo bfs > $AZ_BATCHAI_OUTPUT_OUTPUT2/prep_bfs.txt; echo done"},
        customToolkitSettings={"commandLine": (
            "echo afs > $AZ_BATCHAI_OUTPUT_OUTPUT1/job_afs.txt; echo bfs > $AZ_BATCHAI_OUTPUT_OUTPUT2/job_bfs.txt; "
            "mkdir -p $AZ_BATCHAI_OUTPUT_OUTPUT1/afs $AZ_BATCHAI_OUTPUT_OUTPUT2/bfs; "
            "echo afs > $AZ_BATCHAI_OUTPUT_OUTPUT1/afs/job_afs.txt; "
            "echo bfs > $AZ_BATCHAI_OUTPUT_OUTPUT2/bfs/job_bfs.txt; "
            "echo done")},
    )
    out = run(job)
    assert out.result.error_code is None
    assert out.without_logs() == {"stdout.txt": "done\n", "stderr.txt": "", "stdout-job_prep.txt": "done\n",
                                  "stderr-job_prep.txt": ""}
    out1, out2 = jobshare / job.segment / "outputs", jobcontainer / job.segment / "outputs"
    assert sorted(p.name for p in out1.iterdir()) == ["afs", "job_afs.txt", "prep_afs.txt"]
    assert sorted(p.name for p in out2.iterdir()) == ["bfs", "job_bfs.txt", "prep_bfs.txt"]
    assert (out1 / "afs" / "job_afs.txt").read_text() == "afs\n"
    assert (out2 / "bfs" / "job_bfs.txt").read_text() == "bfs\n"
    # Unmounted after the job; the cluster-level mount stays.
    job_mount_root = tmp_path / "node0" / "jobs" / job.spec.job_uid / "mounts"
    assert not (job_mount_root / "job_afs").exists() and not (job_mount_root / "job_bfs").is_symlink()
    assert (tmp_path / "node0" / "mounts" / "azfiles").is_symlink()
    # A later job on the same node without job mounts sees none (docs/service-behaviour.md behaviour 31).
    checker = make_job(tmp_path, name="checker", customToolkitSettings={
        "commandLine": "echo job; ls -d $AZ_BATCHAI_JOB_TEMP_DIR/*/mounts/job_* 2>/dev/null "
                       "| grep -E 'job_bfs|job_afs'"})
    out = run(checker)
    assert (out.result.exit_code, out.result.error_code) == (1, "JobFailed")
    assert out.without_logs() == {"stdout.txt": "job\n", "stderr.txt": ""}


def test_node_mode_runs_one_nodes_share(tmp_path):
    """``--node-index N``: one launcher per machine (Azure ML); each runs its node's prep and processes."""
    script = tmp_path / "c2.py"
    script.write_text("import os; print('shard', os.environ['AZ_BATCHAI_TASK_INDEX'])\n")
    job = make_job(tmp_path, node_count=2, caffe2Settings={"pythonScriptFilePath": str(script)},
                   jobPreparation={"commandLine": "echo prep"})
    ids = [n.id for n in job.spec.nodes]
    node1 = finish(job, start(job, "--node-index", "1"))
    assert node1.result.error_code is None
    assert node1.without_logs() == {"stdout-1.txt": "shard 1\n", "stderr-1.txt": "",
                                    f"stdout-job_prep-{ids[1]}.txt": "prep\n", f"stderr-job_prep-{ids[1]}.txt": ""}
    assert set(node1.logs()) == {f"execution-{ids[1]}.log"}
    assert not (tmp_path / "node0").exists()  # node 0 lives on another machine
    # The same spec on node 0 (a second result file, as a second machine would have).
    job.spec.result_path = str(tmp_path / "result-node0.json")
    job.spec.write(job.spec_path)
    node0 = finish(job, start(job, "--node-index", "0"))
    assert node0.result.error_code is None
    assert node0.files["stdout-0.txt"] == "shard 0\n"
    assert set(node0.logs()) == {f"execution-{i}.log" for i in ids}
