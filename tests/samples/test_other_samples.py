"""The recipe-shaped samples beside the seed: custom toolkit with job preparation, Horovod under
mpirun, PyTorch with a file rendezvous, and the job-factory hyperparameter sweep."""

from __future__ import annotations

import re

import pytest

from .conftest import SAMPLES, assert_tidy, run_sample, sample_files

pytestmark = [pytest.mark.spawns_processes]


def _run(name, home, workdir):
    before = sample_files(SAMPLES)
    result = run_sample(SAMPLES / name / "sample.py", home, workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert re.match(r"Cluster state: steady Target: \d; Allocated: \d; Idle: \d; ", out)
    assert out.rstrip().splitlines()[-1].startswith("Deleted the job")
    assert_tidy(home)
    assert list(workdir.iterdir()) == []
    assert sample_files(SAMPLES) == before
    return out


def test_custom_toolkit_with_job_preparation_and_job_level_mount(home, workdir):
    out = _run("custom_toolkit_jobprep", home, workdir)
    assert re.search(r"^Job state: succeeded ExitCode: 0$", out, re.M)
    # job preparation ran first, on the node, and its output is in stdouterr
    assert re.search(r"^stdouterr stdout-job_prep\.txt file \d+$", out, re.M)
    assert "Installed 22 stop words" in out
    assert {"execution.log", "stderr-job_prep.txt", "stderr.txt", "stdout-job_prep.txt", "stdout.txt"} == set(
        re.findall(r"^stdouterr (\S+) file \d+$", out, re.M))
    # the tailed stdout.txt and the output directory's file
    assert re.search(r"^\s+its 7$", out, re.M)
    assert re.search(r"^RESULTS counts\.json file \d+$", out, re.M)
    assert "Top words: [('its', 7), ('output', 6), ('same', 5), ('job', 4), ('ran', 3)]" in out


@pytest.mark.mpi
@pytest.mark.mpi
def test_horovod_allreduce_under_mpirun(home, workdir):
    out = _run("horovod_mpi", home, workdir)
    assert re.search(r"^Job state: succeeded ExitCode: 0$", out, re.M)
    # mpirun forwards the ranks' output in pieces: a rank's line may end after another rank's line
    # ("...= 83083250rank 2 of 4 ...\n\n"), so the lines are found without anchors.
    ranks = re.findall(r"rank (\d) of 4 \(local rank (\d)\) on \S+: partial sum of squares = (\d+)", out)
    assert sorted(r for r, _, _ in ranks) == ["0", "1", "2", "3"]
    assert sum(int(p) for _, _, p in ranks) == 333833500
    assert sorted(re.findall(r"rank (\d): allreduce total = 333833500 \(correct\)", out)) == list("0123")
    names = re.findall(r"^(\S+) http://127\.0\.0\.1:\d+/", out, re.M)
    assert {"stdout.txt", "stderr.txt"} <= set(names)
    assert len([n for n in names if n.startswith("stdout-job_prep-")]) == 2


def test_pytorch_ranks_meet_through_the_init_method(home, workdir):
    out = _run("pytorch_distributed", home, workdir)
    assert re.search(r"^Job state: succeeded ExitCode: 0$", out, re.M)
    assert re.search(r"^rank 0 of 2: backend gloo \(gloo\), init method file:///\S+$", out, re.M)
    final = re.search(r"^Rank 0, epoch 20: loss [\d.]+, w ([\d.]+), b ([\d.]+)$", out, re.M)
    assert final and abs(float(final.group(1)) - 3) < 0.05 and abs(float(final.group(2)) - 2) < 0.05
    assert {"stdout-0.txt", "stdout-1.txt", "stderr-0.txt", "stderr-1.txt"} <= set(
        re.findall(r"^stdouterr (\S+) \d+$", out, re.M))
    model = re.search(r"^Model: \{'w': ([\d.]+), 'b': ([\d.]+), 'epochs': 20, 'world_size': 2\}$", out, re.M)
    assert model and abs(float(model.group(1)) - 3) < 0.05 and abs(float(model.group(2)) - 2) < 0.05


def test_hyperparameter_sweep_from_threads(home, workdir):
    result = run_sample(SAMPLES / "hyperparameter_search" / "sample.py", home, workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    # ExperimentUtils logs (to stderr, as the recipes' logging.StreamHandler did) each job it created.
    created = re.findall(r'^Created job "(mnist_param_sweep_[0-9a-f]{16})" with parameters', result.stderr, re.M)
    assert len(set(created)) == 6
    assert "6/6 jobs completed (6 succeeded, 0 failed)" in out
    accuracies = re.findall(r"^(mnist_param_sweep_[0-9a-f]{16}): accuracy ([\d.]+) with \{", out, re.M)
    assert sorted(name for name, _ in accuracies) == sorted(created)
    values = [float(v) for _, v in accuracies]
    assert values == sorted(values, reverse=True) and values[0] > 0.8
    assert "6 jobs in experiment hyperparameter_sweep were deleted." in out
    assert out.rstrip().splitlines()[-1] == "Deleted the jobs, the cluster, the share and the workspace of this sample."
    assert_tidy(home)
