"""Verify a real Azure ML workspace with the azureml backend: ``python -m batchai_compat.testing.azure_smoke
--subscription SUB --resource-group RG --workspace WS``.

Runs, through the Batch AI API of batchai_compat (``backend="azureml"``), what a Batch AI user's first jobs
look like, and prints each step with its time and a verdict:

1. the workspace and an experiment (``batchai-smoke``);
2. a compute cluster (auto-scale 0–2 nodes, ``--vm-size``, default ``STANDARD_DS3_V2``);
3. a one-node job on ``tensorflow/tensorflow:1.8.0-gpu`` (Python 2.7 only: the node side runs under the
   Python the environment copies in) whose command reports the image's Python;
4. a two-node TensorFlow parameter-server job on the same image (one ps, two workers, on both nodes; no MPI
   and no ssh in that image): each role reports its task index and the cluster's hosts;
5. a two-node custom MPI job on the Azure ML Open MPI base image: ``mpirun`` over the job's host file;
6. cleanup: the jobs, the experiment and the cluster are deleted (``--keep`` leaves them).

Credentials: an azure-identity ``DefaultAzureCredential`` when azure-identity is installed, else the Azure
CLI login (``az login``). The backend options (``auth=``, ``workspace_map=``...) of
:func:`main`'s keyword arguments are passed to ``BatchAIManagementClient`` as they are, which is how the test
suite points it at the emulator (``auth=AzureMLEmulator.auth()``); nothing else differs from a real run.
Exit status 0 when every step passed, 1 otherwise. The first run builds two images on the workspace's
container registry (about 10–20 minutes); later runs reuse them.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

EXPERIMENT = "batchai-smoke"
TF_IMAGE = "tensorflow/tensorflow:1.8.0-gpu"
MPI_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
FINAL = ("succeeded", "failed")


class Smoke:
    def __init__(self, client: Any, resource_group: str, workspace: str, cluster: str, vm_size: str,
                 timeout: float, out: Any) -> None:
        self.client, self.rg, self.ws, self.cluster_name = client, resource_group, workspace, cluster
        self.vm_size, self.timeout, self.out = vm_size, timeout, out
        self.started = time.monotonic()
        self.results: List[Tuple[str, bool, str]] = []
        self.cluster: Any = None

    # -- reporting ----------------------------------------------------------------------------------
    def step(self, name: str, action: Callable[[], str]) -> bool:
        begin = time.monotonic()
        self._print(f"[{begin - self.started:7.1f}s] {name} ...")
        try:
            detail = action() or ""
            ok = True
        except Exception as exc:  # every failure is a verdict, not a crash
            detail, ok = f"{type(exc).__name__}: {exc}", False
        took = time.monotonic() - begin
        self.results.append((name, ok, detail))
        self._print(f"[{time.monotonic() - self.started:7.1f}s]   {'ok' if ok else 'FAILED'} ({took:.1f}s)"
                    + (f": {detail}" if detail else ""))
        return ok

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # -- the steps ------------------------------------------------------------------------------------
    def workspace(self) -> str:
        ws = self.client.workspaces.get(self.rg, self.ws)
        self.client.experiments.create(self.rg, self.ws, EXPERIMENT).result()
        return f"workspace {ws.name}, experiment {EXPERIMENT}"

    def create_cluster(self) -> str:
        import batchai_compat.models as models

        params = models.ClusterCreateParameters(
            vm_size=self.vm_size, vm_priority="dedicated",
            scale_settings=models.ScaleSettings(auto_scale=models.AutoScaleSettings(
                minimum_node_count=0, maximum_node_count=2)),
            user_account_settings=models.UserAccountSettings(admin_user_name="batchaismoke",
                                                             admin_user_password=_password()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.cluster = self.client.clusters.create(self.rg, self.ws, self.cluster_name, params).result()
        return f"cluster {self.cluster.name} ({self.vm_size}, 0-2 nodes)"

    def _job(self, name: str, node_count: int, image: str, **toolkit: Any) -> Dict[str, str]:
        import batchai_compat.models as models

        params = models.JobCreateParameters(
            cluster=models.ResourceId(id=self.cluster.id), node_count=node_count,
            std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/smoke",
            container_settings=models.ContainerSettings(image_source_registry=models.ImageSourceRegistry(image=image)),
            **toolkit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.client.jobs.create(self.rg, self.ws, EXPERIMENT, name, params).result()
        deadline = time.monotonic() + self.timeout
        while True:
            job = self.client.jobs.get(self.rg, self.ws, EXPERIMENT, name)
            if job.execution_state in FINAL:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {name} still {job.execution_state} after {self.timeout:.0f}s")
            time.sleep(min(10.0, max(0.2, self.timeout / 600)))
        texts = _stdouterr(self.client, self.rg, self.ws, name)
        if job.execution_state != "succeeded":
            errors = [f"{e.code}: {e.message}" for e in (job.execution_info.errors or [])] if job.execution_info \
                else []
            raise AssertionError(f"job {name} {job.execution_state}: {errors}; stderr: "
                                 + " | ".join(v.strip()[-300:] for k, v in texts.items() if k.startswith("stderr")))
        return texts

    def one_node(self) -> str:
        import batchai_compat.models as models

        texts = self._job("smoke-one-node", 1, TF_IMAGE, custom_toolkit_settings=models.CustomToolkitSettings(
            command_line="python --version 2>&1; echo smoke-ok"))
        out = texts.get("stdout.txt", "")
        _expect("smoke-ok" in out, f"stdout.txt lacks the marker: {out!r}")
        return " ".join(out.split())[:120]

    def tensorflow(self) -> str:
        import batchai_compat.models as models

        role = "'echo {} task=$AZ_BATCHAI_TASK_INDEX ps=$AZ_BATCHAI_PS_HOSTS workers=$AZ_BATCHAI_WORKER_HOSTS'"
        texts = self._job("smoke-tensorflow", 2, TF_IMAGE, tensor_flow_settings=models.TensorFlowSettings(
            parameter_server_count=1, worker_count=2, python_interpreter_path="/bin/sh",
            python_script_file_path="-c", master_command_line_args=role.format("worker"),
            worker_command_line_args=role.format("worker"),
            parameter_server_command_line_args="'echo ps task=$AZ_BATCHAI_TASK_INDEX; sleep 600'"))
        w0, w1 = texts.get("stdout-wk-0.txt", ""), texts.get("stdout-wk-1.txt", "")
        _expect("worker task=0" in w0 and "worker task=1" in w1, f"worker outputs: {w0!r} {w1!r}")
        hosts = {h.rsplit(":", 1)[0] for h in w0.split("workers=")[-1].split()[0].split(",")} if "workers=" in w0 \
            else set()
        _expect(len(hosts) == 2, f"the workers are not on two nodes: {w0!r}")
        return f"workers on {', '.join(sorted(hosts))}"

    def mpi(self) -> str:
        import batchai_compat.models as models

        texts = self._job("smoke-mpi", 2, MPI_IMAGE, custom_mpi_settings=models.CustomMpiSettings(
            command_line="echo rank=$OMPI_COMM_WORLD_RANK size=$OMPI_COMM_WORLD_SIZE node=$AZ_BATCHAI_NODE_ID",
            process_count=2))
        out = texts.get("stdout.txt", "")
        _expect(out.count("rank=") == 2 and "size=2" in out, f"stdout.txt: {out!r}")
        return f"{out.count('rank=')} ranks"

    def cleanup(self) -> str:
        done = []
        for name in ("smoke-one-node", "smoke-tensorflow", "smoke-mpi"):
            try:
                self.client.jobs.delete(self.rg, self.ws, EXPERIMENT, name).result()
                done.append(name)
            except Exception:  # a job that was never created
                pass
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.client.experiments.delete(self.rg, self.ws, EXPERIMENT).result()
            except Exception:
                pass
            if self.cluster is not None:
                self.client.clusters.delete(self.rg, self.ws, self.cluster_name).result()
                done.append("cluster " + self.cluster_name)
        return "deleted " + ", ".join(done)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _password() -> str:
    import secrets

    return "Sm0ke-" + secrets.token_urlsafe(18)


def _stdouterr(client: Any, rg: str, ws: str, job: str) -> Dict[str, str]:
    import urllib.request

    import batchai_compat.models as models

    texts = {}
    options = models.JobsListOutputFilesOptions(outputdirectoryid="stdouterr")
    for f in client.jobs.list_output_files(rg, ws, EXPERIMENT, job, options):
        if f.file_type == "file" and f.download_url:
            with urllib.request.urlopen(f.download_url, timeout=60) as response:
                texts[f.name] = response.read().decode("utf-8", "replace")
    return texts


class _ByAuthOption:
    """Stands for the client's credentials when the backend's ``auth=`` option authenticates."""


def _credentials(backend_options: Dict[str, Any]) -> Any:
    """azure-identity's ``DefaultAzureCredential`` if installed, else the Azure CLI login (``auth=``)."""
    if "credentials" in backend_options:
        return backend_options.pop("credentials")
    if "auth" in backend_options:
        return _ByAuthOption()
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        from azureml.core.authentication import AzureCliAuthentication

        backend_options["auth"] = AzureCliAuthentication()
        return _ByAuthOption()
    return DefaultAzureCredential()


def main(argv: Optional[List[str]] = None, out: Any = None, **backend_options: Any) -> int:
    parser = argparse.ArgumentParser(prog="python -m batchai_compat.testing.azure_smoke",
                                     description="Run Batch AI-style jobs on an Azure ML workspace and report.")
    parser.add_argument("--subscription", required=True)
    parser.add_argument("--resource-group", required=True)
    parser.add_argument("--workspace", required=True, help="the Azure ML workspace")
    parser.add_argument("--cluster", default="batchai-smoke", help="compute cluster to create (and delete)")
    parser.add_argument("--vm-size", default="STANDARD_DS3_V2")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for each job")
    parser.add_argument("--keep", action="store_true", help="do not delete the jobs, experiment and cluster")
    args = parser.parse_args(argv)
    out = out or sys.stdout

    from batchai_compat import BatchAIManagementClient

    credentials = _credentials(backend_options)
    client = BatchAIManagementClient(credentials, args.subscription, backend="azureml", **backend_options)
    smoke = Smoke(client, args.resource_group, args.workspace, args.cluster, args.vm_size, args.timeout, out)
    try:
        if smoke.step("workspace and experiment", smoke.workspace) and \
                smoke.step("create the cluster", smoke.create_cluster):
            smoke.step(f"one-node job on {TF_IMAGE}", smoke.one_node)
            smoke.step(f"two-node TensorFlow ps/worker job on {TF_IMAGE}", smoke.tensorflow)
            smoke.step(f"two-node custom MPI job on {MPI_IMAGE}", smoke.mpi)
    finally:
        if not args.keep:
            smoke.step("cleanup", smoke.cleanup)
        client.close()
    failed = [name for name, ok, _detail in smoke.results if not ok]
    smoke._print("verdict: " + ("PASS" if not failed else "FAIL (" + "; ".join(failed) + ")"))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
