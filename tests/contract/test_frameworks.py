"""Multi-node jobs: behaviours 28-29 (ssh between nodes) and the toolkit process layouts of §c
(custom MPI, Horovod and Chainer under a real ``mpirun``; TensorFlow ps/workers; PyTorch ranks with a
rendezvous through the shared job temp; Caffe2 one process per node). Behaviours and
sections: ``docs/service-behaviour.md``."""

from __future__ import annotations

import json
import re
import warnings

import pytest

import batchai_compat.models as models

from .helpers import RG, WS, job_parameters

PYTHON_SCRIPTS = {
    "report.py": (
        "import json, os, sys\n"
        "keys = ['AZ_BATCHAI_TASK_INDEX', 'AZ_BATCHAI_PS_HOSTS', 'AZ_BATCHAI_WORKER_HOSTS', 'TF_CONFIG',\n"
        "        'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'AZ_BATCHAI_PYTORCH_BACKEND']\n"
        "# one write per line: ranks share stdout.txt through mpirun, and print() writes the newline apart\n"
        "line = json.dumps({'args': sys.argv[1:], **{k: os.environ.get(k) for k in keys}}, sort_keys=True)\n"
        "sys.stdout.write(line + '\\n'); sys.stdout.flush()\n"
        "if '--ps' in sys.argv:\n"
        "    import time; time.sleep(600)  # parameter servers block; the job ends with the workers\n"
    ),
    "rendezvous.py": (
        "import os, socket, time\n"
        "rank = int(os.environ['AZ_BATCHAI_TASK_INDEX'])\n"
        "spot = os.environ['AZ_BATCHAI_PYTORCH_INIT_METHOD'][len('file://'):] + '.port'\n"
        "if rank == 0:\n"
        "    server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(1)\n"
        "    tmp = spot + '.tmp'; open(tmp, 'w').write(str(server.getsockname()[1])); os.rename(tmp, spot)\n"
        "    conn, _ = server.accept(); print('rank 0 got', conn.recv(100).decode())\n"
        "else:\n"
        "    while not os.path.exists(spot): time.sleep(0.01)\n"
        "    client = socket.create_connection(('127.0.0.1', int(open(spot).read())))\n"
        "    client.sendall(b'hello from rank %d' % rank); print('rank', rank, 'sent')\n"
    ),
}


@pytest.fixture
def scripts(ctx):
    """Scripts on the share, as the recipes kept them: ``$AZ_BATCHAI_MOUNT_ROOT/azfiles/scripts``."""
    folder = ctx.share_dir() / "scripts"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PYTHON_SCRIPTS.items():
        (folder / name).write_text(text)
    return "$AZ_BATCHAI_MOUNT_ROOT/azfiles/scripts"


@pytest.fixture
def two_nodes(ctx):
    cluster = ctx.create_cluster(target=2)
    logins = list(ctx.client.clusters.list_remote_login_information(RG, WS, "cluster"))
    return cluster, [n.ip_address for n in logins], [n.node_id for n in logins]


def _stdouterr_names(ctx, job):
    return sorted(item.name for item in ctx.list_files(job, "stdouterr"))


@pytest.mark.parametrize("image", [None, "ubuntu"], ids=["host", "container"])
def test_28_29_ssh_between_nodes(ctx, two_nodes, image):
    cluster, (ip0, ip1), node_ids = two_nodes
    command = f"ssh {ip0} echo done && ssh {ip1} echo done" if image is None else \
        f"ssh {ip1} echo done && ssh {ip1} echo done"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = ctx.run_job("job", job_parameters(cluster.id, command, node_count=2, image=image))
    assert job.execution_state == "succeeded", ctx.files("job", "stdouterr")
    files = ctx.files("job", "stdouterr")
    assert set(files) == {"stdout.txt", "stderr.txt"}
    assert files["stdout.txt"] == "done\ndone\n"
    assert re.search(r"Permanently added.*", files["stderr.txt"])
    logs = [n for n in _stdouterr_names(ctx, "job") if n.startswith("execution")]
    assert logs == sorted(f"execution-{node}.log" for node in node_ids)


@pytest.mark.mpi
def test_custom_mpi_under_mpirun(ctx, two_nodes):
    cluster, _, _ = two_nodes
    params = job_parameters(cluster.id, node_count=2, custom_mpi_settings=models.CustomMpiSettings(
        command_line="echo rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE", process_count=4))
    job = ctx.run_job("job", params)
    assert job.tool_type == "mpi" and job.custom_mpi_settings.process_count == 4
    assert job.execution_state == "succeeded", ctx.files("job", "stdouterr")
    files = ctx.files("job", "stdouterr")
    assert sorted(files["stdout.txt"].splitlines()) == [f"rank {r} of 4" for r in range(4)]


@pytest.mark.mpi
def test_custom_mpi_failure_is_the_job_exit_code(ctx, two_nodes):
    cluster, _, _ = two_nodes
    params = job_parameters(cluster.id, node_count=2, custom_mpi_settings=models.CustomMpiSettings(
        command_line="exit $((OMPI_COMM_WORLD_RANK == 1 ? 3 : 0))"))
    job = ctx.run_job("job", params)
    assert job.execution_state == "failed" and job.execution_info.exit_code == 3
    assert [e.code for e in job.execution_info.errors] == ["JobFailed"]


@pytest.mark.mpi
@pytest.mark.parametrize("toolkit", ["horovod", "chainer"])
def test_python_mpi_toolkits(ctx, two_nodes, scripts, toolkit):
    cluster, _, _ = two_nodes
    settings_class = {"horovod": models.HorovodSettings, "chainer": models.ChainerSettings}[toolkit]
    settings = settings_class(python_script_file_path=f"{scripts}/report.py", command_line_args="--epochs 1")
    job = ctx.run_job("job", job_parameters(cluster.id, node_count=2, **{f"{toolkit}_settings": settings}))
    assert job.tool_type == toolkit and job.execution_state == "succeeded", ctx.files("job", "stdouterr")
    lines = [json.loads(x) for x in ctx.files("job", "stdouterr")["stdout.txt"].splitlines()]
    assert sorted(x["OMPI_COMM_WORLD_RANK"] for x in lines) == ["0", "1"]
    assert all(x["args"] == ["--epochs", "1"] and x["OMPI_COMM_WORLD_SIZE"] == "2" for x in lines)


def test_tensorflow_distributed(ctx, two_nodes, scripts):
    cluster, (ip0, ip1), _ = two_nodes
    settings = models.TensorFlowSettings(
        python_script_file_path=f"{scripts}/report.py", master_command_line_args="--master",
        worker_command_line_args="--worker", parameter_server_command_line_args="--ps")
    job = ctx.run_job("job", job_parameters(cluster.id, node_count=2, tensor_flow_settings=settings))
    assert job.tool_type == "tensorflow"
    assert (job.tensor_flow_settings.worker_count, job.tensor_flow_settings.parameter_server_count) == (2, 1)
    assert job.execution_state == "succeeded", ctx.files("job", "stdouterr")
    files = ctx.files("job", "stdouterr")
    assert {"stdout-wk-0.txt", "stdout-wk-1.txt", "stdout-ps-0.txt"} <= set(files)
    workers = [json.loads(files[f"stdout-wk-{i}.txt"]) for i in range(2)]
    ps = json.loads(files["stdout-ps-0.txt"])
    assert ps["AZ_BATCHAI_PS_HOSTS"] == f"{ip0}:2222"
    assert ps["AZ_BATCHAI_WORKER_HOSTS"] == f"{ip0}:2223,{ip1}:2222"
    assert [w["AZ_BATCHAI_TASK_INDEX"] for w in workers] == ["0", "1"]
    assert workers[0]["args"] == ["--master"] and workers[1]["args"] == ["--worker"]
    config = json.loads(workers[1]["TF_CONFIG"])
    assert config["cluster"] == {"ps": [f"{ip0}:2222"], "worker": [f"{ip0}:2223", f"{ip1}:2222"]}
    assert config["task"] == {"type": "worker", "index": 1}


def test_tensorflow_single_process(ctx, scripts):
    cluster = ctx.create_cluster()
    settings = models.TensorFlowSettings(python_script_file_path=f"{scripts}/report.py",
                                         master_command_line_args="--only")
    job = ctx.run_job("job", job_parameters(cluster.id, tensor_flow_settings=settings))
    assert job.execution_state == "succeeded"
    files = ctx.files("job", "stdouterr")
    assert set(files) == {"stdout-wk-0.txt", "stderr-wk-0.txt"}
    assert json.loads(files["stdout-wk-0.txt"])["args"] == ["--only"]


def test_pytorch_ranks_rendezvous_through_the_shared_job_temp(ctx, two_nodes, scripts):
    cluster, _, _ = two_nodes
    settings = models.PyTorchSettings(python_script_file_path=f"{scripts}/rendezvous.py",
                                      communication_backend="gloo")
    job = ctx.run_job("job", job_parameters(cluster.id, node_count=2, py_torch_settings=settings))
    assert job.tool_type == "pytorch" and job.py_torch_settings.process_count == 2
    assert job.execution_state == "succeeded", ctx.files("job", "stdouterr")
    files = ctx.files("job", "stdouterr")
    assert files["stdout-0.txt"] == "rank 0 got hello from rank 1\n"
    assert files["stdout-1.txt"] == "rank 1 sent\n"


def test_caffe2_one_process_per_node(ctx, two_nodes, scripts):
    cluster, _, _ = two_nodes
    settings = models.Caffe2Settings(python_script_file_path=f"{scripts}/report.py",
                                     command_line_args="--shard_id $AZ_BATCHAI_TASK_INDEX")
    job = ctx.run_job("job", job_parameters(cluster.id, node_count=2, caffe2_settings=settings))
    assert job.execution_state == "succeeded", ctx.files("job", "stdouterr")
    files = ctx.files("job", "stdouterr")
    for i in range(2):
        assert json.loads(files[f"stdout-{i}.txt"])["args"] == ["--shard_id", str(i)]
