"""The full scenario with the original azure-mgmt-batchai 7.0.0 (api-version 2018-05-01, azure-core "track 2"),
unmodified and only configured: ``base_url`` is the gateway over https (azure-core's
``BearerTokenCredentialPolicy`` refuses to send a token over plain http), ``connection_verify`` the gateway's
self-signed CA certificate, the credential a minimal ``TokenCredential`` (``get_token`` returning the gateway's
token: azure-identity is not needed for that), ``polling_interval`` the client's own poll delay when a response
has no ``Retry-After``. 7.0.0's long-running operations are the ``begin_*`` methods.

Run by test_original_clients.py with .tools/oracles/7.0.0's Python; configuration in ``GATEWAY_SCENARIO`` (see
_scenario.py).
"""

from __future__ import annotations

import time
from typing import Any

import azure.mgmt.batchai as batchai
import azure.mgmt.batchai.models as models
from _scenario import (
    FAIL_COMMAND,
    FAIL_EXIT_CODE,
    JOB_COMMAND,
    LONG_COMMAND,
    PREP_TEXT,
    STDOUT_TEXT,
    Steps,
    check,
    check_download,
    config,
    expect_401,
    expect_404,
    http_get,
    value,
    wait_for,
)
from _scenario_2018 import Scenario2018
from azure.core.credentials import AccessToken
from azure.mgmt.batchai import BatchAI
from azure.mgmt.batchai._version import VERSION


class GatewayToken:
    """A ``TokenCredential``: the gateway's bearer token, valid for an hour from now."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


cfg = config()
TIMEOUT = float(cfg.get("timeout", 120))
RG, WS, EXP, CLUSTER = cfg["resource_group"], "gwws", "gwexp", "gwcluster"
CAFILE = cfg["cafile"]
steps = Steps(f"azure-mgmt-batchai {VERSION}", batchai.__file__)

client = BatchAI(GatewayToken(cfg["token"]), cfg["subscription"], base_url=cfg["url"], connection_verify=CAFILE,
                 polling_interval=0.2)


scenario = Scenario2018(models, client, cfg, RG, WS, EXP, CLUSTER)


intruder = BatchAI(GatewayToken("wrong-" + cfg["token"]), cfg["subscription"], base_url=cfg["url"],
                   connection_verify=CAFILE)
steps.run("wrong token (401 AuthenticationFailed)", lambda: expect_401(lambda: intruder.workspaces.get(RG, WS)))
steps.run("operations.list", lambda: check(len(list(client.operations.list())) > 0, "no provider operations"))
steps.run("usages.list", lambda: check(len(list(client.usages.list(cfg["location"]))) > 0, "no usages"))
workspace = steps.run("workspaces.create", lambda: client.workspaces.begin_create(
    RG, WS, models.WorkspaceCreateParameters(location=cfg["location"])).result())
check(workspace.provisioning_state == "succeeded", f"workspace {workspace.provisioning_state}")
steps.run("workspaces.get", lambda: check(client.workspaces.get(RG, WS).name == WS, "workspace name"))
steps.run("experiments.create", lambda: client.experiments.begin_create(RG, WS, EXP).result())
cluster = steps.run("clusters.create", lambda: client.clusters.begin_create(
    RG, WS, CLUSTER, scenario.cluster_parameters()).result())
check(cluster.provisioning_state == "succeeded", f"cluster {cluster.provisioning_state}")
steps.run("clusters.get (one idle node)", lambda: wait_for(
    lambda: client.clusters.get(RG, WS, CLUSTER).node_state_counts.idle_node_count == 1, "an idle node", TIMEOUT))
steps.run("clusters.list_by_workspace", lambda: check(
    [c.name for c in client.clusters.list_by_workspace(RG, WS)] == [CLUSTER], "cluster listing"))
logins = steps.run("clusters.list_remote_login_information", lambda: list(
    client.clusters.list_remote_login_information(RG, WS, CLUSTER)))
check(len(logins) == 1 and logins[0].ip_address and logins[0].port, "one node to log in to")

steps.run("jobs.create", lambda: client.jobs.begin_create(RG, WS, EXP, "job1",
                                                    scenario.job_parameters(cluster.id, JOB_COMMAND, True)).result())
steps.run("jobs.get (until succeeded)", lambda: wait_for(
    lambda: scenario.job_state("job1") in ("succeeded", "failed"), "job1 to finish", TIMEOUT))
job = client.jobs.get(RG, WS, EXP, "job1")
check(job.execution_state == "succeeded", f"job1 {job.execution_state}: {job.execution_info}")
check(job.execution_info.exit_code == 0, f"job1 exit code {job.execution_info.exit_code}")
steps.run("jobs.list_by_experiment", lambda: check(
    [j.name for j in client.jobs.list_by_experiment(RG, WS, EXP)] == ["job1"], "job listing"))

outputs = steps.run("jobs.list_output_files OUTPUTS (1 per page)", lambda: scenario.output_files("job1", "OUTPUTS", 1))
check({"prep.txt", "result.txt"} <= set(outputs), f"OUTPUTS holds {sorted(outputs)}")
steps.run("download result.txt (Range bytes=0-4)", lambda: check_download(outputs["result.txt"].download_url, CAFILE))
steps.run("download prep.txt", lambda: check(
    http_get(outputs["prep.txt"].download_url, CAFILE)[2].decode().strip() == PREP_TEXT, "job preparation output"))
models_dir = steps.run("jobs.list_output_files MODELS", lambda: scenario.output_files("job1", "MODELS"))
check("model.bin" in models_dir, f"MODELS holds {sorted(models_dir)}")
logs = steps.run("jobs.list_output_files stdouterr", lambda: scenario.output_files("job1", "stdouterr"))
check(STDOUT_TEXT in http_get(logs["stdout.txt"].download_url, CAFILE)[2].decode(), "stdout.txt")

steps.run("jobs.create (failing)", lambda: client.jobs.begin_create(
    RG, WS, EXP, "job3", scenario.job_parameters(cluster.id, FAIL_COMMAND, False)).result())
steps.run("jobs.get (until failed)", lambda: wait_for(lambda: scenario.job_state("job3") in ("succeeded", "failed"),
                                                      "job3 to finish", TIMEOUT))
failed = client.jobs.get(RG, WS, EXP, "job3")
check(value(failed.execution_state) == "failed", f"job3 {failed.execution_state}")
check(failed.execution_info.exit_code == FAIL_EXIT_CODE, f"job3 exit code {failed.execution_info.exit_code}")
check([e.code for e in failed.execution_info.errors] == ["JobFailed"], "JobFailed error")

steps.run("jobs.create (long running)", lambda: client.jobs.begin_create(
    RG, WS, EXP, "job2", scenario.job_parameters(cluster.id, LONG_COMMAND, False)).result())
steps.run("jobs.get (until running)", lambda: wait_for(lambda: scenario.job_state("job2") == "running", "job2 to run",
                                                       TIMEOUT))
steps.run("jobs.terminate", lambda: client.jobs.begin_terminate(RG, WS, EXP, "job2").result())
terminated = client.jobs.get(RG, WS, EXP, "job2")
check(terminated.execution_state == "failed", f"terminated job2 is {terminated.execution_state}")
check([e.code for e in terminated.execution_info.errors] == ["JobTerminated"], "JobTerminated error")

resized = steps.run("clusters.update (scale to 0)", lambda: client.clusters.update(
    RG, WS, CLUSTER, models.ClusterUpdateParameters(scale_settings=scenario.to_zero())))
check(resized.scale_settings.manual.target_node_count == 0, "the update's answer keeps the new target")
steps.run("clusters.get (until 0 nodes)",
          lambda: wait_for(scenario.cluster_shrunk, "the cluster to shrink to 0 nodes", TIMEOUT))

for name in ("job1", "job2", "job3"):
    steps.run(f"jobs.delete {name}", lambda name=name: client.jobs.begin_delete(RG, WS, EXP, name).result())
    expect_404(lambda name=name: client.jobs.get(RG, WS, EXP, name), f"job {name}", "JobNotFound")
steps.run("experiments.delete", lambda: client.experiments.begin_delete(RG, WS, EXP).result())
expect_404(lambda: client.experiments.get(RG, WS, EXP), "experiment", "ExperimentNotFound")
steps.run("clusters.delete", lambda: client.clusters.begin_delete(RG, WS, CLUSTER).result())
expect_404(lambda: client.clusters.get(RG, WS, CLUSTER), "cluster", "ClusterNotFound")
steps.run("workspaces.delete", lambda: client.workspaces.begin_delete(RG, WS).result())
expect_404(lambda: client.workspaces.get(RG, WS), "workspace", "WorkspaceNotFound")
steps.passed()
