"""HTTP requests per Batch AI operation: the shim vs hand-written azureml-core doing the same thing.

Both scenarios run against their own fresh emulator; every step's requests are counted from the
emulator's log. The table is printed (``pytest -s``) and written to ``$BATCHAI_COMPAT_REQUEST_TABLE``
when set. The shim may not need more requests than hand-written code, except where it does more
(documented per step in ``EXTRA``).
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from typing import Dict, Iterator, List, Tuple

import pytest

import batchai_compat.models as models

from .conftest import RG, SUB, WS

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]

EXP, CLUSTER, COMPUTE = "exp", "cluster", "cluster"
COMMAND = "echo hello > $AZ_BATCHAI_OUTPUT_OUTPUTS/out.txt; sleep 0.3"
# Steps where the shim needs more than hand-written code holding live objects, and why (allowed extra).
EXTRA = {
    "jobs.create": (2, "POST runs:query: an earlier run of the job makes the create idempotent (ARM PUT); the same "
                       "query reports a missing experiment. GET vmSizes (once per workspace and location in a "
                       "process): AZ_BATCHAI_NUM_GPUS is Azure ML's GPU count for the VM size"),
    "jobs.list_output_files": (1, "POST runs:query to find the job's run by name (hand-written code holds the Run)"),
    "jobs.terminate (+wait)": (1, "POST runs:query to find the run"),
    "jobs.delete": (1, "POST runs:query to find the run"),
}
# Status polls: their number depends on timing, not on the code.
POLL_ROUTES = ("HIST GET run", "ARM GET compute operation")


class Counter:
    def __init__(self, emu) -> None:
        self.emu = emu
        self.rows: List[Tuple[str, int, Dict[str, int]]] = []

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        mark = self.emu.mark()
        yield
        records = self.emu.requests_since(mark)
        self.rows.append((name, len(records), self.emu.route_counts(records)))

    def counts(self) -> Dict[str, int]:
        return {name: n for name, n, _ in self.rows}

    def routes(self) -> Dict[str, Dict[str, int]]:
        return {name: r for name, _n, r in self.rows}


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def shim_scenario(emu, tmp_path) -> Counter:
    from batchai_compat import BatchAIManagementClient

    c = Counter(emu)
    client = BatchAIManagementClient(object(), SUB, backend="azureml", auth=emu.auth())
    warnings.simplefilter("ignore")
    with c.step("workspaces.get"):
        client.workspaces.get(RG, WS)
    with c.step("clusters.create (+wait)"):
        params = models.ClusterCreateParameters(vm_size="STANDARD_D1_V2", scale_settings=models.ScaleSettings(
            auto_scale=models.AutoScaleSettings(minimum_node_count=0, maximum_node_count=2)),
            user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="Pa$$w0rd-1"))
        client.clusters.create(RG, WS, CLUSTER, params).result()
    with c.step("clusters.get"):
        client.clusters.get(RG, WS, CLUSTER)
    with c.step("clusters.update"):
        client.clusters.update(RG, WS, CLUSTER, scale_settings=models.ScaleSettings(
            auto_scale=models.AutoScaleSettings(minimum_node_count=0, maximum_node_count=3)))
    with c.step("clusters.list_by_workspace"):
        list(client.clusters.list_by_workspace(RG, WS))
    with c.step("clusters.list_remote_login_information"):
        list(client.clusters.list_remote_login_information(RG, WS, CLUSTER))
    with c.step("usages.list"):
        list(client.usages.list("northeurope"))
    with c.step("experiments.create"):
        client.experiments.create(RG, WS, EXP).result()
    with c.step("experiments.get"):
        client.experiments.get(RG, WS, EXP)
    with c.step("experiments.list_by_workspace"):
        list(client.experiments.list_by_workspace(RG, WS))
    cluster = client.clusters.get(RG, WS, CLUSTER)
    job = models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster.id), node_count=1, std_out_err_path_prefix="/x",
        output_directories=[models.OutputDirectory(id="OUTPUTS", path_prefix="/x")],
        container_settings=models.ContainerSettings(image_source_registry=models.ImageSourceRegistry(image="ubuntu")),
        custom_toolkit_settings=models.CustomToolkitSettings(command_line=COMMAND))
    with c.step("jobs.create"):
        client.jobs.create(RG, WS, EXP, "job", job).result()
    with c.step("jobs.get"):
        client.jobs.get(RG, WS, EXP, "job")
    _wait(lambda: client.jobs.get(RG, WS, EXP, "job").execution_state == "succeeded")
    with c.step("jobs.list_by_experiment"):
        list(client.jobs.list_by_experiment(RG, WS, EXP))
    with c.step("jobs.list_output_files"):
        found = list(client.jobs.list_output_files(RG, WS, EXP, "job", models.JobsListOutputFilesOptions(
            outputdirectoryid="OUTPUTS")))
    assert [f.name for f in found] == ["out.txt"] and found[0].content_length == 6
    job.custom_toolkit_settings.command_line = "sleep 60"
    client.jobs.create(RG, WS, EXP, "long", job).result()
    _wait(lambda: client.jobs.get(RG, WS, EXP, "long").execution_state == "running")
    with c.step("jobs.terminate (+wait)"):
        client.jobs.terminate(RG, WS, EXP, "long").result()
    with c.step("jobs.delete"):
        client.jobs.delete(RG, WS, EXP, "long").result()
    with c.step("clusters.delete (+wait)"):
        client.clusters.delete(RG, WS, CLUSTER).result()
    return c


def handwritten_scenario(emu, tmp_path) -> Counter:
    """What a user would write with azureml-core directly for the same steps."""
    from azureml.core import Environment, Experiment, Run, ScriptRunConfig, Workspace
    from azureml.core.compute import AmlCompute, ComputeTarget

    c = Counter(emu)
    with c.step("workspaces.get"):
        ws = Workspace(SUB, RG, WS, auth=emu.auth())
    with c.step("clusters.create (+wait)"):
        ct = ComputeTarget.create(ws, COMPUTE, AmlCompute.provisioning_configuration(
            vm_size="STANDARD_D1_V2", min_nodes=0, max_nodes=2, admin_username="u", admin_user_password="Pa$$w0rd-1",
            remote_login_port_public_access="Enabled"))
        ComputeTarget.wait_for_completion(ct, show_output=False)
    with c.step("clusters.get"):
        ct = AmlCompute(ws, COMPUTE)
    with c.step("clusters.update"):
        ct.update(min_nodes=0, max_nodes=3)
    with c.step("clusters.list_by_workspace"):
        ComputeTarget.list(ws)
    with c.step("clusters.list_remote_login_information"):
        ct.list_nodes()
    with c.step("usages.list"):
        AmlCompute.list_usages(ws, location="northeurope")
    with c.step("experiments.create"):
        exp = Experiment(ws, EXP)
    with c.step("experiments.get"):
        Experiment.list(ws, experiment_name=EXP)
    with c.step("experiments.list_by_workspace"):
        Experiment.list(ws)
    src = tmp_path / "src"
    src.mkdir(parents=True)
    (src / "run.sh").write_text("mkdir -p outputs; echo hello > outputs/out.txt; sleep 0.3\n")
    env = Environment.from_docker_image("env", "ubuntu")
    env._environment_variables = {}
    config = ScriptRunConfig(source_directory=str(src), command="sh run.sh", compute_target=COMPUTE,
                             environment=env)
    with c.step("jobs.create"):
        run = exp.submit(config, tags={"batchai.job_name": "job"})  # to find it by name later
    with c.step("jobs.get"):
        run = Run.get(ws, run.id)
    run.wait_for_completion(show_output=False)
    with c.step("jobs.list_by_experiment"):
        list(Run.list(exp, tags="batchai.job_name"))
    with c.step("jobs.list_output_files"):
        pairs = run._client.artifacts.get_files_by_artifact_prefix_id(f"ExperimentRun/{run._container}/outputs/")
        import requests

        for _path, url in pairs:
            requests.head(url, timeout=10)  # the size, which Batch AI's File carries
    config = ScriptRunConfig(source_directory=str(src), command="sleep 60", compute_target=COMPUTE, environment=env)
    long_run = exp.submit(config)
    _wait(lambda: long_run.get_status() == "Running")
    with c.step("jobs.terminate (+wait)"):
        long_run.cancel()
        _wait(lambda: long_run.get_status() in ("Canceled", "Failed", "Completed"))
    with c.step("jobs.delete"):
        long_run.set_tags({"batchai.deleted": "true"})
    with c.step("clusters.delete (+wait)"):
        ct.delete()
        ct.wait_for_completion(show_output=False, is_delete_operation=True)
    return c


def table(shim: Counter, hand: Counter) -> str:
    hand_counts, hand_routes = hand.counts(), hand.routes()
    lines = ["| operation | shim | hand-written | shim routes |", "|---|---|---|---|"]
    for name, n, routes in shim.rows:
        detail = ", ".join(f"{k}×{v}" if v > 1 else k for k, v in routes.items())
        lines.append(f"| {name} | {n} | {hand_counts.get(name, '-')} | {detail} |")
    lines.append("")
    lines.append("hand-written routes: " + "; ".join(
        f"{name}: " + ", ".join(f"{k}×{v}" if v > 1 else k for k, v in r.items()) for name, r in hand_routes.items()))
    return "\n".join(lines)


def test_shim_needs_no_more_requests_than_handwritten_code(leak_proxy, tmp_path):
    from batchai_compat.testing import AzureMLEmulator

    counters = {}
    for kind, scenario in (("shim", shim_scenario), ("hand", handwritten_scenario)):
        emu = AzureMLEmulator(workspaces=[(SUB, RG, WS, "northeurope")], root=str(tmp_path / kind))
        with emu, warnings.catch_warnings():
            counters[kind] = scenario(emu, tmp_path / (kind + "-work"))
        assert emu.unrouted == [] and emu.errors == []
    assert leak_proxy.seen == []
    text = table(counters["shim"], counters["hand"])
    print("\n" + text)
    out = os.environ.get("BATCHAI_COMPAT_REQUEST_TABLE")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    hand_rows = {name: (n, routes) for name, n, routes in counters["hand"].rows}
    for name, n, routes in counters["shim"].rows:
        hand_n, hand_routes = hand_rows[name]
        polls = sum(routes.get(r, 0) for r in POLL_ROUTES)
        hand_polls = sum(hand_routes.get(r, 0) for r in POLL_ROUTES)
        allowed = EXTRA.get(name, (0, ""))[0]
        assert n - polls <= hand_n - hand_polls + allowed, f"{name}: shim {n}, hand-written {hand_n}\n{text}"
