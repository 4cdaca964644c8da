# ruff: noqa: UP030, UP031, UP032  -- the seed document's code is kept verbatim
"""The seed document's Batch AI flow (batchai-retirement-and-migration.md: workspace, 2-node NC6 cluster,
experiment, distributed TensorFlow job with input/output directories and Azure Files + blob mounts, wait,
list_output_files, cluster delete), unchanged but for the import, against the Azure ML emulator — and what
azureml-core was asked to do."""

from __future__ import annotations

import json
import os
import textwrap
import warnings
from datetime import datetime

import pytest
import requests

import batchai_compat.models as models

from .conftest import RG, SUB, WS
from .helpers import wait_for

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]

ACCOUNT, KEY, SHARE, CONTAINER = "seedstorage", "c2VlZC1rZXk=", "afsshare", "bfscontainer"
# The stand-in for the sample's mnist_replica.py runs under the job image's python: Python 2.7 in
# tensorflow/tensorflow:1.8.0-gpu (image environments, batchai_compat/testing/amlemu/images.py), as the real one
# did on Batch AI; so print_function and no makedirs(exist_ok=).
MNIST_REPLICA = textwrap.dedent('''
    from __future__ import print_function
    import os, sys, time
    args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
    role, index = args["job_name"], args["task_index"]
    data = open(os.path.join(args["data_dir"], "train-images.idx3-ubyte")).read().strip()
    print("role", role, "task", index, "ps", args["ps_hosts"], "workers", args["worker_hosts"], "data", data)
    if role == "ps":
        time.sleep(120)  # parameter servers never end on their own; Batch AI stops them
    else:
        os.path.isdir(args["checkpoint_dir"]) or os.makedirs(args["checkpoint_dir"])
        with open(os.path.join(args["checkpoint_dir"], "model-%s.ckpt" % index), "w") as fh:
            fh.write("weights of worker %s\\n" % index)
''')


def store_dir(emu, name):
    path = os.path.join(emu.root, "datastores", emu.workspace(SUB, RG, WS).workspace_id, name)
    os.makedirs(path, exist_ok=True)
    return path


def test_seed_tensorflow_flow(client, emu):
    # The data the notebook had uploaded with BlockBlobService / FileService beforehand.
    blob = store_dir(emu, "bai_blob_%s_%s" % (ACCOUNT, CONTAINER))
    os.makedirs(os.path.join(blob, "tensorflow_samples"))
    os.makedirs(os.path.join(blob, "mnist_dataset"))
    with open(os.path.join(blob, "tensorflow_samples", "mnist_replica.py"), "w") as fh:
        fh.write(MNIST_REPLICA)
    with open(os.path.join(blob, "mnist_dataset", "train-images.idx3-ubyte"), "w") as fh:
        fh.write("pixels\n")

    # --- the seed's Batch AI code -------------------------------------------------------------
    _ = client.workspaces.create(RG, WS, "northeurope").result()
    nodes_count = 2
    cluster_name = "nc6"
    parameters = models.ClusterCreateParameters(
        vm_size="STANDARD_NC6",
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=nodes_count)),
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser",
                                                         admin_user_password="Seed-Pa$$w0rd",
                                                         admin_user_ssh_public_key=None))
    with warnings.catch_warnings(record=True) as cluster_warnings:
        warnings.simplefilter("always")
        _ = client.clusters.create(RG, WS, cluster_name, parameters).result()
    cluster = client.clusters.get(RG, WS, cluster_name)
    assert cluster.scale_settings.manual.target_node_count == 2 and cluster.vm_size == "STANDARD_NC6"

    experiment_name = "tensorflow_experiment"
    experiment = client.experiments.create(RG, WS, experiment_name).result()
    azure_file_share, azure_blob = "afs", "bfs"
    script_directory, mnist_dataset_directory, script_to_deploy = "tensorflow_samples", "mnist_dataset", \
        "mnist_replica.py"
    args_fmt = ("--job_name={0} --num_gpus=1 --train_steps 10000 --checkpoint_dir=$AZ_BATCHAI_OUTPUT_MODEL "
                "--log_dir=$AZ_BATCHAI_OUTPUT_TENSORBOARD --data_dir=$AZ_BATCHAI_INPUT_DATASET "
                "--ps_hosts=$AZ_BATCHAI_PS_HOSTS --worker_hosts=$AZ_BATCHAI_WORKER_HOSTS "
                "--task_index=$AZ_BATCHAI_TASK_INDEX")
    parameters = models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id),
        node_count=2,
        input_directories=[
            models.InputDirectory(id="SCRIPT", path="$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}/{1}".format(
                azure_blob, script_directory)),
            models.InputDirectory(id="DATASET", path="$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}/{1}".format(
                azure_blob, mnist_dataset_directory))],
        std_out_err_path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}".format(azure_file_share),
        output_directories=[
            models.OutputDirectory(id="MODEL", path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}".format(
                azure_file_share), path_suffix="Models"),
            models.OutputDirectory(id="TENSORBOARD", path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}".format(
                azure_file_share), path_suffix="Logs")],
        mount_volumes=models.MountVolumes(
            azure_file_shares=[models.AzureFileShareReference(
                account_name=ACCOUNT, credentials=models.AzureStorageCredentialsInfo(account_key=KEY),
                azure_file_url="https://{0}.file.core.windows.net/{1}".format(ACCOUNT, SHARE),
                relative_mount_path=azure_file_share)],
            azure_blob_file_systems=[models.AzureBlobFileSystemReference(
                account_name=ACCOUNT, credentials=models.AzureStorageCredentialsInfo(account_key=KEY),
                container_name=CONTAINER, relative_mount_path=azure_blob)]),
        container_settings=models.ContainerSettings(
            image_source_registry=models.ImageSourceRegistry(image="tensorflow/tensorflow:1.8.0-gpu")),
        tensor_flow_settings=models.TensorFlowSettings(
            parameter_server_count=1,
            worker_count=nodes_count,
            python_script_file_path="$AZ_BATCHAI_INPUT_SCRIPT/" + script_to_deploy,
            master_command_line_args=args_fmt.format("worker"),
            worker_command_line_args=args_fmt.format("worker"),
            parameter_server_command_line_args=args_fmt.format("ps")))
    job_name = datetime.utcnow().strftime("tf_%m_%d_%Y_%H%M%S")
    with warnings.catch_warnings(record=True) as job_warnings:
        warnings.simplefilter("always")
        job = client.jobs.create(RG, WS, experiment_name, job_name, parameters).result()
    # utils.job.wait_for_job_completion: poll the job and stdout-wk-0.txt
    job = wait_for(lambda: (lambda j: j if j.execution_state in ("succeeded", "failed") else None)(
        client.jobs.get(RG, WS, experiment_name, job_name)), timeout=120)
    files = client.jobs.list_output_files(RG, WS, experiment_name, job_name,
                                          models.JobsListOutputFilesOptions(outputdirectoryid="stdouterr"))
    listing = {f.name: f.download_url for f in list(files)}
    _ = client.clusters.delete(RG, WS, cluster_name)

    # --- what happened -------------------------------------------------------------------------
    assert experiment.name == experiment_name
    stdout = {name: requests.get(url, timeout=10).text for name, url in listing.items() if url}
    assert job.execution_state == "succeeded", (job.execution_info.errors, stdout)
    assert {"stdout-wk-0.txt", "stdout-wk-1.txt", "stdout-ps-0.txt", "stderr-wk-0.txt"} <= set(listing)
    assert len([n for n in listing if n.startswith("execution-")]) == 2  # one per node
    # The roles ran on the nodes Batch AI put them on (docs/service-behaviour.md §c.10), at the Azure ML
    # nodes' addresses: ps 0 and worker 0 on node 0, worker 1 on node 1.
    node0 = stdout["stdout-wk-0.txt"].split(" ps ")[1].split(":")[0]
    hosts = "ps {0}:2222 workers {0}:2223,".format(node0)
    assert stdout["stdout-wk-0.txt"].startswith("role worker task 0 " + hosts), stdout["stdout-wk-0.txt"]
    node1 = stdout["stdout-wk-0.txt"].split(hosts)[1].split()[0].split(":")[0]
    assert node1 != node0 and node0.startswith("127.") and node1.startswith("127.")
    assert stdout["stdout-wk-1.txt"].startswith("role worker task 1 " + hosts + node1 + ":2222 ")
    assert stdout["stdout-ps-0.txt"].startswith("role ps task 0 ")
    assert stdout["stdout-wk-0.txt"].rstrip().endswith("data pixels")
    models_dir = {f.name: f for f in client.jobs.list_output_files(
        RG, WS, experiment_name, job_name, models.JobsListOutputFilesOptions(outputdirectoryid="MODEL"))}
    assert sorted(models_dir) == ["model-0.ckpt", "model-1.ckpt"]
    assert requests.get(models_dir["model-1.ckpt"].download_url, timeout=10).text == "weights of worker 1\n"

    # azureml-core was asked for: an NC6 AmlCompute pinned at 2 nodes with SSH ...
    put = emu.provisioning_requests[0]["body"]["properties"]["properties"]
    assert put["vmSize"] == "STANDARD_NC6" and put["vmPriority"] == "dedicated"
    assert (put["scaleSettings"]["minNodeCount"], put["scaleSettings"]["maxNodeCount"]) == (2, 2)
    assert put["userAccountCredentials"]["adminUserName"] == "demoUser"
    assert put["remoteLoginPortPublicAccess"] == "Enabled"
    assert [str(w.message) for w in cluster_warnings if "nodeDeallocationOption" in str(w.message)]
    # ... and a run on 2 nodes, one process per node, in the job's image, with both storages mounted.
    definition = emu.submissions[-1]["definition"]
    config = definition["Configuration"]
    assert config["target"] == "nc6" and config["nodeCount"] == 2
    # One process per node with TF_CONFIG (the image has neither MPI nor ssh), in the job's image plus the
    # node side's own Python (the image has Python 2.7 only): issue 12, findings 3 and 1.
    assert config["communicator"] == "ParameterServer" and config["tensorflow"]["workerCount"] == 2
    assert "\nFROM tensorflow/tensorflow:1.8.0-gpu\n" in config["environment"]["docker"]["baseDockerfile"]
    assert config["environment"]["python"]["userManagedDependencies"] is True
    assert config["environment"]["python"]["interpreterPath"] == "/opt/batchai_compat/python/bin/python3"
    assert config["environmentVariables"] == {}
    from batchai_compat.backends.azureml import source

    assert config["command"] == source.COMMAND
    assert {r["dataStoreName"] for r in config["dataReferences"].values()} == {
        "bai_share_%s_%s" % (ACCOUNT, SHARE), "bai_blob_%s_%s" % (ACCOUNT, CONTAINER)}
    assert config["maxRunDurationSeconds"] == 7 * 24 * 3600
    assert KEY not in json.dumps(definition) and "Seed-Pa$$w0rd" not in json.dumps(definition)
    assert "batchai_compat/launcher/runner.py" in emu.submissions[-1]["zip_names"]
    from batchai_compat.exceptions import BatchAICompatWarning

    messages = [str(w.message) for w in job_warnings if issubclass(w.category, BatchAICompatWarning)]
    assert messages == []  # nothing in this job degrades on Azure ML
