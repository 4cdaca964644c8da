"""Multi-node jobs spread over the Azure ML allocation: one launcher per node (node mode).

The emulator starts one process per node for the run's ``MpiConfiguration(process_count_per_node=1)``,
each with its node's id (``AZ_BATCH_NODE_ID``), a per-node ``TMPDIR`` and the allocation's
``AZ_BATCH_HOST_LIST`` / ``AZ_BATCH_NODE_LIST``; every node runs its own job preparation.
"""

from __future__ import annotations

import os
import warnings

import pytest

import batchai_compat.models as models
from batchai_compat.exceptions import BatchAICompatWarning

from .conftest import RG, WS
from .helpers import EXP, contents, create_cluster, job_params, wait_job

# Job preparation says where it runs: the node's private directories live under its own TMPDIR.
PREP = 'echo "prep $TMPDIR"; echo "temp $AZ_BATCHAI_JOB_TEMP"; cat "$AZ_BATCHAI_MPI_HOST_FILE"'
# Written by every node's job preparation into its $AZ_BATCHAI_JOB_TEMP (where the ranks start).
HVD_SCRIPT = ("printf 'import os\\nprint(\"hvd\", os.environ[\"OMPI_COMM_WORLD_RANK\"])\\n' "
              "> $AZ_BATCHAI_JOB_TEMP/hvd.py")


def _prep_outputs(out):
    return {name[len("stdout-job_prep-"):-len(".txt")]: text for name, text in out.items()
            if name.startswith("stdout-job_prep-")}


def _started_processes(emu):
    root = os.path.join(emu.root, "runs")
    lines = []
    for run_id in os.listdir(root):
        path = os.path.join(root, run_id, "system_logs", "emulator", "execution.txt")
        if os.path.exists(path):
            with open(path) as fh:
                lines += [line for line in fh if line.startswith("started ")]
    return lines


def _check_spread(out, slots, node_count=2):
    preps = _prep_outputs(out)
    assert len(preps) == node_count, sorted(out)
    temps = set()
    for node_id, text in preps.items():
        lines = text.splitlines()
        # Each node's preparation ran in that node's process: its TMPDIR is the emulator's for that node.
        assert lines[0].startswith("prep ") and f"/nodes/{node_id}/tmp" in lines[0], (node_id, text)
        assert lines[1].startswith("temp ") and lines[1][5:].startswith(lines[0][5:]), (node_id, text)
        temps.add(lines[1].rsplit("/", 1)[-1])
        # The host file lists the allocation's addresses; the emulator's nodes all answer on 127.0.0.1, so
        # they share one line with the slots of both nodes.
        assert lines[2:] == [f"127.0.0.1 slots={slots}"], text
    assert len(temps) == 1  # one job uid on every node
    assert sorted(n for n in out if n.startswith("execution-")) == sorted(f"execution-{i}.log" for i in preps)
    assert sorted(n for n in out if n.startswith("stderr-job_prep-")) == sorted(
        f"stderr-job_prep-{i}.txt" for i in preps)
    for node_id in preps:
        log = out[f"execution-{node_id}.log"]
        assert "process(es) on this node" in log, log


def _create(client, name, params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.jobs.create(RG, WS, EXP, name, params).result()
    messages = [str(w.message) for w in caught if issubclass(w.category, BatchAICompatWarning)]
    assert not [m for m in messages if "multi-node" in m], messages


@pytest.fixture
def setup(client):
    client.experiments.create(RG, WS, EXP).result()


def test_custom_mpi_job_spreads_over_two_nodes(client, emu, setup):
    create_cluster(client, "spread2", nodes=2)
    cluster = client.clusters.get(RG, WS, "spread2")
    params = job_params(cluster, node_count=2, custom_toolkit_settings=None,
                        job_preparation=models.JobPreparation(command_line=PREP),
                        custom_mpi_settings=models.CustomMpiSettings(
                            process_count=4, command_line="echo rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE"))
    _create(client, "mpispread", params)
    job = wait_job(client, "mpispread", timeout=120)
    out = contents(client, "mpispread")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    assert sorted(out["stdout.txt"].splitlines()) == [f"rank {r} of 4" for r in range(4)]
    _check_spread(out, slots=4)
    # Azure ML started one process per node, each running the launcher for its own node.
    started = [line for line in _started_processes(emu) if "batchai_compat._aml_node" in line]
    assert sorted(line.split()[3] for line in started) == ["node=0", "node=1"], started
    logs = {n: t for n, t in out.items() if n.startswith("execution-")}
    assert sum("mpirun (4 processes)" in t for t in logs.values()) == 1  # one mpirun, from node 0
    assert sum("(master)" in t for t in logs.values()) == 1


def test_horovod_job_spreads_and_custom_job_runs_on_node_0(client, emu, setup):
    create_cluster(client, "spread3", nodes=2)
    cluster = client.clusters.get(RG, WS, "spread3")
    params = job_params(cluster, node_count=2, custom_toolkit_settings=None,
                        job_preparation=models.JobPreparation(command_line=PREP + "; " + HVD_SCRIPT),
                        horovod_settings=models.HorovodSettings(python_script_file_path="$AZ_BATCHAI_JOB_TEMP/hvd.py",
                                                                process_count=2))
    _create(client, "hvd", params)
    custom = job_params(cluster, node_count=2, job_preparation=models.JobPreparation(command_line=PREP),
                        custom_toolkit_settings=models.CustomToolkitSettings(
                            command_line="echo once; cat $AZ_BATCHAI_MPI_HOST_FILE"))
    _create(client, "once", custom)
    job = wait_job(client, "hvd", timeout=120)
    out = contents(client, "hvd")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    assert sorted(out["stdout.txt"].splitlines()) == ["hvd 0", "hvd 1"]
    _check_spread(out, slots=2)
    job = wait_job(client, "once", timeout=120)
    out = contents(client, "once")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    assert out["stdout.txt"] == "once\n127.0.0.1 slots=2\n"
    _check_spread(out, slots=2)


def test_job_preparation_failing_on_the_second_node_fails_the_job(client, emu, setup):
    create_cluster(client, "spread4", nodes=2)
    cluster = client.clusters.get(RG, WS, "spread4")
    prep = 'case "$AZ_BATCHAI_JOB_TEMP" in */batchai-node1-*) echo bad node >&2; exit 5;; esac; echo fine'
    params = job_params(cluster, node_count=2, custom_toolkit_settings=None,
                        job_preparation=models.JobPreparation(command_line=prep),
                        custom_mpi_settings=models.CustomMpiSettings(process_count=2, command_line="echo ran"))
    _create(client, "prepfail", params)
    job = wait_job(client, "prepfail", timeout=120)
    out = contents(client, "prepfail")
    assert job.execution_state == "failed"
    assert [e.code for e in job.execution_info.errors] == ["JobPreparationFailed"], out
    assert job.execution_info.exit_code == 5
    preps = _prep_outputs(out)
    assert sorted(preps.values()) == ["", "fine\n"]
    assert sorted(t for n, t in out.items() if n.startswith("stderr-job_prep-")) == ["", "bad node\n"]


def test_tensorflow_multi_node_job_still_warns(client, emu, setup):
    create_cluster(client, "tfwarn", nodes=2)
    cluster = client.clusters.get(RG, WS, "tfwarn")
    params = job_params(cluster, node_count=2, custom_toolkit_settings=None,
                        tensor_flow_settings=models.TensorFlowSettings(python_script_file_path="x.py"))
    with pytest.warns(BatchAICompatWarning, match="multi-node"):
        client.jobs.create(RG, WS, EXP, "tfwarn", params).result()
    client.jobs.terminate(RG, WS, EXP, "tfwarn").result()
