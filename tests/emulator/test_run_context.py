"""Runs that talk back: Run.get_context() inside the executed process (secrets, tags, metrics), streamed logs,
local target runs, data references, and the clear failure when source files cannot arrive."""

from __future__ import annotations

import os
import textwrap

import pytest

from .helpers import make_source, process_gone, read, wait_until
from .test_features import _cluster, _env

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]

CONTEXT_PY = textwrap.dedent('''
    import os
    from azureml.core import Run
    run = Run.get_context()
    secret = run.get_secret("db-password")
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/context.txt", "w") as fh:
        fh.write("%s %s %s" % (type(run).__name__, run.id, secret))
    run.log("loss", 0.25)
    run.log("loss", 0.125)
    run.tag("inside", "yes")
    run.flush()
    print("context done")
''')


def test_run_context_secrets_tags_and_metrics(emu, ws, tmp_path, capsys):
    from azureml.core import Experiment, ScriptRunConfig

    ws.get_default_keyvault().set_secret("db-password", "s3cret value")
    assert ws.get_default_keyvault().get_secret("db-password") == "s3cret value"
    _cluster(ws)
    src = tmp_path / "src"
    src.mkdir()
    (src / "ctx.py").write_text(CONTEXT_PY)
    # Run.get_context() needs azureml-core in the run's environment; the Azure ML base image has none, so the
    # environment is system-managed: Azure ML builds its conda environment (Python + azureml-defaults, the
    # default specification) over the image, and `python` is that environment's (amlemu/images.py).
    from azureml.core import Environment
    from azureml.core.conda_dependencies import CondaDependencies

    env = Environment.from_docker_image("ctx", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")
    env.python.user_managed_dependencies = False
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["azureml-defaults"])
    run = Experiment(ws, "ctx").submit(ScriptRunConfig(source_directory=str(src), command="python ctx.py",
                                                       compute_target="cpu", environment=env))
    run.wait_for_completion(show_output=True)          # streams user_logs/std_log.txt
    assert "context done" in capsys.readouterr().out
    target = str(tmp_path / "context.txt")
    run.download_file("outputs/context.txt", target)
    assert read(target) == f"_SubmittedRun {run.id} s3cret value"
    assert run.get_tags()["inside"] == "yes"
    assert run.get_metrics() == {"loss": [0.25, 0.125]}
    # the process' own requests reached the emulator, nothing else (checked by the fixture too)
    routes = emu.route_counts()
    assert routes["CREDENTIAL GET secret"] == 2 and routes["METRIC POST batch"] >= 1


def test_local_target_runs_and_cancels(emu, ws, tmp_path):
    from azureml.core import Experiment, Run, ScriptRunConfig

    src = make_source(str(tmp_path / "src"))
    exp = Experiment(ws, "local")
    run = exp.submit(ScriptRunConfig(source_directory=src, command="python train.py x", compute_target="local"))
    run.wait_for_completion(show_output=False)
    assert run.get_status() == "Completed" and "outputs/result_0.txt" in run.get_file_names()
    sleeper = exp.submit(ScriptRunConfig(source_directory=src, command="python worker.py sleep",
                                         compute_target="local"))
    wait_until(lambda: sleeper.get_status() == "Running")
    pid_file = os.path.join(emu.run(sleeper.id).work_dir, "outputs", "pid")
    pid = int(wait_until(lambda: os.path.exists(pid_file) and read(pid_file).strip()))
    Run.get(ws, sleeper.id).cancel()                 # local target: killfile + Canceled event
    wait_until(lambda: sleeper.get_status() == "Canceled")
    assert process_gone(pid)


def test_data_reference_points_at_a_local_datastore_dir(leak_proxy, tmp_path):
    from azureml.core import Datastore, Experiment, ScriptRunConfig, Workspace
    from azureml.data.data_reference import DataReference

    from batchai_compat.testing import AzureMLEmulator

    from .conftest import RG, SUB, WS, assert_clean

    share = tmp_path / "share"
    (share / "data" / "in").mkdir(parents=True)
    (share / "data" / "in" / "x.csv").write_text("1,2\n")
    with AzureMLEmulator(workspaces=[(SUB, RG, WS)], root=str(tmp_path / "emu"),
                         datastore_dirs={"bai_acct_c": str(share)}) as emu:
        ws = Workspace(SUB, RG, WS, auth=emu.auth())
        _cluster(ws)
        ds = Datastore.register_azure_blob_container(ws, "bai_acct_c", "c", "acct", account_key="a2V5",
                                                     skip_validation=True)
        src = tmp_path / "src"
        src.mkdir()
        (src / "d.py").write_text("import os\nd = os.environ['AZUREML_DATAREFERENCE_input1']\n"
                                  "os.makedirs('outputs', exist_ok=True)\n"
                                  "open('outputs/ls.txt', 'w').write(repr(os.listdir(d)))\n")
        config = ScriptRunConfig(source_directory=str(src), command="python d.py", compute_target="cpu",
                                 environment=_env())
        ref = DataReference(ds, data_reference_name="input1", path_on_datastore="data/in", mode="mount")
        config.run_config.data_references = {"input1": ref.to_config()}
        run = Experiment(ws, "refs").submit(config)
        run.wait_for_completion(show_output=False)
        run.download_file("outputs/ls.txt", str(tmp_path / "ls.txt"))
        assert (tmp_path / "ls.txt").read_text() == "['x.csv']"
    assert_clean(emu, leak_proxy)


def test_datastores_mapped_onto_local_storage_emulation(leak_proxy, tmp_path, monkeypatch):
    from azureml.core import Datastore, Experiment, ScriptRunConfig, Workspace
    from azureml.data.data_reference import DataReference

    from batchai_compat._home import container_path
    from batchai_compat.testing import AzureMLEmulator, local_storage_datastore_dirs

    from .conftest import RG, SUB, WS, assert_clean

    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))
    container = container_path("acct1", "data")
    (container / "inputs").mkdir(parents=True)
    (container / "inputs" / "train.csv").write_text("a,b\n")
    with AzureMLEmulator(workspaces=[(SUB, RG, WS)], root=str(tmp_path / "emu"),
                         datastore_dirs=local_storage_datastore_dirs()) as emu:
        ws = Workspace(SUB, RG, WS, auth=emu.auth())
        _cluster(ws)
        ds = Datastore.register_azure_blob_container(ws, "bai_acct1_data", "data", "acct1", account_key="a2V5")
        src = tmp_path / "src"
        src.mkdir()
        (src / "w.py").write_text("import os\nd = os.environ['AZUREML_DATAREFERENCE_out']\n"
                                  "open(os.path.join(d, 'written.txt'), 'w').write('from the run')\n"
                                  "print(sorted(os.listdir(os.path.join(d, '..', 'inputs'))))\n")
        config = ScriptRunConfig(source_directory=str(src), command="python w.py", compute_target="cpu",
                                 environment=_env())
        config.run_config.data_references = {
            "out": DataReference(ds, data_reference_name="out", path_on_datastore="results", mode="mount").to_config()}
        run = Experiment(ws, "storage").submit(config)
        run.wait_for_completion(show_output=False)
    assert (container / "results" / "written.txt").read_text() == "from the run"
    assert_clean(emu, leak_proxy)


def test_submit_without_zip_fails_with_an_explanation(emu, ws, tmp_path, monkeypatch):
    from azureml.core import Experiment, ScriptRunConfig

    _cluster(ws)
    monkeypatch.delenv("AML_FORCE_EXECUTE_WITH_ZIP")
    src = make_source(str(tmp_path / "src"))
    run = Experiment(ws, "nozip").submit(ScriptRunConfig(source_directory=src, command="python train.py",
                                                         compute_target="cpu", environment=_env()))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    assert run.get_status() == "Failed"
    assert "AML_FORCE_EXECUTE_WITH_ZIP" in run.get_details()["error"]["error"]["message"]
    assert emu.route_counts()["EXEC POST snapshotrun"] == 1


def test_amlcompute_wait_for_completion_waits_for_min_nodes_quickly(leak_proxy, tmp_path):
    """The AmlCompute.wait_for_completion trap (waits for min nodes, sleeping 5 s per poll) stays fast:
    no_compute_sleep caps the sleeps and nodes arrive after resize_seconds."""
    import time

    from azureml.core import Workspace
    from azureml.core.compute import AmlCompute, ComputeTarget

    from batchai_compat.testing import AzureMLEmulator

    from .conftest import RG, SUB, WS, assert_clean

    with AzureMLEmulator(workspaces=[(SUB, RG, WS)], root=str(tmp_path / "emu"), resize_seconds=0.3,
                         compute_operation_polls=2) as emu:
        ws = Workspace(SUB, RG, WS, auth=emu.auth())
        started = time.monotonic()
        ct = ComputeTarget.create(ws, "warm", AmlCompute.provisioning_configuration(min_nodes=2, max_nodes=3))
        ct.wait_for_completion(show_output=False)
        assert time.monotonic() - started < 5
        assert ct.status.current_node_count == 2 and ct.status.allocation_state == "Steady"
        assert emu.route_counts()["ARM GET compute operation"] == 3     # InProgress twice, then Succeeded
    assert_clean(emu, leak_proxy)
