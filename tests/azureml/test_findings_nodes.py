"""Issue 12, findings 6, 7, 8, 12: what a job's nodes see and write.

* 6: ``AZ_BATCHAI_NUM_GPUS`` is the VM size's GPU count as Azure ML reports it
  (``AmlCompute.supported_vmsizes``), not a guess from the size's name; without it, the node counts its GPUs;
* 7: one node writes a given artifact name (Azure ML fails a run whose nodes upload the same name; the
  emulator fails it alike, see ``testing/amlemu/state.py``);
* 8: a multi-node run that does not list its nodes' addresses fails with a clear error instead of running
  every node's work on one machine;
* 12: ``AZ_BATCH_NODE_LIST`` holds addresses on Azure ML, not node ids; the remote login port is the public
  address's NAT port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import batchai_compat.models as models
from batchai_compat.backends.azureml import clusters, jobs, nodeside, source, translate
from batchai_compat.backends.base import JobRef

from .conftest import RG, SUB, WS
from .helpers import AML_MPI, EXP, contents, create_cluster, create_job, files, job_params, wait_job

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]


def _gpu_cluster(client, name, vm_size):
    params = models.ClusterCreateParameters(
        vm_size=vm_size, scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(
            target_node_count=1, node_deallocation_option="waitforjobcompletion")),
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser", admin_user_password="Pa$$w0rd-1"))
    return client.clusters.create(RG, WS, name, params).result()


def test_gpus_per_node_are_azure_ml_s_count_for_the_vm_size(client, emu):
    client.experiments.create(RG, WS, EXP).result()
    expected = {"a100": ("Standard_NC24ads_A100_v4", 1), "t4": ("Standard_NC64as_T4_v3", 4),
                "nd": ("Standard_ND96asr_v4", 8)}
    for name, (size, _gpus) in expected.items():
        cluster = _gpu_cluster(client, name, size)
        create_job(client, name, job_params(cluster, custom_toolkit_settings=models.CustomToolkitSettings(
            command_line="echo $AZ_BATCHAI_NUM_GPUS")))
    for name, (size, gpus) in expected.items():
        job = wait_job(client, name)
        assert job.execution_state == "succeeded", job.execution_info.errors
        assert contents(client, name)["stdout.txt"] == f"{gpus}\n", size


def test_without_azure_ml_s_count_the_node_counts_its_gpus(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "nvidia-smi"  # stands for the driver's tool on a GPU node (none on this machine)
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n[ \"$1\" = -L ] || exit 2\n"
                    "echo 'GPU 0: NVIDIA A100 80GB PCIe (UUID: GPU-1)'\n"
                    "echo 'GPU 1: NVIDIA A100 80GB PCIe (UUID: GPU-2)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ["PATH"])
    assert nodeside.gpus_on_this_node() == 2
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert nodeside.gpus_on_this_node() == 0


def test_empty_output_directories_of_a_multi_node_job_are_marked_once(client, emu):
    client.experiments.create(RG, WS, EXP).result()
    cluster = create_cluster(client, "two", nodes=2)
    # Every rank (one per node) makes the same empty directory: the marker that lists it is written once.
    script = "import os; os.makedirs(os.environ['AZ_BATCHAI_OUTPUT_OUTPUTS'] + '/empty', exist_ok=True)"
    path = "$AZ_BATCHAI_JOB_TEMP/../../mkdir.py"
    create_job(client, "quiet", job_params(
        cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,  # a Python 3 (conda's) in the image
        job_preparation=models.JobPreparation(command_line=f"echo \"{script}\" > {path}"),
        py_torch_settings=models.PyTorchSettings(python_script_file_path=path, process_count=2,
                                                 communication_backend="gloo")))
    job = wait_job(client, "quiet", timeout=120)
    assert job.execution_state == "succeeded", job.execution_info.errors
    assert files(client, "quiet", "OUTPUTS")["empty"].file_type == "directory"


def test_an_output_name_written_on_two_nodes_fails_the_job_as_on_azure_ml(client, emu):
    client.experiments.create(RG, WS, EXP).result()
    cluster = create_cluster(client, "two", nodes=2)
    script = "import os; open(os.environ['AZ_BATCHAI_OUTPUT_OUTPUTS'] + '/model.txt', 'w').write('weights')"
    path = "$AZ_BATCHAI_JOB_TEMP/../../save.py"
    create_job(client, "clash", job_params(
        cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,  # a Python 3 (conda's) in the image
        job_preparation=models.JobPreparation(command_line=f"echo \"{script}\" > {path}"),
        py_torch_settings=models.PyTorchSettings(python_script_file_path=path, process_count=2,
                                                 communication_backend="gloo")))
    job = wait_job(client, "clash", timeout=120)
    assert job.execution_state == "failed"
    (error,) = job.execution_info.errors
    assert "Resource Conflict" in error.message and "model.txt" in error.message, error.message


def _shipped_job(tmp_path, node_count):
    ref = JobRef(SUB, RG, WS, EXP, "job")
    raw = {"cluster": {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/"
                             f"{WS}/clusters/c"},
           "nodeCount": node_count, "stdOutErrPathPrefix": str(tmp_path / "std"),
           "customToolkitSettings": {"commandLine": "echo hi"},
           "containerSettings": {"imageSourceRegistry": {"image": "ubuntu"}}}
    props = translate.normalize_job(ref, raw, "uid")
    plan = jobs.plan(ref, props, {"vmSize": "STANDARD_D1_V2"}, "experiment_job_1234")
    return source.build(plan["aml_spec"], parent=str(tmp_path))


def test_a_multi_node_run_without_its_nodes_addresses_fails_clearly(tmp_path):
    directory = _shipped_job(tmp_path, node_count=2)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZ_BATCH", "OMPI_", "PMI_", "PMIX_")) and k not in ("TF_CONFIG", "RANK")}
    env.update(AZ_BATCH_HOST_LIST="10.0.0.4", AZUREML_RUN_ID="experiment_job_1234")  # one address for 2 nodes
    done = subprocess.run([sys.executable, "-m", "batchai_compat._aml_node", source.SPEC_PATH], cwd=directory,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0, done.stdout
    with open(os.path.join(directory, nodeside.RESULT_FILE), encoding="utf-8") as fh:
        result = json.load(fh)
    assert result["error_code"] == "LauncherError"
    assert "AZ_BATCH_HOST_LIST" in result["error_message"] and "2 nodes" in result["error_message"]
    assert not os.path.exists(os.path.join(directory, "logs", "batchai", "stdouterr", "stdout.txt"))  # nothing ran


def test_node_ids_are_never_the_addresses_of_az_batch_node_list():
    env = {"AZ_BATCH_NODE_LIST": "10.0.0.4;10.0.0.5", "AZ_BATCH_NODE_ID": "tvmps_0123abcd_d",
           "AZUREML_RUN_ID": "experiment_job_1234"}
    ids = nodeside.node_ids(2, env)
    assert len(set(ids)) == 2 and not {"10.0.0.4", "10.0.0.5"} & set(ids)
    assert nodeside.node_ids(2, env, 1)[1] == "tvmps_0123abcd_d"  # this node's own id
    assert nodeside.node_ids(2, {"AZ_BATCH_NODE_LIST": "n0;n1"}) == ["n0", "n1"]  # ids, when it holds ids


def test_remote_login_pairs_the_nat_port_with_the_public_address_only():
    nodes = [{"nodeId": "n0", "privateIpAddress": "10.0.0.4", "publicIpAddress": "20.1.2.3", "port": 50000},
             {"nodeId": "n1", "privateIpAddress": "10.0.0.5", "publicIpAddress": None, "port": 50001}]
    assert clusters.remote_login(nodes) == [{"nodeId": "n0", "ipAddress": "20.1.2.3", "port": 50000},
                                            {"nodeId": "n1", "ipAddress": "10.0.0.5", "port": 22}]


def test_listing_an_ended_job_s_outputs_sends_no_request_per_file(client, emu):
    client.experiments.create(RG, WS, EXP).result()
    cluster = create_cluster(client, "one", nodes=1)
    create_job(client, "many", job_params(cluster, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="for i in 1 22 333; do printf $i > $AZ_BATCHAI_OUTPUT_OUTPUTS/f$i.txt; done; echo done")))
    assert wait_job(client, "many").execution_state == "succeeded"
    before = len(emu.requests)
    listing = files(client, "many", "OUTPUTS")
    stdouterr = files(client, "many")
    sent = list(emu.requests[before:])
    assert [r.method for r in sent if r.method == "HEAD"] == [], [r.route for r in sent]
    assert {n: f.content_length for n, f in listing.items()} == {"f1.txt": 1, "f22.txt": 2, "f333.txt": 3}
    assert all(f.last_modified is not None for f in listing.values())
    assert stdouterr["stdout.txt"].content_length == 5 and stdouterr["stdout.txt"].last_modified is not None
