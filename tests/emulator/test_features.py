"""Focused emulator features, each through the real azureml-core: HTTPS + Workspace.create, workspace
list/update/delete, TensorFlow and PyTorch process layouts, cluster capacity, run queries, datastores."""

from __future__ import annotations

import json
import os

import pytest

from .conftest import RG, SUB, WS, assert_clean
from .helpers import gate_path, make_source, read, wait_until

pytestmark = [pytest.mark.azureml]


def _env(name="img"):
    from azureml.core import Environment
    env = Environment.from_docker_image(name, "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")
    env._environment_variables = {}
    return env


def _cluster(ws, name="cpu", min_nodes=0, max_nodes=4):
    from azureml.core.compute import AmlCompute, ComputeTarget
    ct = ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(
        vm_size="STANDARD_D2_V2", min_nodes=min_nodes, max_nodes=max_nodes))
    ComputeTarget.wait_for_completion(ct, show_output=False)
    return ct


def test_workspace_create_over_https(leak_proxy, tmp_path):
    from azureml.core import Workspace

    from batchai_compat.testing import AzureMLEmulator

    with AzureMLEmulator(https=True, root=str(tmp_path / "emu")) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        assert os.environ["REQUESTS_CA_BUNDLE"] == emu.cert_path
        ws = Workspace.create("new-ws", auth=emu.auth(), subscription_id="sub-9", resource_group="rg-9",
                              location="westeurope", create_resource_group=True, exist_ok=True,
                              show_output=True, tags={"team": "ml"})
        assert ws.name == "new-ws" and ws.location == "westeurope" and ws.tags["team"] == "ml"
        routes = emu.route_counts()
        assert routes["ARM PUT resource group"] == 1 and routes["ARM PUT deployment"] == 1
        template = emu.deployment_requests[-1]["body"]["properties"]["template"]
        assert any(r["type"] == "Microsoft.MachineLearningServices/workspaces" for r in template["resources"])
        # exist_ok=True on an existing workspace: a plain GET, no second deployment
        again = Workspace.create("new-ws", auth=emu.auth(), subscription_id="sub-9", resource_group="rg-9",
                                 location="westeurope", exist_ok=True, show_output=False)
        assert again.get_details()["workspaceid"] == ws.get_details()["workspaceid"]
        assert emu.route_counts()["ARM PUT deployment"] == 1
        emu.add_workspace("sub-9", "rg-10", "other-ws")
        assert sorted(Workspace.list("sub-9", auth=emu.auth())) == ["new-ws", "other-ws"]
        assert all(r.scheme == "https" for r in emu.requests)
    assert "REQUESTS_CA_BUNDLE" not in os.environ or os.environ["REQUESTS_CA_BUNDLE"] != emu.cert_path
    assert_clean(emu, leak_proxy)


def test_workspace_list_update_delete(emu, ws):
    from azureml.core import Workspace
    from azureml.exceptions import ProjectSystemException

    emu.add_workspace(SUB, RG, "ws-2")
    emu.add_workspace(SUB, "rg-other", "ws-3")
    listed = Workspace.list(SUB, auth=emu.auth(), resource_group=RG)
    assert sorted(listed) == ["ws-1", "ws-2"]
    # (Workspace.list without a resource group uses the track-2 ARM client: HTTPS only, see the next test.)
    ws.update(tags={"owner": "me"})
    assert Workspace(SUB, RG, WS, auth=emu.auth()).tags == {"owner": "me"}
    ws2 = Workspace(SUB, RG, "ws-2", auth=emu.auth())
    ws2.delete(delete_dependent_resources=False, no_wait=False)
    with pytest.raises(ProjectSystemException):
        Workspace(SUB, RG, "ws-2", auth=emu.auth())


def test_tensorflow_parameter_server_layout(emu, ws, tmp_path):
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.runconfig import TensorflowConfiguration

    _cluster(ws)
    src = make_source(str(tmp_path / "src"))
    run = Experiment(ws, "tf").submit(ScriptRunConfig(
        source_directory=src, command="python worker.py", compute_target="cpu", environment=_env(),
        distributed_job_config=TensorflowConfiguration(worker_count=2, parameter_server_count=1)))
    run.wait_for_completion(show_output=False)
    assert run.get_status() == "Completed"       # the ps process never exits: it is stopped
    names = run.get_file_names()
    assert {"outputs/chief_0.json", "outputs/worker_0.json", "outputs/ps_0.json"} <= set(names)
    assert {"user_logs/std_log_process_0.txt", "user_logs/std_log_process_1.txt",
            "user_logs/std_log_ps_0.txt"} <= set(names)
    target = str(tmp_path / "chief.json")
    run.download_file("outputs/chief_0.json", target)
    tf_config = json.loads(read(target))["TF_CONFIG"]
    assert tf_config["task"] == {"type": "chief", "index": 0}
    assert len(tf_config["cluster"]["chief"]) == 1 and len(tf_config["cluster"]["worker"]) == 1
    assert len(tf_config["cluster"]["ps"]) == 1
    assert emu.run(run.id).node_count == 2          # AML: nodeCount = worker_count


def test_pytorch_ranks(emu, ws, tmp_path):
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.runconfig import PyTorchConfiguration

    _cluster(ws)
    src = make_source(str(tmp_path / "src"))
    run = Experiment(ws, "pt").submit(ScriptRunConfig(
        source_directory=src, command="python worker.py", compute_target="cpu", environment=_env(),
        distributed_job_config=PyTorchConfiguration(communication_backend="Gloo", process_count=4, node_count=2)))
    run.wait_for_completion(show_output=False)
    seen = []
    for rank in range(4):
        target = str(tmp_path / f"r{rank}.json")
        run.download_file(f"outputs/rank_{rank}.json", target)
        data = json.loads(read(target))
        seen.append((data["RANK"], data["WORLD_SIZE"], data["LOCAL_RANK"], data["MASTER_ADDR"]))
        assert data["MASTER_PORT"].isdigit()
    master = seen[0][3]          # node 0's own loopback address
    assert master.startswith("127.") and master != "127.0.0.1"
    assert seen == [("0", "4", "0", master), ("1", "4", "1", master),
                    ("2", "4", "0", master), ("3", "4", "1", master)]


def test_cluster_capacity_queues_and_rejects(emu, ws, tmp_path):
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.runconfig import MpiConfiguration

    ct = _cluster(ws, "small", min_nodes=0, max_nodes=1)
    src = make_source(str(tmp_path / "src"))
    gate = gate_path(emu)
    exp = Experiment(ws, "cap")
    first = ScriptRunConfig(source_directory=src, command="python train.py", compute_target="small",
                            environment=_env())
    first.run_config.environment_variables = {"GATE_FILE": gate}
    r1 = exp.submit(first)
    wait_until(lambda: r1.get_status() == "Running")
    r2 = exp.submit(ScriptRunConfig(source_directory=src, command="python train.py", compute_target="small",
                                    environment=_env()))
    too_big = exp.submit(ScriptRunConfig(source_directory=src, command="python train.py", compute_target="small",
                                         environment=_env(),
                                         distributed_job_config=MpiConfiguration(node_count=2)))
    too_big.wait_for_completion(show_output=False, raise_on_error=False)
    assert too_big.get_status() == "Failed"
    assert "at most 1" in too_big.get_details()["error"]["error"]["message"]
    assert r2.get_status() == "Queued"                      # the only node is busy
    assert [n["runId"] for n in ct.list_nodes()] == [r1.id]
    open(gate, "w").close()
    r2.wait_for_completion(show_output=False)
    assert r1.get_status() == "Completed" and r2.get_status() == "Completed"
    assert emu.run(r2.id).start >= emu.run(r1.id).end
    wait_until(lambda: ct.refresh_state() or ct.status.current_node_count == 0, timeout=10)


def test_run_queries(emu, ws, tmp_path):
    from azureml.core import Experiment, Run, ScriptRunConfig

    _cluster(ws)
    src = make_source(str(tmp_path / "src"))
    exp = Experiment(ws, "queries")
    runs = []
    for i, command in enumerate(["python train.py", "python worker.py fail", "python train.py"]):
        run = exp.submit(ScriptRunConfig(source_directory=src, command=command, compute_target="cpu",
                                         environment=_env()), tags={"batchai.job_name": f"job-{i % 2}"})
        run.wait_for_completion(show_output=False, raise_on_error=False)
        runs.append(run)
    ids = [r.id for r in runs]
    assert [r.id for r in Run.list(exp)] == ids[::-1]                     # StartTimeUtc desc
    assert [r.id for r in Run.list(exp, tags={"batchai.job_name": "job-0"})] == [ids[2], ids[0]]
    assert [r.id for r in Run.list(exp, status="Failed")] == [ids[1]]
    assert [r.id for r in Run.list(exp, tags="batchai.job_name")] == ids[::-1]
    # azureml's "has tag" filter ("(Tags/k ne null or Tags/k eq null)") selects the runs that have tag k, with or
    # without a value, as azureml-core documents Run.list(tags="k") (see odata.py); filters on values select too.
    assert list(Run.list(exp, tags="missing")) == []
    runs[0].tag("marker")
    assert [r.id for r in Run.list(exp, tags="marker")] == [ids[0]]
    runs[1].tag("grade", "yes")
    assert [r.id for r in Run.list(exp, tags={"grade": "yes"})] == [ids[1]]
    assert [r.id for r in exp.get_runs()][:1] == [ids[2]]


def test_datastores(emu, ws):
    from azureml.core import Datastore

    default = ws.get_default_datastore()
    assert default.name == "workspaceblobstore" and default.account_key
    assert Datastore.get(ws, "workspacefilestore").datastore_type == "AzureFile"
    blob = Datastore.register_azure_blob_container(ws, "bai_acct_data", "data", "acct", account_key="a2V5",
                                                   skip_validation=True)
    assert blob.container_name == "data" and blob.account_name == "acct"
    share = Datastore.register_azure_file_share(ws, "bai_acct_share", "share", "acct", sas_token="sv=x")
    assert share.sas_token == "sv=x"
    again = Datastore.register_azure_blob_container(ws, "bai_acct_data", "data2", "acct", account_key="a2V5",
                                                    overwrite=True)
    assert again.container_name == "data2"
    assert {"bai_acct_data", "bai_acct_share", "workspaceblobstore"} <= set(ws.datastores)
    assert emu.registered_datastores[0]["query"]["skipValidation"] == ["true"]


@pytest.mark.mpi
@pytest.mark.mpi
def test_mpi_under_mpirun(leak_proxy, tmp_path):
    from azureml.core import Experiment, ScriptRunConfig, Workspace
    from azureml.core.runconfig import MpiConfiguration

    from batchai_compat.testing import AzureMLEmulator

    with AzureMLEmulator(workspaces=[(SUB, RG, WS)], root=str(tmp_path / "emu"), use_mpirun=True) as emu:
        ws = Workspace(SUB, RG, WS, auth=emu.auth())
        _cluster(ws)
        src = make_source(str(tmp_path / "src"))
        config = ScriptRunConfig(source_directory=src, command="python train.py", compute_target="cpu",
                                 environment=_env(),
                                 distributed_job_config=MpiConfiguration(process_count_per_node=2, node_count=2))
        config.run_config.environment_variables = {"MY_VAR": "via-mpirun"}
        run = Experiment(ws, "mpirun").submit(config)
        run.wait_for_completion(show_output=False)
        run.download_file("outputs/result_3.txt", str(tmp_path / "r3.txt"))
        assert read(str(tmp_path / "r3.txt")) == "rank 3 of 4 MY_VAR=via-mpirun args=[]\n"
        log = str(tmp_path / "exec.txt")
        run.download_file("system_logs/emulator/execution.txt", log)
        assert "mpirun" in read(log) and "-np', '4'" in read(log)
    assert_clean(emu, leak_proxy)


def test_max_run_duration_is_enforced(emu, ws, tmp_path):
    from azureml.core import Experiment, ScriptRunConfig

    _cluster(ws)
    src = make_source(str(tmp_path / "src"))
    run = Experiment(ws, "timeout").submit(ScriptRunConfig(
        source_directory=src, command="python worker.py sleep", compute_target="cpu", environment=_env(),
        max_run_duration_seconds=1))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    assert run.get_status() == "Failed"
    assert "maximum duration of 1 seconds" in run.get_details()["error"]["error"]["message"]
