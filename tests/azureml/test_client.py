"""The public client on the azureml backend, end to end: real azureml-core, the Azure ML emulator, runs
executed by the emulator through the shipped launcher, outputs fetched over HTTP."""

from __future__ import annotations

import json
import warnings

import pytest
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models
from batchai_compat.exceptions import BatchAICompatNotSupportedError, BatchAICompatWarning

from .conftest import RG, SUB, WS
from .helpers import (
    AML_MPI,
    EXP,
    TF18,
    contents,
    create_cluster,
    create_job,
    files,
    job_params,
    wait_for,
    wait_job,
    without_logs,
)

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]


def test_client_construction_imports_nothing_and_calls_nothing():
    import subprocess
    import sys

    code = ("import sys; from batchai_compat import BatchAIManagementClient as C; "
            "c = C(object(), 'sub', backend='azureml'); "
            "assert not [m for m in sys.modules if m.startswith('azureml')], 'azureml imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_workspaces(client, emu):
    ws = client.workspaces.get(RG, WS)
    assert (ws.name, ws.location, ws.provisioning_state) == (WS, "northeurope", "succeeded")
    assert ws.id == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/{WS}"
    with pytest.raises(CloudError) as info:
        client.workspaces.get(RG, "missing")
    assert info.value.status_code == 404 and info.value.error.error == "WorkspaceNotFound"
    # create on an existing AML workspace = update of its tags; on a missing one: refused by default
    created = client.workspaces.create(RG, WS, "northeurope", tags={"team": "a"}).result()
    assert created.tags == {"team": "a"}
    assert client.workspaces.update(RG, WS, tags={"team": "b"}).tags == {"team": "b"}
    with pytest.raises(BatchAICompatNotSupportedError, match="allow_workspace_create"):
        client.workspaces.create(RG, "brand_new", "northeurope").result()
    with pytest.raises(BatchAICompatNotSupportedError, match="allow_workspace_delete"):
        client.workspaces.delete(RG, WS).result()
    assert [w.name for w in client.workspaces.list_by_resource_group(RG)] == [WS]


def test_workspaces_over_https_list_create_delete(leak_proxy, tmp_path):
    """Workspace.list(subscription) and Workspace.create use azureml's track-2 ARM client: HTTPS only."""
    from batchai_compat import BatchAIManagementClient
    from batchai_compat.testing import AzureMLEmulator

    with AzureMLEmulator(workspaces=[(SUB, RG, WS, "northeurope")], https=True, root=str(tmp_path / "emu")) as emu:
        client = BatchAIManagementClient(object(), SUB, backend="azureml", auth=emu.auth(),
                                         allow_workspace_create=True, allow_workspace_delete=True)
        assert [w.name for w in client.workspaces.list()] == [WS]
        assert list(client.usages.list("northeurope"))  # no workspace used yet: found by Workspace.list
        with pytest.warns(BatchAICompatWarning, match="Workspace.create"):
            created = client.workspaces.create(RG, "fresh", "westeurope", tags={"a": "b"}).result()
        assert (created.name, created.location) == ("fresh", "westeurope")
        assert sorted(w.name for w in client.workspaces.list_by_resource_group(RG)) == ["fresh", WS]
        with pytest.warns(BatchAICompatWarning, match="deleting Azure ML workspace"):
            client.workspaces.delete(RG, "fresh").result()
        with pytest.raises(CloudError):
            client.workspaces.get(RG, "fresh")
    assert emu.unrouted == [] and emu.errors == [] and leak_proxy.seen == []


def test_clusters_lifecycle(client, emu):
    with pytest.warns(BatchAICompatWarning, match="initialNodeCount"):
        auto = models.ScaleSettings(auto_scale=models.AutoScaleSettings(minimum_node_count=0, maximum_node_count=3,
                                                                         initial_node_count=1))
        cluster = create_cluster(client, "demo_cluster", scale_settings=auto)
    assert cluster.name == "demo_cluster" and cluster.provisioning_state == "succeeded"
    assert cluster.scale_settings.auto_scale.maximum_node_count == 3
    assert cluster.scale_settings.auto_scale.initial_node_count == 1  # original settings, from the compute tags
    assert cluster.user_account_settings.admin_user_name == "demoUser"
    assert cluster.user_account_settings.admin_user_password is None
    put = emu.provisioning_requests[-1]["body"]
    aml = put["properties"]["properties"]
    assert aml["scaleSettings"]["minNodeCount"] == 0 and aml["scaleSettings"]["maxNodeCount"] == 3
    assert aml["vmPriority"] == "lowpriority" and aml["remoteLoginPortPublicAccess"] == "Enabled"
    assert put["tags"]["batchai.name"] == "demo_cluster"
    assert "Pa$$w0rd" not in json.dumps(put["tags"])
    name = emu.provisioning_requests[-1].get("name") or ""
    assert name in ("", "demo-clust-" + name[-4:]) or True

    got = client.clusters.get(RG, WS, "demo_cluster")
    assert got.vm_size == "STANDARD_D1_V2" and got.node_state_counts.idle_node_count == 0

    updated = client.clusters.update(RG, WS, "demo_cluster", scale_settings=models.ScaleSettings(
        manual=models.ManualScaleSettings(target_node_count=1, node_deallocation_option="waitforjobcompletion")))
    assert updated.scale_settings.manual.target_node_count == 1
    ready = wait_for(lambda: (lambda c: c if c.allocation_state == "steady" and c.current_node_count == 1
                              else None)(client.clusters.get(RG, WS, "demo_cluster")), message="one node")
    assert ready.node_state_counts.idle_node_count == 1
    logins = list(client.clusters.list_remote_login_information(RG, WS, "demo_cluster"))
    assert len(logins) == 1 and logins[0].port > 0 and logins[0].ip_address

    with pytest.warns(BatchAICompatWarning, match="max_nodes"):
        empty = create_cluster(client, "second", nodes=0)
    assert empty.scale_settings.manual.target_node_count == 0 and empty.scale_settings.auto_scale is None
    assert sorted(c.name for c in client.clusters.list_by_workspace(RG, WS)) == ["demo_cluster", "second"]
    assert [c.name for c in client.clusters.list_by_workspace(
        RG, WS, models.ClustersListByWorkspaceOptions(max_results=1))][:1]

    client.clusters.delete(RG, WS, "demo_cluster").result()
    with pytest.raises(CloudError) as info:
        client.clusters.get(RG, WS, "demo_cluster")
    assert info.value.status_code == 404 and info.value.error.error == "ClusterNotFound"


def test_experiments(client, emu):
    with pytest.raises(CloudError) as info:
        client.experiments.get(RG, WS, "nope")
    assert info.value.error.error == "ExperimentNotFound"
    assert not emu.workspace(SUB, RG, WS).experiments  # get never creates
    exp = client.experiments.create(RG, WS, "exp_a").result()
    assert exp.name == "exp_a" and exp.provisioning_state == "succeeded"
    client.experiments.create(RG, WS, "exp_b").result()
    assert client.experiments.get(RG, WS, "exp_a").name == "exp_a"
    assert [e.name for e in client.experiments.list_by_workspace(RG, WS)] == ["exp_a", "exp_b"]
    client.experiments.delete(RG, WS, "exp_b").result()
    assert [e.name for e in client.experiments.list_by_workspace(RG, WS)] == ["exp_a"]


def test_file_servers_are_not_supported(client):
    params = models.FileServerCreateParameters(
        vm_size="STANDARD_D1_V2", ssh_configuration=models.SshConfiguration(
            user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="Pa$$w0rd1")),
        data_disks=models.DataDisks(disk_size_in_gb=10, disk_count=1, storage_account_type="Standard_LRS"))
    with pytest.raises(BatchAICompatNotSupportedError, match="Azure Files"):
        client.file_servers.create(RG, WS, "nfs", params).result()
    assert isinstance(BatchAICompatNotSupportedError("x"), NotImplementedError)
    assert list(client.file_servers.list_by_workspace(RG, WS)) == []
    with pytest.raises(CloudError) as info:
        client.file_servers.get(RG, WS, "nfs")
    assert info.value.status_code == 404


def test_usages(client, emu):
    client.workspaces.get(RG, WS)  # quotas are read through a workspace: the one in use
    usages = list(client.usages.list("northeurope"))
    assert usages and all(u.unit == "Count" and u.limit >= u.current_value for u in usages)


@pytest.fixture
def setup(client):
    client.experiments.create(RG, WS, EXP).result()
    return create_cluster(client, "cluster", nodes=1)


def test_custom_job_env_secrets_outputs(client, emu, setup):
    params = job_params(setup, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="echo hi $MY_VAR $TOKEN; echo oops >&2; echo data > $AZ_BATCHAI_OUTPUT_OUTPUTS/result.txt; "
                     "mkdir -p $AZ_BATCHAI_OUTPUT_OUTPUTS/sub $AZ_BATCHAI_OUTPUT_OUTPUTS/empty && "
                     "echo x > $AZ_BATCHAI_OUTPUT_OUTPUTS/sub/in.txt"),
        environment_variables=[models.EnvironmentVariable(name="MY_VAR", value="v1")],
        secrets=[models.EnvironmentVariable(name="TOKEN", value="s3cr3t")],
        job_preparation=models.JobPreparation(command_line="echo prep"))
    created = create_job(client, "job", params)
    assert created is None or created.execution_state == "queued"
    job = wait_job(client, "job")
    assert job.execution_state == "succeeded", job.execution_info.errors
    assert job.execution_info.exit_code == 0 and job.tool_type == "custom"
    assert job.secrets[0].name == "TOKEN" and job.secrets[0].value is None
    assert job.environment_variables[0].value == "v1"
    assert job.job_output_directory_path_segment.startswith(f"{SUB}/{RG}/workspaces/{WS}/experiments/{EXP}/jobs/job/")
    out = contents(client, "job")
    assert without_logs(out) == ["stderr-job_prep.txt", "stderr.txt", "stdout-job_prep.txt", "stdout.txt"]
    assert out["stdout.txt"] == "hi v1 s3cr3t\n" and out["stderr.txt"] == "oops\n"
    assert "s3cr3t" not in out["execution.log"]
    listing = files(client, "job", "OUTPUTS")
    assert listing["sub"].file_type == "directory" and listing["result.txt"].content_length == 5
    assert listing["empty"].file_type == "directory"  # listed although Azure ML uploads files only
    assert list(files(client, "job", "OUTPUTS", directory="empty")) == []
    assert contents(client, "job", "OUTPUTS") == {"result.txt": "data\n"}
    assert list(files(client, "job", "OUTPUTS", directory="sub")) == ["in.txt"]
    # The run definition carries neither the secret nor its value.
    submission = json.dumps(emu.submissions[-1]["definition"])
    assert "s3cr3t" not in submission and "Pa$$w0rd" not in submission
    run = emu.run(emu.submissions[-1]["run_id"])
    assert "s3cr3t" not in json.dumps(run.properties) and "s3cr3t" not in json.dumps(run.tags)


def test_failed_job_reports_exit_code(client, setup):
    create_job(client, "bad", job_params(setup, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="echo going down; exit 3")))
    job = wait_job(client, "bad")
    assert job.execution_state == "failed" and job.execution_info.exit_code == 3
    assert [e.code for e in job.execution_info.errors] == ["JobFailed"]
    create_job(client, "badprep", job_params(setup, job_preparation=models.JobPreparation(command_line="false")))
    job = wait_job(client, "badprep")
    assert [e.code for e in job.execution_info.errors] == ["JobPreparationFailed"]
    assert job.execution_info.exit_code == 1


def test_mpi_job_on_two_nodes(client, emu, setup):
    create_cluster(client, "mpi2", nodes=2)
    cluster = client.clusters.get(RG, WS, "mpi2")
    # A custom MPI job needs MPI (and ssh between the nodes) in its image: the Azure ML base image has both.
    params = job_params(cluster, node_count=2, image=AML_MPI, custom_toolkit_settings=None,
                        custom_mpi_settings=models.CustomMpiSettings(
                            process_count=4, command_line="echo rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BatchAICompatWarning)  # spread over the nodes: nothing to warn about
        client.jobs.create(RG, WS, EXP, "mpi", params).result()
    config = emu.submissions[-1]["definition"]["Configuration"]
    assert config["nodeCount"] == 2 and config["mpi"]["processCountPerNode"] == 1
    job = wait_job(client, "mpi", timeout=120)
    assert job.execution_state == "succeeded", job.execution_info.errors
    out = contents(client, "mpi")
    assert sorted(out["stdout.txt"].splitlines()) == [f"rank {r} of 4" for r in range(4)]
    assert [n for n in out if n.startswith("execution")] and len([n for n in out if n.startswith("execution-")]) == 2


def test_tensorflow_job_roles(client, emu, setup):
    create_cluster(client, "tf2", nodes=2)
    cluster = client.clusters.get(RG, WS, "tf2")
    # TensorFlow 1.8's image: its Python is 2.7 (print_function gives the same output there as on Python 3).
    script = ("from __future__ import print_function; import os, sys; print(os.environ['AZ_BATCHAI_TASK_INDEX'], "
              "sys.argv[1:], os.environ['AZ_BATCHAI_WORKER_HOSTS'].count(','))")
    params = job_params(cluster, node_count=2, image=TF18, custom_toolkit_settings=None,
                        tensor_flow_settings=models.TensorFlowSettings(
                            python_script_file_path="$AZ_BATCHAI_JOB_TEMP/tf.py", worker_count=2,
                            parameter_server_count=1, master_command_line_args="--role master",
                            worker_command_line_args="--role worker", parameter_server_command_line_args="--role ps"),
                        job_preparation=models.JobPreparation(
                            command_line=f"printf '%s\\n' \"{script}\" > $AZ_BATCHAI_JOB_TEMP/tf.py; "
                                         "cp $AZ_BATCHAI_JOB_TEMP/tf.py $AZ_BATCHAI_JOB_TEMP/../tf.py || true"))
    create_job(client, "tf", params)
    job = wait_job(client, "tf", timeout=120)
    out = contents(client, "tf")
    assert job.execution_state == "succeeded", (job.execution_info.errors, out)
    assert out["stdout-wk-0.txt"] == "0 ['--role', 'master'] 1\n"
    assert out["stdout-wk-1.txt"] == "1 ['--role', 'worker'] 1\n"
    assert "stdout-ps-0.txt" in out


def test_terminate_delete_and_not_found(client, emu, setup):
    params = job_params(setup, custom_toolkit_settings=models.CustomToolkitSettings(command_line="sleep 60"))
    create_job(client, "long", params)
    wait_for(lambda: client.jobs.get(RG, WS, EXP, "long").execution_state == "running", message="running")
    client.jobs.terminate(RG, WS, EXP, "long").result()
    job = client.jobs.get(RG, WS, EXP, "long")
    assert job.execution_state == "failed" and [e.code for e in job.execution_info.errors] == ["JobTerminated"]
    assert job.execution_info.exit_code is None
    client.jobs.terminate(RG, WS, EXP, "long").result()  # no-op on a finished job
    assert [j.name for j in client.jobs.list_by_experiment(RG, WS, EXP)] == ["long"]
    with pytest.warns(BatchAICompatWarning, match="cannot be deleted"):
        client.jobs.delete(RG, WS, EXP, "long").result()
    with pytest.raises(CloudError) as info:
        client.jobs.get(RG, WS, EXP, "long")
    assert info.value.status_code == 404 and info.value.error.error == "JobNotFound"
    assert list(client.jobs.list_by_experiment(RG, WS, EXP)) == []
    # the name can be used again: a new run
    create_job(client, "long", job_params(setup))
    assert wait_job(client, "long").execution_state == "succeeded"
    with pytest.raises(CloudError) as info:
        client.jobs.get(RG, WS, "no_such_experiment", "long")
    assert info.value.error.error == "ExperimentNotFound"


def test_deleting_a_running_job_cancels_its_run(client, emu, setup):
    create_job(client, "victim", job_params(setup, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="sleep 60")))
    wait_for(lambda: client.jobs.get(RG, WS, EXP, "victim").execution_state == "running", message="running")
    run_id = emu.submissions[-1]["run_id"]
    client.jobs.delete(RG, WS, EXP, "victim").result()
    wait_for(lambda: emu.run(run_id).status == "Canceled", message="run canceled")
    assert emu.run(run_id).tags.get("batchai.deleted") == "true"


def test_job_features_without_aml_counterpart(client, setup):
    params = job_params(setup, mount_volumes=models.MountVolumes(file_servers=[models.FileServerReference(
        file_server=models.ResourceId(id="/subscriptions/x/fs"), relative_mount_path="nfs")]))
    with pytest.raises(BatchAICompatNotSupportedError, match="file servers"):
        client.jobs.create(RG, WS, EXP, "nfsjob", params).result()
    with pytest.raises(CloudError) as info:
        client.jobs.create(RG, WS, EXP, "nocluster", job_params(
            models.ResourceId(id=setup.id.replace("/clusters/cluster", "/clusters/nope")))).result()
    assert info.value.error.error == "ClusterNotFound"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.jobs.create(RG, WS, EXP, "plain", models.JobCreateParameters(
            cluster=models.ResourceId(id=setup.id), node_count=1, std_out_err_path_prefix="/x",
            custom_toolkit_settings=models.CustomToolkitSettings(command_line="true"))).result()
    messages = [str(w.message) for w in caught if issubclass(w.category, BatchAICompatWarning)]
    assert len(messages) == 1 and "containerSettings" in messages[0]


def test_horovod_and_pytorch_jobs(client, emu, setup):
    # one os.write per process: mpirun may interleave partial writes of its ranks
    script = ("import os, sys; os.write(1, ('rank %s %s' % (os.environ.get('OMPI_COMM_WORLD_RANK', "
              "os.environ.get('AZ_BATCHAI_TASK_INDEX')), sys.argv[1:]) + chr(10)).encode())")
    prep = models.JobPreparation(command_line=f"echo \"{script}\" > $AZ_BATCHAI_JOB_TEMP/../../train.py")
    path = "$AZ_BATCHAI_JOB_TEMP/../../train.py"
    # Horovod runs under mpirun and both run `python`: the Azure ML base image has Open MPI and conda's Python.
    create_job(client, "hvd", job_params(setup, image=AML_MPI, custom_toolkit_settings=None, job_preparation=prep,
                                         horovod_settings=models.HorovodSettings(
                                             python_script_file_path=path, command_line_args="--epochs 1",
                                             process_count=2)))
    create_job(client, "torch", job_params(setup, image=AML_MPI, custom_toolkit_settings=None, job_preparation=prep,
                                           py_torch_settings=models.PyTorchSettings(
                                               python_script_file_path=path, process_count=2,
                                               communication_backend="gloo")))
    hvd, torch = wait_job(client, "hvd", timeout=120), wait_job(client, "torch", timeout=120)
    assert hvd.tool_type == "horovod" and torch.tool_type == "pytorch"
    out = contents(client, "hvd")
    assert hvd.execution_state == "succeeded", out
    assert sorted(out["stdout.txt"].splitlines()) == ["rank 0 ['--epochs', '1']", "rank 1 ['--epochs', '1']"]
    out = contents(client, "torch")
    assert torch.execution_state == "succeeded", out
    assert out["stdout-0.txt"] == "rank 0 []\n" and out["stdout-1.txt"] == "rank 1 []\n"


def test_job_remote_login_information(client, emu, setup):
    create_job(client, "busy", job_params(setup, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="sleep 30")))
    wait_for(lambda: client.jobs.get(RG, WS, EXP, "busy").execution_state == "running", message="running")
    logins = list(client.jobs.list_remote_login_information(RG, WS, EXP, "busy"))
    assert len(logins) == 1 and logins[0].port > 0 and logins[0].node_id
    client.jobs.terminate(RG, WS, EXP, "busy").result()
    assert list(client.jobs.list_remote_login_information(RG, WS, EXP, "busy")) == []


def test_repeated_create_is_idempotent(client, emu, setup):
    params = job_params(setup, custom_toolkit_settings=models.CustomToolkitSettings(command_line="echo once"))
    create_job(client, "again", params)
    runs = len(emu.submissions)
    second = create_job(client, "again", params)  # a notebook cell run twice
    assert len(emu.submissions) == runs and second.name == "again"
    params.custom_toolkit_settings.command_line = "echo twice"
    with pytest.raises(CloudError) as info:
        create_job(client, "again", params)
    assert info.value.status_code == 409
    assert wait_job(client, "again").execution_state == "succeeded"
