"""Jobs run in environments standing for their images (``AzureMLEmulator(image_environments=True)``,
``batchai_compat/testing/amlemu/images.py``): Batch AI-era images without a usable Python, MPI or ssh.

Issue 12, findings 1 (Python in the image), 3 (MPI for non-MPI toolkits) and 9 (the default image has no
azureml-core) and the 2-node TensorFlow / PyTorch / CNTK acceptance jobs (the seed sample's flow is
``test_seed_replay.py``: the whole suite runs in image environments, that job under the TF 1.8 image's Python
2.7). User commands use what the catalogue image provides: Python 2.7 in tensorflow/tensorflow:1.8.0-gpu, the shell
elsewhere (the Pythons 3.5 / 3.6 of the PyTorch and CNTK images are not provided), mpirun in the CNTK image.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import batchai_compat.models as models
from batchai_compat.exceptions import BatchAICompatNotSupportedError

from .conftest import RG, SUB, WS
from .helpers import EXP, contents, create_cluster, create_job, wait_job

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TF18 = "tensorflow/tensorflow:1.8.0-gpu"
PYTORCH04 = "pytorch/pytorch:0.4_cuda9_cudnn7"
CNTK = "microsoft/cntk:2.5.1-gpu-python3.5-cuda9.0-cudnn7.0"


@pytest.fixture(scope="session")
def image_rootfs():
    """The catalogue's root file systems (built once by the Makefile's script, reused from .tools/)."""
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "build_image_rootfs.sh"),
                    os.path.join(ROOT, ".tools", "rootfs")], check=True, cwd=ROOT)
    return os.path.join(ROOT, ".tools", "rootfs")


@pytest.fixture
def img_emu(leak_proxy, tmp_path, image_rootfs):
    from batchai_compat.testing import AzureMLEmulator

    emulator = AzureMLEmulator(workspaces=[(SUB, RG, WS, "northeurope")], root=str(tmp_path / "emu"),
                               scale_down_after=0.5, image_environments=True)
    with emulator:
        yield emulator
    assert emulator.unrouted == [], f"unrouted requests: {emulator.unrouted}"
    assert emulator.errors == [], f"emulator errors: {emulator.errors}"
    assert leak_proxy.seen == [], f"requests left 127.0.0.1: {leak_proxy.seen}"


@pytest.fixture
def img_client(img_emu):
    from batchai_compat import BatchAIManagementClient

    c = BatchAIManagementClient(object(), SUB, backend="azureml", auth=img_emu.auth())
    c.experiments.create(RG, WS, EXP).result()
    yield c
    c.close()


def _container(image):
    return models.ContainerSettings(image_source_registry=models.ImageSourceRegistry(image=image))


def _params(cluster, image, node_count=1, **toolkit):
    toolkit.setdefault("custom_toolkit_settings", None)
    return models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=node_count,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        container_settings=_container(image) if image else None, **toolkit)


def _succeeded(client, name, timeout=90.0):
    job = wait_job(client, name, timeout=timeout)
    out = contents(client, name)
    assert job.execution_state == "succeeded", (job.execution_info and job.execution_info.errors, out)
    return out


# -- finding 1: Python in the image -------------------------------------------------------------------------
def test_job_runs_on_an_image_without_python3(img_client):
    """tensorflow/tensorflow:1.8.0-gpu has Python 2.7 only: the node side runs under the Python the
    environment copies in, and the job's own command still sees the image (no python3 on its PATH)."""
    cluster = create_cluster(img_client, "c1", nodes=1)
    create_job(img_client, "py27", _params(cluster, TF18, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="if command -v python3 >/dev/null; then echo HAS-PYTHON3; else echo NO-PYTHON3; fi; "
                     "python --version 2>&1; echo PATH=$PATH")))
    out = _succeeded(img_client, "py27")
    assert "NO-PYTHON3" in out["stdout.txt"] and "Python 2.7" in out["stdout.txt"], out
    assert "/opt/batchai_compat" not in out["stdout.txt"]      # the node side's Python is not the job's


def test_the_image_s_python_variables_do_not_reach_the_node_side(img_client):
    """A Python 2.7 image's PYTHONPATH (its site-packages, with py2-only backports) and PYTHONHOME stay the
    job's: the node side's interpreter ignores them, the job's processes still see them."""
    cluster = create_cluster(img_client, "c1", nodes=1)
    create_job(img_client, "pyenv", _params(
        cluster, TF18, environment_variables=[
            models.EnvironmentVariable(name="PYTHONPATH", value="/usr/lib/python2.7"),
            models.EnvironmentVariable(name="PYTHONHOME", value="/usr")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line='echo "PP=$PYTHONPATH PH=$PYTHONHOME"; python -c "import os; print(os.sep)"')))
    out = _succeeded(img_client, "pyenv")
    assert "PP=/usr/lib/python2.7 PH=/usr" in out["stdout.txt"], out


@pytest.mark.parametrize("image", ["alpine:3.8", "python:3.7-alpine", "mcr.microsoft.com/windows/servercore:ltsc2019"])
def test_images_that_cannot_work_are_refused_at_create(img_client, img_emu, image):
    cluster = create_cluster(img_client, "c1", nodes=1)
    with pytest.raises(BatchAICompatNotSupportedError) as info:
        img_client.jobs.create(RG, WS, EXP, "refused", _params(
            cluster, image, custom_toolkit_settings=models.CustomToolkitSettings(command_line="true"))).result()
    assert "glibc" in str(info.value) or "Linux" in str(info.value)
    assert img_emu.submissions == []                                # nothing was started


def test_no_host_interpreter_leaks_into_a_node(img_client):
    """In the Azure ML base image (the default) the image's python3 is the catalogue's prefix: neither the
    host's site-packages nor batchai_compat's client stack (only the snapshot's node side) is importable."""
    host_site = [p for p in sys.path if p.endswith("site-packages")][0]
    cluster = create_cluster(img_client, "c1", nodes=1)
    command = ("python3 -c 'import sys; print(\"PREFIX=\" + sys.prefix)'; "
               "python3 -c 'import batchai_compat.backends' 2>/dev/null && echo LEAK-BACKENDS; "
               "python3 -c 'import azureml' 2>/dev/null && echo LEAK-AZUREML; "
               f"test -e {host_site} && echo LEAK-SITE; test -e {sys.executable} && echo LEAK-EXE; echo DONE")
    create_job(img_client, "leak", _params(cluster, None, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line=command)))
    out = _succeeded(img_client, "leak")["stdout.txt"]
    assert "DONE" in out and "PREFIX=/opt/miniconda" in out, out
    assert "LEAK" not in out, out


def test_job_gets_no_pythonpath_the_client_never_had(img_client, monkeypatch):
    """The contract test of the same name (tests/contract/test_job_environment.py) runs the client's own
    interpreter in the job, which a job's image does not have: here the default image's python (conda's, on the
    image's PATH) prints the job's environment. The node side's interpreter runs with ``-E -s``: no PYTHONPATH
    of its own reaches the job."""
    import json

    monkeypatch.delenv("PYTHONPATH", raising=False)
    cluster = create_cluster(img_client, "c1", nodes=1)
    create_job(img_client, "env", _params(cluster, None, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="python -c 'import json, os; print(json.dumps(dict(os.environ)))'")))
    job_env = json.loads(_succeeded(img_client, "env")["stdout.txt"])
    assert "PYTHONPATH" not in job_env, job_env["PYTHONPATH"]
    assert job_env["AZ_BATCHAI_JOB_TEMP"]                         # the job's environment, not an empty one


# -- finding 9: the default image has no azureml-core ----------------------------------------------------------
def test_secrets_on_the_default_image(img_client):
    cluster = create_cluster(img_client, "c1", nodes=1)
    create_job(img_client, "secret", _params(
        cluster, None, secrets=[models.EnvironmentVariableWithSecretValue(name="TOKEN", value="s3cr3t-v4lue")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line='test "$TOKEN" = s3cr3t-v4lue && echo SECRET-OK')))
    out = _succeeded(img_client, "secret")
    assert "SECRET-OK" in out["stdout.txt"], out
    assert "s3cr3t-v4lue" not in "".join(out.values())


# -- finding 3 and the acceptance jobs: 2 nodes, Batch AI-era images ---------------------------------------------
def _configuration(emu, index=-1):
    definition = emu.submissions[index]["definition"]
    return definition.get("Configuration") or definition.get("configuration")


def test_tensorflow_ps_worker_on_tensorflow_1_8_two_nodes(img_client, img_emu):
    """The seed's layout (1 ps, 2 workers on 2 nodes) on tensorflow/tensorflow:1.8.0-gpu, which has neither
    MPI nor ssh: submitted with a TensorFlow (TF_CONFIG) distribution, not MPI."""
    cluster = create_cluster(img_client, "c2", nodes=2)
    role = "'echo ROLE={} task=$AZ_BATCHAI_TASK_INDEX ps=$AZ_BATCHAI_PS_HOSTS workers=$AZ_BATCHAI_WORKER_HOSTS'"
    create_job(img_client, "tf", _params(cluster, TF18, node_count=2, tensor_flow_settings=models.TensorFlowSettings(
        parameter_server_count=1, worker_count=2, python_interpreter_path="/bin/sh", python_script_file_path="-c",
        master_command_line_args=role.format("worker"), worker_command_line_args=role.format("worker"),
        parameter_server_command_line_args="'echo ROLE=ps; sleep 60'")))
    out = _succeeded(img_client, "tf", timeout=120)
    assert "ROLE=worker task=0" in out["stdout-wk-0.txt"] and "ROLE=worker task=1" in out["stdout-wk-1.txt"], out
    assert "ROLE=ps" in out["stdout-ps-0.txt"]
    hosts = out["stdout-wk-0.txt"].split("workers=")[1].split()[0].split(",")
    assert len({h.rsplit(":", 1)[0] for h in hosts}) == 2, hosts     # one worker on each node's address
    assert len([n for n in out if n.startswith("execution-")]) == 2
    config = _configuration(img_emu)
    assert config["communicator"] == "ParameterServer" and config["nodeCount"] == 2
    assert config["tensorflow"]["workerCount"] == 2 and config["tensorflow"]["parameterServerCount"] == 0


def test_pytorch_on_pytorch_0_4_two_nodes(img_client, img_emu):
    cluster = create_cluster(img_client, "c2", nodes=2)
    command = "'echo RANK=$AZ_BATCHAI_TASK_INDEX INIT=$AZ_BATCHAI_PYTORCH_INIT_METHOD WORLD=$AZ_BATCHAI_WORLD_SIZE'"
    create_job(img_client, "pt", _params(cluster, PYTORCH04, node_count=2, py_torch_settings=models.PyTorchSettings(
        python_interpreter_path="/bin/sh", python_script_file_path="-c", command_line_args=command,
        communication_backend="gloo")))
    out = _succeeded(img_client, "pt", timeout=120)
    text = "".join(v for k, v in out.items() if k.startswith("stdout"))
    assert "INIT=tcp://" in text and text.count("RANK=") == 2, out
    assert _configuration(img_emu)["communicator"] == "ParameterServer"     # no MPI in the image


def test_cntk_under_mpi_on_the_cntk_image_two_nodes(img_client, img_emu):
    """CNTK's Batch AI layout is mpirun over the job's nodes: the CNTK image brings Open MPI and ssh."""
    cluster = create_cluster(img_client, "c2", nodes=2)
    create_job(img_client, "cntk", _params(cluster, CNTK, node_count=2, cntk_settings=models.CNTKsettings(
        language_type="Python", python_interpreter_path="/bin/sh", python_script_file_path="-c",
        command_line_args="'echo MPI-RANK=$OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE "
                          "on $AZ_BATCH_NODE_ID'")))
    out = _succeeded(img_client, "cntk", timeout=120)
    assert out["stdout.txt"].count("MPI-RANK=") == 2 and "of 2" in out["stdout.txt"], out
    assert _configuration(img_emu)["communicator"] == "IntelMpi"            # MPI toolkits keep MPI


def test_mpi_run_on_an_image_without_mpi_fails_like_azure_ml(img_client):
    """The witness for finding 3: an MPI toolkit on an image without MPI fails (Azure ML starts MPI runs
    with the image's mpirun), so a non-MPI toolkit submitted with MPI would fail the same way."""
    cluster = create_cluster(img_client, "c2", nodes=2)
    create_job(img_client, "nompi", _params(cluster, TF18, node_count=2, custom_mpi_settings=models.CustomMpiSettings(
        command_line="echo hi", process_count=2)))
    job = wait_job(img_client, "nompi", timeout=90)
    assert job.execution_state == "failed"


# -- the real-Azure check, against the emulator so that it cannot rot -------------------------------------------
def test_azure_smoke_passes_against_the_emulator(img_emu):
    import io

    from batchai_compat.testing import azure_smoke

    out = io.StringIO()
    status = azure_smoke.main(["--subscription", SUB, "--resource-group", RG, "--workspace", WS, "--timeout", "120"],
                              out=out, auth=img_emu.auth())
    text = out.getvalue()
    assert status == 0 and text.rstrip().endswith("verdict: PASS"), text
    for step in ("one-node job on tensorflow/tensorflow:1.8.0-gpu", "two-node TensorFlow ps/worker job",
                 "two-node custom MPI job", "cleanup"):
        assert step in text, text
    assert "FAILED" not in text and "Python 2.7" in text, text
    assert img_emu.workspace(SUB, RG, WS).computes == {}                 # the cluster is gone


def test_every_emulator_the_suite_starts_runs_in_image_environments(tmp_path, emu):
    """conftest.py turns image environments on for the session and in the ``emu`` fixture: emulators
    constructed directly in these tests run in images too."""
    from batchai_compat.testing import AzureMLEmulator

    assert emu.image_environments is True
    assert AzureMLEmulator(root=str(tmp_path / "direct")).image_environments is True
