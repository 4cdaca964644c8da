"""Behaviours 8-17 and 39 of ``docs/service-behaviour.md`` (g): clusters, nodes, setup task, scaling."""

from __future__ import annotations

import re

import pytest

import batchai_compat.models as models
from batchai_compat.exceptions import BatchAICompatWarning

from .helpers import IPV4, RG, WS, job_parameters, wait_for

HOST_JOB = "echo hello | tee $AZ_BATCHAI_OUTPUT_OUTPUTS/hi.txt"
HOST_OUTPUTS = {"OUTPUTS": {"hi.txt": "hello\n"}, "stdouterr": {"stdout.txt": "hello\n", "stderr.txt": ""}}


def assert_host_job_outputs(ctx, name):
    assert ctx.files(name, "OUTPUTS") == HOST_OUTPUTS["OUTPUTS"]
    assert ctx.files(name, "stdouterr") == HOST_OUTPUTS["stdouterr"]


def test_8_39_create_cluster(ctx):
    cluster = ctx.create_cluster(wait=False)
    assert cluster.name == "cluster" and cluster.errors is None and cluster.vm_size == "STANDARD_D1"
    assert cluster.type == "Microsoft.BatchAI/workspaces/clusters"
    assert [c.name for c in ctx.client.clusters.list_by_workspace(RG, WS)] == ["cluster"]
    image = cluster.virtual_machine_configuration.image_reference
    assert (image.publisher, image.offer, image.sku, image.version) == ("Canonical", "UbuntuServer", "16.04-LTS",
                                                                        "latest")
    assert cluster.user_account_settings.admin_user_name == "demoUser"
    assert cluster.user_account_settings.admin_user_password is None
    assert cluster.node_setup.mount_volumes.azure_file_shares[0].credentials.account_key is None
    assert cluster.vm_priority == "lowpriority"
    assert cluster.scale_settings.manual.node_deallocation_option == "requeue"
    counts = cluster.node_state_counts
    assert cluster.current_node_count == sum((counts.idle_node_count, counts.running_node_count,
                                              counts.preparing_node_count, counts.unusable_node_count,
                                              counts.leaving_node_count))


def test_9_10_nodes_become_idle_and_have_login_information(ctx):
    ctx.create_cluster(target=2, wait=False)
    ctx.wait_for_nodes("cluster", 2)
    logins = list(ctx.client.clusters.list_remote_login_information(RG, WS, "cluster"))
    assert len(logins) == 2
    for login in logins:
        assert IPV4.match(login.ip_address) and login.node_id and login.port > 0
        assert re.match(r"^tvm-\d+_\d+-\d{8}t\d{6}z-p$", login.node_id)  # -p: a low-priority node
    assert len({x.ip_address for x in logins}) == 2 and len({x.node_id for x in logins}) == 2


def test_11_host_job(ctx):
    cluster = ctx.create_cluster()
    job = ctx.run_job("job", job_parameters(cluster.id, HOST_JOB))
    assert job.execution_state == "succeeded"
    assert_host_job_outputs(ctx, "job")


def test_12_container_job_runs_on_the_host_with_one_warning(ctx):
    cluster = ctx.create_cluster()
    with pytest.warns(BatchAICompatWarning) as record:
        ctx.create_job("container_job", job_parameters(cluster.id, HOST_JOB, image="ubuntu"))
    ours = [w for w in record if issubclass(w.category, BatchAICompatWarning)]
    assert len(ours) == 1 and "ubuntu" in str(ours[0].message)
    assert ctx.wait_for_job("container_job").execution_state == "succeeded"
    assert_host_job_outputs(ctx, "container_job")
    job = ctx.get_job("container_job")
    assert job.container_settings.image_source_registry.image == "ubuntu"


def test_13_delete_cluster(ctx):
    ctx.create_cluster()
    ctx.client.clusters.delete(RG, WS, "cluster").result()
    assert list(ctx.client.clusters.list_by_workspace(RG, WS)) == []


def test_14_setup_task(ctx):
    task = models.SetupTask(command_line="echo $GREETING $SECRET_GREETING",
                            environment_variables=[models.EnvironmentVariable(name="GREETING", value="setup task")],
                            secrets=[models.EnvironmentVariableWithSecretValue(name="SECRET_GREETING",
                                                                               value="has a secret")],
                            std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles")
    cluster = ctx.create_cluster(setup_task=task, wait=False)
    secrets = cluster.node_setup.setup_task.secrets
    assert [(s.name, s.value) for s in secrets] == [("SECRET_GREETING", None)]
    suffix = cluster.node_setup.setup_task.std_out_err_path_suffix
    assert suffix
    ctx.wait_for_nodes("cluster", 1)
    (node_id,) = ctx.node_ids()
    out_dir = ctx.share_dir() / suffix
    assert (out_dir / f"stdout-{node_id}.txt").read_text() == "setup task has a secret\n"
    assert (out_dir / f"stderr-{node_id}.txt").read_text() == ""


def test_failing_setup_task_makes_the_node_unusable(ctx):
    task = models.SetupTask(command_line="exit 3", std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles")
    ctx.create_cluster(setup_task=task, wait=False)
    cluster = wait_for(lambda: (lambda c: c if c.node_state_counts.unusable_node_count == 1 else None)(
        ctx.client.clusters.get(RG, WS, "cluster")), message="unusable node")
    assert cluster.allocation_state == "steady"
    assert len(cluster.errors) == 1 and "exit code 3" in cluster.errors[0].message


def test_resizing_is_visible_while_nodes_prepare(ctx):
    task = models.SetupTask(command_line="sleep 0.5", std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles")
    cluster = ctx.create_cluster(setup_task=task, wait=False)
    assert cluster.allocation_state == "resizing"
    assert cluster.node_state_counts.preparing_node_count == 1
    ctx.wait_for_nodes("cluster", 1)


def _manual(target, option="requeue"):
    return models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=target,
                                                                  node_deallocation_option=option))


def test_15_16_resize_down_and_up(ctx):
    cluster = ctx.create_cluster()
    updated = ctx.client.clusters.update(RG, WS, "cluster", scale_settings=_manual(0))
    assert isinstance(updated, models.Cluster)
    assert updated.allocation_state == "resizing" and updated.node_state_counts.leaving_node_count == 1
    ctx.wait_for_nodes("cluster", 0)
    assert list(ctx.client.clusters.list_remote_login_information(RG, WS, "cluster")) == []
    assert ctx.client.clusters.get(RG, WS, "cluster").current_node_count == 0
    ctx.client.clusters.update(RG, WS, "cluster", scale_settings=_manual(1))
    ctx.wait_for_nodes("cluster", 1)
    assert len(list(ctx.client.clusters.list_remote_login_information(RG, WS, "cluster"))) == 1
    assert ctx.run_job("job", job_parameters(cluster.id, HOST_JOB)).execution_state == "succeeded"
    assert_host_job_outputs(ctx, "job")


def test_17_auto_scale(ctx):
    cluster = ctx.create_cluster(target=0)
    auto = models.ScaleSettings(auto_scale=models.AutoScaleSettings(minimum_node_count=0, maximum_node_count=1))
    updated = ctx.client.clusters.update(RG, WS, "cluster", scale_settings=auto)
    assert updated.scale_settings.auto_scale.initial_node_count == 0
    assert updated.scale_settings.manual is None
    job = ctx.create_job("job", job_parameters(cluster.id, HOST_JOB))
    assert job.execution_state == "queued" or job.execution_state in ("running", "succeeded")
    assert ctx.wait_for_job("job").execution_state == "succeeded"
    assert_host_job_outputs(ctx, "job")
    ctx.wait_for_nodes("cluster", 0, timeout=30)
    assert ctx.client.clusters.get(RG, WS, "cluster").current_node_count == 0


def test_auto_scale_grows_to_the_maximum_only(ctx):
    auto = models.ScaleSettings(auto_scale=models.AutoScaleSettings(minimum_node_count=1, maximum_node_count=2,
                                                                    initial_node_count=1))
    cluster = ctx.create_cluster(scale=auto, wait=False)
    assert cluster.current_node_count == 1
    for i in range(3):
        ctx.create_job(f"j{i}", job_parameters(cluster.id, "sleep 1"))
    peak = wait_for(lambda: (lambda c: c if c.node_state_counts.running_node_count == 2 else None)(
        ctx.client.clusters.get(RG, WS, "cluster")), message="two running nodes")
    assert peak.current_node_count == 2
    for i in range(3):
        assert ctx.wait_for_job(f"j{i}").execution_state == "succeeded"
    ctx.wait_for_nodes("cluster", 1, timeout=30)  # back to the minimum


def test_scale_down_requeue_reruns_the_job(ctx):
    cluster = ctx.create_cluster()
    ctx.create_job("job", job_parameters(cluster.id, "sleep 600"))
    ctx.wait_for_state("job", "running")
    ctx.client.clusters.update(RG, WS, "cluster", scale_settings=_manual(0, "requeue"))
    job = ctx.get_job("job")
    assert job.execution_state == "queued" and job.execution_info is None
    ctx.wait_for_nodes("cluster", 0)
    ctx.client.clusters.update(RG, WS, "cluster", scale_settings=_manual(1))
    ctx.wait_for_state("job", "running")


def test_scale_down_terminate_fails_the_job(ctx):
    cluster = ctx.create_cluster()
    ctx.create_job("job", job_parameters(cluster.id, "sleep 600"))
    ctx.wait_for_state("job", "running")
    ctx.client.clusters.update(RG, WS, "cluster", scale_settings=_manual(0, "terminate"))
    job = ctx.get_job("job")
    assert job.execution_state == "failed" and job.execution_info.exit_code is None
    assert [e.code for e in job.execution_info.errors] == ["JobTerminated"]
    ctx.wait_for_nodes("cluster", 0)


def test_scale_down_waitforjobcompletion_lets_the_job_finish(ctx):
    cluster = ctx.create_cluster()
    ctx.create_job("job", job_parameters(cluster.id, "sleep 1; echo finished"))
    ctx.wait_for_state("job", "running")
    updated = ctx.client.clusters.update(RG, WS, "cluster", scale_settings=_manual(0, "waitforjobcompletion"))
    assert updated.node_state_counts.leaving_node_count == 1 and updated.allocation_state == "resizing"
    assert ctx.wait_for_job("job").execution_state == "succeeded"
    assert ctx.files("job", "stdouterr")["stdout.txt"] == "finished\n"
    ctx.wait_for_nodes("cluster", 0)
