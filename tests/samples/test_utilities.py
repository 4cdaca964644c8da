"""The samples' ``utilities`` package against the real local backend: the Range-request tail, the
status lines, the metric extractor and the job factory's substitution."""

from __future__ import annotations

import importlib
import re
import sys

import pytest
import requests

from .conftest import SAMPLES

RG, WS, EXP, ACCOUNT, SHARE = "rg", "ws", "exp", "batchaisample", "logs"


@pytest.fixture
def utils(monkeypatch, home):
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(home))
    monkeypatch.syspath_prepend(str(SAMPLES))
    for name in [m for m in sys.modules if m == "utilities" or m.startswith("utilities.")]:
        monkeypatch.delitem(sys.modules, name)
    return importlib.import_module("utilities")


@pytest.fixture
def client(utils, home):
    import batchai_compat as training
    import batchai_compat.models as models
    from batchai_compat.storage import FileService

    client = training.BatchAIManagementClient(object(), "00000000-0000-0000-0000-000000000000", home=str(home))
    client.workspaces.create(RG, WS, "eastus").result()
    client.experiments.create(RG, WS, EXP).result()
    FileService(ACCOUNT, "a2V5", home=str(home)).create_share(SHARE)
    client.clusters.create(RG, WS, "c", models.ClusterCreateParameters(
        vm_size="STANDARD_D1", scale_settings=models.ScaleSettings(
            manual=models.ManualScaleSettings(target_node_count=1)),
        user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="p"))).result()
    yield client
    client.workspaces.delete(RG, WS).result()


def _job(client, name, command):
    import batchai_compat.models as models

    cluster = client.clusters.get(RG, WS, "c")
    return client.jobs.create(RG, WS, EXP, name, models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1,
        mount_volumes=models.MountVolumes(azure_file_shares=[models.AzureFileShareReference(
            account_name=ACCOUNT, azure_file_url=f"https://{ACCOUNT}.file.core.windows.net/{SHARE}",
            credentials=models.AzureStorageCredentialsInfo(account_key="a2V5"), relative_mount_path="afs")]),
        std_out_err_path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/afs",
        custom_toolkit_settings=models.CustomToolkitSettings(command_line=command))).result()


@pytest.mark.spawns_processes
def test_wait_for_job_completion_tails_each_line_once(utils, client, capsys, monkeypatch):
    monkeypatch.setattr(utils.job, "TAIL_INTERVAL_SEC", 0.2)
    _job(client, "slow", "for i in 1 2 3 4 5 6; do echo line $i; sleep 0.25; done; echo 'accuracy 0.5'; "
                         "echo 'accuracy 0.75'")
    job = utils.job.wait_for_job_completion(client, RG, WS, EXP, "slow", "c", "stdouterr", "stdout.txt")
    out = capsys.readouterr().out
    assert job.execution_state == "succeeded"
    assert re.search(r"^Cluster state: steady Target: 1; Allocated: 1; ", out, re.M)
    assert out.rstrip().splitlines()[-1] == "Job state: succeeded ExitCode: 0"
    assert re.findall(r"^line (\d)$", out, re.M) == list("123456")  # each once, in order

    metric = utils.job.MetricExtractor("stdouterr", "stdout.txt", r"accuracy ([\d.]+)")
    assert metric.get_metric("slow", RG, WS, EXP, client) == 0.75
    metric.calculate_method = "mean"
    assert metric.get_metric("slow", RG, WS, EXP, client) == 0.625


@pytest.mark.spawns_processes
def test_download_urls_answer_range_requests(utils, client):
    import batchai_compat.models as models

    _job(client, "echo", "printf 0123456789")
    utils.job.wait_for_job_completion(client, RG, WS, EXP, "echo", "c")
    files = {f.name: f for f in client.jobs.list_output_files(
        RG, WS, EXP, "echo", models.JobsListOutputFilesOptions(outputdirectoryid="stdouterr"))}
    url = files["stdout.txt"].download_url
    assert requests.get(url).content == b"0123456789"
    partial = requests.get(url, headers={"Range": "bytes=4-"})
    assert partial.status_code == 206 and partial.content == b"456789"
    assert requests.get(url, headers={"Range": "bytes=10-"}).status_code // 100 != 2  # nothing new to tail


def test_job_factory_substitutes_every_combination(utils):
    from utilities.job_factory import DiscreteParamSpec, NumParamSpec, ParameterSweep

    import batchai_compat.models as models

    sweep = ParameterSweep([NumParamSpec("LR", "REAL", 0.01, 1.0, "LOG", num_values=3),
                            DiscreteParamSpec("EPOCHS", [1, 2])])
    template = models.JobCreateParameters(
        cluster=models.ResourceId(id="x"), node_count=1, std_out_err_path_prefix="/out",
        input_directories=[models.InputDirectory(id="D", path=f"/data/{sweep['EPOCHS']}")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line=f"train --lr {sweep['LR']} --epochs {sweep['EPOCHS']}"))
    jobs = sweep.generate_jobs(template)
    assert [j.custom_toolkit_settings.command_line for j in jobs] == [
        f"train --lr {lr} --epochs {e}" for lr in ("0.01", "0.1", "1.0") for e in (1, 2)]
    assert [j.input_directories[0].path for j in jobs] == ["/data/1", "/data/2"] * 3
    assert [(v.name, v.value) for v in jobs[0].environment_variables] == [("LR", "0.01"), ("EPOCHS", "1")]
    assert "{{" in template.custom_toolkit_settings.command_line  # the template itself is untouched
    assert len(sweep.generate_jobs_random_search(template, 4, seed=1)) == 4
    with pytest.raises(ValueError):
        DiscreteParamSpec("lower_case", [1])


def test_configuration_rejects_missing_keys(utils, tmp_path):
    (tmp_path / "c.json").write_text('{"subscription_id": "s"}')
    with pytest.raises(AttributeError, match='"aad_client_id"'):
        utils.config.Configuration(str(tmp_path / "c.json"))
    with pytest.raises(ValueError, match="Cannot find"):
        utils.config.Configuration(str(tmp_path / "missing.json"))
    cfg = utils.config.Configuration(str(SAMPLES / "seed_tensorflow_distributed" / "configuration.json"))
    assert cfg.storage_account_name == "batchaisample" and cfg.admin == "demoUser"
    utils.config.create_resource_group(cfg)  # the offline stand-in: no network
