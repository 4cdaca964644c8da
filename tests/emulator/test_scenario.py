"""The ``docs/azureml-mapping.md`` §3.3 scenario, driven through the real azureml-core against the emulator:
cluster lifecycle, experiments, an MPI job that really runs, outputs downloaded over HTTP, tags/lookup,
cancel, failure, and clean-up — with zero unrouted and zero leaked requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from .conftest import RG, SUB, WS
from .helpers import gate_path, make_source, process_gone, read, wait_until

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]


def test_import_batchai_compat_testing_does_not_import_azureml():
    code = ("import sys, batchai_compat.testing as t; e = t.AzureMLEmulator(); "
            "assert not [m for m in sys.modules if m.startswith('azureml')], 'azureml imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))


def test_full_scenario(emu, tmp_path, capsys):
    from azureml.core import Environment, Experiment, Run, ScriptRunConfig, Workspace
    from azureml.core.compute import AmlCompute, ComputeTarget
    from azureml.core.runconfig import MpiConfiguration
    from azureml.core.script_run import ScriptRun
    from azureml.exceptions import ComputeTargetException

    steps = emu.step
    src = make_source(str(tmp_path / "src"))
    gate = gate_path(emu)

    with steps("Workspace(sub, rg, ws)"):
        ws = Workspace(SUB, RG, WS, auth=emu.auth())
    assert ws.location == "eastus"

    with steps("ComputeTarget.create + base wait_for_completion"):
        cfg = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", min_nodes=0, max_nodes=4,
                                                    idle_seconds_before_scaledown=120, tags={"orig": "c1"})
        ct = ComputeTarget.create(ws, "cpu-cluster", cfg)
        ComputeTarget.wait_for_completion(ct, show_output=False)
    assert isinstance(ct, AmlCompute) and ct.provisioning_state == "Succeeded"
    put = emu.provisioning_requests[-1]["body"]
    assert put["properties"]["properties"]["scaleSettings"]["maxNodeCount"] == 4
    assert put["tags"] == {"orig": "c1"}

    with steps("AmlCompute(ws, name) + status"):
        ct = AmlCompute(ws, "cpu-cluster")
        status = ct.status
    assert status.allocation_state == "Steady" and status.current_node_count == 0
    assert ct.scale_settings.maximum_node_count == 4 and ct.tags == {"orig": "c1"}

    patched_at = time.monotonic()
    with steps("AmlCompute.update(min_nodes=1)"):
        ct.update(min_nodes=1, max_nodes=4)
    ct.refresh_state()
    assert ct.status.target_node_count == 1
    if time.monotonic() - patched_at < 0.4:          # the new node is "preparing" for resize_seconds=0.5
        assert ct.status.allocation_state == "Resizing" and ct.status.current_node_count == 0
    wait_until(lambda: ct.refresh_state() or (ct.status.allocation_state == "Steady"
                                              and ct.status.current_node_count == 1))

    with steps("ComputeTarget.list"):
        listed = ComputeTarget.list(ws)
    assert [c.name for c in listed] == ["cpu-cluster"]

    with steps("AmlCompute.list_usages"):
        usages = AmlCompute.list_usages(ws)
    assert usages[0]["currentValue"] == 2 and usages[0]["unit"] == "Count"

    with steps("Experiment(ws, name) (get-or-create)"):
        exp = Experiment(ws, "exp-1")
    with steps("Experiment.list"):
        assert [e.name for e in Experiment.list(ws)] == ["exp-1"]

    env = Environment.from_docker_image("mpi-env", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")
    env._environment_variables = {}
    config = ScriptRunConfig(source_directory=src, command="python train.py --epochs 3",
                             compute_target="cpu-cluster", environment=env,
                             distributed_job_config=MpiConfiguration(process_count_per_node=2, node_count=2))
    config.run_config.environment_variables = {"MY_VAR": "hello world", "GATE_FILE": gate}

    with steps("Experiment.submit (zip)"):
        run = exp.submit(config, tags={"batchai.job_name": "job-1"})
    assert isinstance(run, ScriptRun)
    definition = emu.submissions[-1]["definition"]["Configuration"]
    assert definition["nodeCount"] == 2 and definition["mpi"]["processCountPerNode"] == 2
    assert definition["environment"]["docker"]["baseImage"].startswith("mcr.microsoft.com/azureml/openmpi")
    assert "train.py" in emu.submissions[-1]["zip_names"]

    # While the ranks wait on the gate, the run holds two nodes of the cluster. (Waiting for any state past
    # Preparing, so that a run that failed reports why instead of timing out.)
    def started() -> object:
        status = run.get_status()
        return status if status not in ("NotStarted", "Queued", "Preparing", "Starting") else None

    assert wait_until(started, timeout=120) == "Running", run.get_details()
    with steps("AmlCompute.list_nodes (run active)"):
        nodes = ct.list_nodes()
    busy = [n for n in nodes if n["runId"] == run.id]
    assert len(busy) == 2 and all(n["nodeState"] == "running" for n in busy)
    ct.refresh_state()
    assert ct.status.node_state_counts.running_node_count == 2
    assert ct.status.current_node_count + (ct.status.node_state_counts.preparing_node_count or 0) >= 2

    open(gate, "w").close()
    with steps("Run.wait_for_completion"):
        run.wait_for_completion(show_output=False)
    assert run.get_status() == "Completed"
    assert emu.run(run.id).status_history == ["Queued", "Preparing", "Running", "Finalizing", "Completed"]

    with steps("Run.get_details"):
        details = run.get_details()
    assert details["startTimeUtc"] and details["endTimeUtc"] and details["status"] == "Completed"
    assert details["runDefinition"]["command"] == "python train.py --epochs 3"

    with steps("Run.get_file_names"):
        names = run.get_file_names()
    assert {f"outputs/result_{i}.txt" for i in range(4)} <= set(names)
    assert "user_logs/std_log_process_0.txt" in names and "logs/train_3.log" in names

    def rank_env(rank):
        path = str(tmp_path / f"train_{rank}.log")
        run.download_file(f"logs/train_{rank}.log", path)
        return json.loads(read(path))

    env0, env3 = rank_env(0), rank_env(3)
    assert env0["AZUREML_RUN_ID"] == run.id and env0["AZUREML_ARM_PROJECT_NAME"] == "exp-1"
    assert env0["AZ_BATCH_NODE_ID"] != env3["AZ_BATCH_NODE_ID"] == busy[1]["nodeId"]
    assert env0["TMPDIR"] != env3["TMPDIR"] and env3["OMPI_COMM_WORLD_NODE_RANK"] == "1"

    with steps("Run.download_file"):
        target = str(tmp_path / "result_3.txt")
        run.download_file("outputs/result_3.txt", target)
    with open(target) as fh:
        assert fh.read() == "rank 3 of 4 MY_VAR=hello world args=['--epochs', '3']\n"

    with steps("artifacts prefix contentinfo (SAS URLs)"):
        pairs = run._client.artifacts.get_files_by_artifact_prefix_id(
            f"ExperimentRun/{run._container}/outputs/")
    urls = dict(pairs)
    assert sorted(urls) == [f"outputs/result_{i}.txt" for i in range(4)]
    import requests
    with steps("plain GET of a SAS URL"):
        body = requests.get(urls["outputs/result_0.txt"], timeout=10)
    assert body.status_code == 200 and body.text.startswith("rank 0 of 4")
    tampered = urls["outputs/result_0.txt"].replace("sig=", "sig=0")
    assert requests.get(tampered, timeout=10).status_code == 403

    with steps("Run.list(exp, tags={job})"):
        found = list(Run.list(exp, tags={"batchai.job_name": "job-1"}))
    assert [r.id for r in found] == [run.id]
    with steps("Run.get(ws, id)"):
        again = Run.get(ws, run.id)
    assert isinstance(again, ScriptRun) and again.get_status() == "Completed"

    with steps("Run.set_tags + add_properties"):
        again.set_tags({"batchai.deleted": "true"})
        again.add_properties({"batchai.spec": "{}"})
    fresh = Run.get(ws, run.id)
    assert fresh.get_tags()["batchai.deleted"] == "true" and fresh.get_properties()["batchai.spec"] == "{}"
    assert list(Run.list(exp, tags="batchai.deleted"))[0].id == run.id

    # The two nodes go idle, then leave (scale_down_after) down to min_nodes=1.
    wait_until(lambda: ct.refresh_state() or (ct.status.allocation_state == "Steady"
                                              and ct.status.current_node_count == 1), timeout=10)

    # A long run is canceled: its process is really killed.
    sleeper = ScriptRunConfig(source_directory=src, command="python worker.py sleep",
                              compute_target="cpu-cluster", environment=env)
    with steps("Experiment.submit (unchanged dir)"):
        long_run = exp.submit(sleeper)
    wait_until(lambda: long_run.get_status() == "Running")
    pid_file = os.path.join(emu.run(long_run.id).work_dir, "outputs", "pid")
    pid = int(wait_until(lambda: os.path.exists(pid_file) and read(pid_file).strip()))
    with steps("Run.get + cancel"):
        Run.get(ws, long_run.id).cancel()
    wait_until(lambda: long_run.get_status() == "Canceled")
    assert process_gone(pid)
    assert emu.run(long_run.id).status_history[-2:] == ["CancelRequested", "Canceled"]

    # A failing run: Failed, with the exit code in the error message.
    failing = ScriptRunConfig(source_directory=src, command="python worker.py fail",
                              compute_target="cpu-cluster", environment=env)
    bad = exp.submit(failing)
    bad.wait_for_completion(show_output=False, raise_on_error=False)
    assert bad.get_status() == "Failed"
    message = bad.get_details()["error"]["error"]["message"]
    assert "exited with status code 3" in message
    log = str(tmp_path / "bad.txt")
    bad.download_file("user_logs/std_log.txt", log)
    assert "about to fail" in read(log)

    # Experiments: delete refuses non-empty ones, archive hides them, an empty one is deleted.
    empty = Experiment(ws, "empty-exp")
    with pytest.raises(Exception, match="ExperimentNotEmpty"):
        Experiment.delete(ws, exp.id)
    with steps("Experiment.archive"):
        exp.archive()
    assert [e.name for e in Experiment.list(ws)] == ["empty-exp"]
    from azureml.core.experiment import ViewType
    assert sorted(e.name for e in Experiment.list(ws, view_type=ViewType.All)) == ["empty-exp", "exp-1"]
    with steps("Experiment.delete (empty)"):
        Experiment.delete(ws, empty.id)
    assert Experiment.list(ws, experiment_name="empty-exp") == []

    with steps("AmlCompute.delete + wait"):
        ct.delete()
        ct.wait_for_completion(show_output=False, is_delete_operation=True)
    with pytest.raises(ComputeTargetException, match="ComputeTargetNotFound"):
        AmlCompute(ws, "cpu-cluster")

    with capsys.disabled():
        print("\nrequests per step (azureml-core 1.61 against the emulator):\n" + emu.steps_table())
    assert len(emu.requests) > 60


def test_unknown_workspace_and_run_are_not_found(emu, ws):
    from azureml._restclient.exceptions import ServiceException
    from azureml.core import Run, Workspace
    from azureml.exceptions import ProjectSystemException

    with pytest.raises(ProjectSystemException, match="not found"):
        Workspace(SUB, RG, "missing-ws", auth=emu.auth())
    with pytest.raises(ServiceException) as info:
        Run.get(ws, "no-such-run")
    assert "404" in str(info.value)
