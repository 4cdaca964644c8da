"""Multi-node jobs spread over the Azure ML allocation: one launcher per node (node mode), acting together.

The emulator starts one process per node for the run's ``MpiConfiguration(process_count_per_node=1)``, each
as if on its own machine: the node's own loopback address (``AZ_BATCH_HOST_LIST``), id, working directory,
``TMPDIR``, and ssh between the nodes. Every node runs its own job preparation, node 0 waits for all of them,
and each toolkit's processes run on the nodes Batch AI put them on.

Jobs run in image environments: the MPI toolkits and the Python scripts (Python 3: ``tests/node_scripts.py``
is shared with the launcher tests) use the Azure ML base image (Open MPI, ssh, conda's Python 3); shell-only
jobs use ``ubuntu``.
"""

from __future__ import annotations

import os
import re
import warnings

import pytest

import batchai_compat.models as models
from batchai_compat.exceptions import BatchAICompatWarning

from ..node_scripts import RENDEZVOUS_SCRIPT, TF_SCRIPT
from .conftest import RG, SUB, WS
from .helpers import AML_MPI, EXP, contents, create_cluster, job_params, wait_for, wait_job

# Job preparation says where it runs: the node's private directories live under its own TMPDIR.
PREP = 'echo "prep $TMPDIR"; echo "temp $AZ_BATCHAI_JOB_TEMP"; cat "$AZ_BATCHAI_MPI_HOST_FILE"'
# Written by every node's job preparation into its $AZ_BATCHAI_JOB_TEMP (where the ranks start).
KEY = "c2VjcmV0LWFjY291bnQta2V5"
# One write per line: the ranks share stdout.txt through mpirun (print() would write its parts apart).
HVD_SCRIPT = ("printf 'import os, sys\\nsys.stdout.write(\"hvd %%s\\\\n\" %% os.environ[\"OMPI_COMM_WORLD_RANK\"])\\n' "
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


def _addresses(out):
    """The job's node addresses in node order, as each node's launcher logged them ("Node <id> (<address>),
    node <i> of <n>"); they are the emulated machines' own, distinct loopback addresses."""
    found = {}
    for name, text in out.items():
        if name.startswith("execution-"):
            match = re.search(r"Node (\S+) \((\S+)\), node (\d+) of", text)
            found[int(match.group(3)) - 1] = match.group(2)
    addresses = [found[i] for i in sorted(found)]
    assert len(set(addresses)) == len(addresses) and all(a.startswith("127.") for a in addresses), addresses
    return addresses


def _run_of(emu, job):
    from batchai_compat.backends.azureml import translate

    runs = [r for ws in emu.state.workspaces.values() for r in ws.runs.values()
            if (r.properties or {}).get(translate.PROP_JOB) == job]
    assert len(runs) == 1, runs
    return runs[0]


def _check_spread(out, slots, addresses, node_count=2):
    preps = _prep_outputs(out)
    assert len(preps) == node_count, sorted(out)
    temps = set()
    for node_id, text in preps.items():
        lines = text.splitlines()
        # Each node's preparation ran in that node's process: its TMPDIR is the emulator's for that node.
        assert lines[0].startswith("prep ") and f"/nodes/{node_id}/tmp" in lines[0], (node_id, text)
        assert lines[1].startswith("temp ") and lines[1][5:].startswith(lines[0][5:]), (node_id, text)
        temps.add(lines[1].rsplit("/", 1)[-1])
        # The host file lists the allocation's addresses, one line per node.
        assert lines[2:] == [f"{a} slots={slots}" for a in addresses], text
    assert len(temps) == 1  # one job uid on every node
    assert sorted(n for n in out if n.startswith("execution-")) == sorted(f"execution-{i}.log" for i in preps)
    assert sorted(n for n in out if n.startswith("stderr-job_prep-")) == sorted(
        f"stderr-job_prep-{i}.txt" for i in preps)
    for node_id in preps:
        log = out[f"execution-{node_id}.log"]
        assert "process(es) on this node" in log, log


def _create(client, name, params, expect=()):
    """Create a job; the only BatchAICompatWarnings are those matching ``expect``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.jobs.create(RG, WS, EXP, name, params).result()
    messages = [str(w.message) for w in caught if issubclass(w.category, BatchAICompatWarning)]
    assert sorted(messages) == sorted(m for m in messages if any(e in m for e in expect)), messages
    assert len(messages) == len(expect), messages


@pytest.fixture
def setup(client):
    client.experiments.create(RG, WS, EXP).result()


def shared_cluster(client, emu, name, scripts):
    """A 2-node cluster with an Azure Files share mounted at $AZ_BATCHAI_MOUNT_ROOT/azfiles holding ``scripts``."""
    share = models.AzureFileShareReference(
        account_name="teststorage", azure_file_url="https://teststorage.file.core.windows.net/share",
        credentials=models.AzureStorageCredentialsInfo(account_key=KEY), relative_mount_path="azfiles")
    create_cluster(client, name, nodes=2, node_setup=models.NodeSetup(
        mount_volumes=models.MountVolumes(azure_file_shares=[share])))
    directory = os.path.join(emu.root, "datastores", emu.workspace(SUB, RG, WS).workspace_id,
                             "bai_share_teststorage_share")
    os.makedirs(directory, exist_ok=True)
    for script_name, text in scripts.items():
        with open(os.path.join(directory, script_name), "w") as fh:
            fh.write(text)
    return client.clusters.get(RG, WS, name)


def test_custom_mpi_job_spreads_over_two_nodes(client, emu, setup):
    create_cluster(client, "spread2", nodes=2)
    cluster = client.clusters.get(RG, WS, "spread2")
    command = ('echo rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE in $PWD temp $AZ_BATCHAI_JOB_TEMP '
               'var $MY_VAR secret $MY_SECRET')
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
                        job_preparation=models.JobPreparation(command_line=PREP),
                        environment_variables=[models.EnvironmentVariable(name="MY_VAR", value="plain")],
                        secrets=[models.EnvironmentVariableWithSecretValue(name="MY_SECRET", value="s3cr3t")],
                        custom_mpi_settings=models.CustomMpiSettings(process_count=4, command_line=command))
    _create(client, "mpispread", params)
    job = wait_job(client, "mpispread", timeout=120)
    out = contents(client, "mpispread")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    addresses = _addresses(out)
    _check_spread(out, slots=2, addresses=addresses)
    # Two ranks per node (by slot, in host-file order); each rank runs in its own node's job temp directory
    # (its node's AZ_BATCHAI_* travel with the rsh agent), with the job's variables and secrets (mpirun -x).
    temps = {node_id: text.splitlines()[1][5:] for node_id, text in _prep_outputs(out).items()}
    node_of = {temp: int(re.search(r"batchai-node(\d)-", temp).group(1)) for temp in temps.values()}
    lines = sorted(out["stdout.txt"].splitlines())
    assert len(lines) == 4, out["stdout.txt"]
    for rank, line in enumerate(lines):
        words = line.split()
        assert words[:4] == ["rank", str(rank), "of", "4"], line
        pwd, temp = words[5], words[7]
        assert pwd == temp and node_of[temp] == rank // 2, (rank, line, node_of)
        assert words[8:] == ["var", "plain", "secret", "s3cr3t"], line
    # Azure ML started one process per node, each running the launcher for its own node.
    started = [line for line in _started_processes(emu) if "batchai_compat._aml_node" in line]
    assert sorted(line.split()[3] for line in started) == ["node=0", "node=1"], started
    logs = {n: t for n, t in out.items() if n.startswith("execution-")}
    assert sum("mpirun (4 processes)" in t for t in logs.values()) == 1  # one mpirun, from node 0
    assert sum("(master)" in t for t in logs.values()) == 1
    assert "s3cr3t" not in "".join(logs.values())


def test_horovod_job_spreads_and_custom_job_runs_on_node_0(client, emu, setup):
    create_cluster(client, "spread3", nodes=2)
    cluster = client.clusters.get(RG, WS, "spread3")
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
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
    addresses = _addresses(out)
    _check_spread(out, slots=1, addresses=addresses)
    job = wait_job(client, "once", timeout=120)
    out = contents(client, "once")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    addresses = _addresses(out)
    assert out["stdout.txt"] == "once\n" + "".join(f"{a} slots=1\n" for a in addresses)
    _check_spread(out, slots=1, addresses=addresses)


def test_job_preparation_failing_on_the_second_node_fails_the_job(client, emu, setup):
    create_cluster(client, "spread4", nodes=2)
    cluster = client.clusters.get(RG, WS, "spread4")
    prep = 'case "$AZ_BATCHAI_JOB_TEMP" in */batchai-node1-*) sleep 1; echo bad node >&2; exit 5;; esac; echo fine'
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
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
    # Node 0 waited for node 1's preparation (1 s later) and started nothing: the barrier.
    assert "stdout.txt" not in out, out
    # Node 0's process carries the job's exit status; node 1's exits 0 after the verdict (a non-zero exit could
    # let the run's mpirun kill node 0 before it recorded the result).
    assert _run_of(emu, "prepfail").exit_codes == [5, 0]


def test_tensorflow_job_places_roles_on_the_nodes_addresses(client, emu, setup):
    cluster = shared_cluster(client, emu, "tfspread", {"tf.py": TF_SCRIPT})
    # 2 nodes, 2 ps, 3 workers (docs/service-behaviour.md §c.10): ps 0 on n0:2222, ps 1 on n1:2222;
    # workers n0:2223, n1:2223, n0:2224.
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
                        job_preparation=models.JobPreparation(command_line=PREP),
                        tensor_flow_settings=models.TensorFlowSettings(
                            python_script_file_path="$AZ_BATCHAI_MOUNT_ROOT/azfiles/tf.py", worker_count=3,
                            parameter_server_count=2, master_command_line_args="worker",
                            worker_command_line_args="worker", parameter_server_command_line_args="ps"))
    _create(client, "tfspread", params)
    job = wait_job(client, "tfspread", timeout=120)
    out = contents(client, "tfspread")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    a, b = _addresses(out)
    _check_spread(out, slots=1, addresses=[a, b])
    assert out["stdout-ps-0.txt"] == f"ps 0 on {a}:2222\n"
    assert out["stdout-ps-1.txt"] == f"ps 1 on {b}:2222\n"
    for index, where in enumerate((f"{a}:2223", f"{b}:2223", f"{a}:2224")):
        assert out[f"stdout-wk-{index}.txt"] == f"worker {index} on {where} got ps0 ps1\n", out
    # Checkpoints written on both machines are the job's outputs.
    outputs = contents(client, "tfspread", "OUTPUTS")
    assert outputs == {f"model-{i}.ckpt": f"worker {i}\n" for i in range(3)}
    logs = {n: t for n, t in out.items() if n.startswith("execution-")}
    assert sum("stopping parameter server" in t for t in logs.values()) == 2  # one per node, by node 0's word


def test_pytorch_gloo_ranks_meet_on_node_0_over_tcp(client, emu, setup):
    cluster = shared_cluster(client, emu, "ptspread", {"rdv.py": RENDEZVOUS_SCRIPT})
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
                        py_torch_settings=models.PyTorchSettings(
                            python_script_file_path="$AZ_BATCHAI_MOUNT_ROOT/azfiles/rdv.py", process_count=2,
                            communication_backend="gloo"))
    _create(client, "ptspread", params, expect=["tcp://"])
    job = wait_job(client, "ptspread", timeout=120)
    out = contents(client, "ptspread")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    a, _b = _addresses(out)
    assert out["stdout-1.txt"].startswith(f"rank 1 sent via tcp://{a}:"), out
    init = out["stdout-1.txt"].split(" via ")[1].strip()
    assert out["stdout-0.txt"] == f"rank 0 got hello from rank 1 via {init}\n"
    logs = [t for n, t in out.items() if n.startswith("execution-")]
    assert sorted(re.search(r"Toolkit: pytorch; (\d) process", t).group(1) for t in logs) == ["1", "1"]


def test_caffe2_multi_node_job_warns_about_the_shared_job_temp(client, emu, setup):
    create_cluster(client, "c2warn", nodes=2)
    cluster = client.clusters.get(RG, WS, "c2warn")
    params = job_params(cluster, node_count=2, custom_toolkit_settings=None,
                        caffe2_settings=models.Caffe2Settings(python_script_file_path="x.py"))
    with pytest.warns(BatchAICompatWarning, match="AZ_BATCHAI_SHARED_JOB_TEMP"):
        client.jobs.create(RG, WS, EXP, "c2warn", params).result()
    client.jobs.terminate(RG, WS, EXP, "c2warn").result()


def test_setup_task_failing_on_one_node_fails_the_job_before_it_starts(client, emu, setup):
    # The cluster's setup task fails on the node whose TMPDIR is the emulator's second node's.
    task = models.SetupTask(command_line='case "$TMPDIR" in *_0001_*) echo broken node >&2; exit 9;; esac; echo ok',
                            std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT", std_out_err_path_suffix="setup")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        create_cluster(client, "setupfail", nodes=2, node_setup=models.NodeSetup(setup_task=task))
    cluster = client.clusters.get(RG, WS, "setupfail")
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
                        job_preparation=models.JobPreparation(command_line="echo prep"),
                        horovod_settings=models.HorovodSettings(python_script_file_path="x.py", process_count=2))
    _create(client, "setupfail", params)
    job = wait_job(client, "setupfail", timeout=120)
    out = contents(client, "setupfail")
    assert job.execution_state == "failed"
    assert [e.code for e in job.execution_info.errors] == ["SetupTaskFailed"], out
    assert "exit code 9" in job.execution_info.errors[0].message
    # Node 0's setup task and preparation ran; node 1 stopped at its setup task; nothing started anywhere.
    assert sorted(t for n, t in out.items() if n.startswith("stdout-job_prep-")) == ["prep\n"], sorted(out)
    assert "stdout.txt" not in out
    logs = [t for n, t in out.items() if n.startswith("execution-")]
    assert sum("SetupTaskFailed on node" in t for t in logs) == 1  # node 0's verdict
    # Both nodes report the job's failure: node 1's own setup task message.
    assert all("The setup task failed on node" in t and "exit code 9" in t for t in logs) and len(logs) == 2


def test_terminating_a_spread_job_stops_every_node(client, emu, setup):
    cluster = shared_cluster(client, emu, "tfterm", {"tf.py": TF_SCRIPT})
    # Workers talk to both parameter servers (ps 0 on node 0, ps 1 on node 1), then stay busy.
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
                        tensor_flow_settings=models.TensorFlowSettings(
                            python_script_file_path="$AZ_BATCHAI_MOUNT_ROOT/azfiles/tf.py", worker_count=2,
                            parameter_server_count=2, master_command_line_args="worker 2>/dev/null; sleep 300",
                            worker_command_line_args="worker 2>/dev/null; sleep 300",
                            parameter_server_command_line_args="ps"))
    _create(client, "tfterm", params)
    run_root = os.path.join(emu.root, "runs").encode()

    def job_processes():  # processes of either emulated node carry their node's directories in TMPDIR
        found = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    if run_root in fh.read():
                        found.append(pid)
            except OSError:
                continue
        return found

    wait_for(lambda: all("got ps0 ps1" in contents(client, "tfterm").get(f"stdout-wk-{i}.txt", "") for i in (0, 1)),
             timeout=60, message="both workers to reach both parameter servers")
    assert len(job_processes()) >= 6  # 2 node sides + 2 launchers' children: workers, ps, shells
    client.jobs.terminate(RG, WS, EXP, "tfterm").result()
    job = client.jobs.get(RG, WS, EXP, "tfterm")
    assert job.execution_state == "failed" and [e.code for e in job.execution_info.errors] == ["JobTerminated"]
    assert job_processes() == []  # nothing of the job is left on either node
