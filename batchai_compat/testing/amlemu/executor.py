"""The executor: runs what the execution routes accepted as real local processes.

A run moves ``Queued`` (waiting for cluster nodes; the cluster resizes if needed) → ``Preparing`` (nodes
allocated, project unpacked) → ``Running`` (processes started) → ``Finalizing`` → ``Completed`` / ``Failed``, or
``CancelRequested`` → ``Canceled`` (every process group is killed).  Distributed configurations start one
local process per rank:

* MPI (``mpi.nodeCount × mpi.processCountPerNode``): ``OMPI_COMM_WORLD_*`` and ``PMI_*`` variables per rank, or
  one ``mpirun`` (``AzureMLEmulator(use_mpirun=True)``) when it is installed;
* TensorFlow parameter server: one process per worker and per ps with ``TF_CONFIG`` (worker 0 is ``chief``);
  the run ends when the workers have ended, then the ps processes are stopped, as on AML;
* PyTorch: ``processCount`` processes with ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT``.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .auth import fake_jwt
from .history import run_error
from .state import Run, Workspace
from .util import iso, utcnow


@dataclass
class ProcSpec:
    name: str                        # e.g. "rank_0", "worker_1", "ps_0"
    log_name: str                    # file name under user_logs/
    env: Dict[str, str]
    argv: List[str]
    primary: bool = True             # the run ends when all primary processes have ended
    node_index: int = 0


@dataclass
class Launched:
    spec: ProcSpec
    popen: subprocess.Popen
    log: Any
    exit_code: Optional[int] = None
    killed: bool = False


@dataclass
class RunHandle:
    run: Run
    thread: Optional[threading.Thread] = None
    procs: List[Launched] = field(default_factory=list)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Executor:
    """Runs each submitted run in its own thread; processes are started in new sessions (process groups)."""

    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state
        self.handles: Dict[str, RunHandle] = {}
        self._stopping = False

    # -- public API ------------------------------------------------------------------------------------
    def submit(self, ws: Workspace, run: Run) -> None:
        handle = RunHandle(run)
        self.handles[run.run_id] = handle
        handle.thread = threading.Thread(target=self._main, args=(ws, handle), name="aml-run-" + run.run_id,
                                         daemon=True)
        handle.thread.start()

    def cancel(self, run: Run, reason: str = "canceled") -> None:
        with self.state.lock:
            if run.terminal:
                return
            run.cancel_requested = True
            handle = self.handles.get(run.run_id)
            if handle is None or handle.thread is None:
                run.set_status("Canceled")
                run.end = utcnow()
                return
            run.set_status("CancelRequested")
            procs = list(handle.procs)
        # Only signal here (callers may hold the state lock); the run thread escalates to SIGKILL, waits
        # for the process groups to disappear and then reports Canceled.
        for proc in procs:
            if proc.popen.poll() is None:
                proc.killed = True
                _signal_group(proc.popen, signal.SIGTERM)

    def wait(self, run_id: str, timeout: float = 30.0) -> bool:
        handle = self.handles.get(run_id)
        if handle is None or handle.thread is None:
            return True
        handle.thread.join(timeout)
        return not handle.thread.is_alive()

    def shutdown(self, timeout: float = 10.0) -> None:
        self._stopping = True
        for handle in list(self.handles.values()):
            self.cancel(handle.run, reason="emulator stopped")
        deadline = time.monotonic() + timeout
        for handle in list(self.handles.values()):
            if handle.thread is not None:
                handle.thread.join(max(0.1, deadline - time.monotonic()))

    # -- the run thread ----------------------------------------------------------------------------------
    def _main(self, ws: Workspace, handle: RunHandle) -> None:
        run = handle.run
        try:
            if not self._allocate(ws, run):
                return
            if not self._prepare(ws, run) or run.cancel_requested:
                return
            specs = self._plan(ws, run)
            self._launch(ws, handle, specs)
            self._supervise(run, handle)
        except Exception as exc:  # pragma: no cover - reported as a failed run
            with self.state.lock:
                if not run.terminal:
                    run.error = run_error(f"The Azure ML emulator failed to execute the run: {exc!r}",
                                          "ServiceError")
                    run.set_status("Failed")
            self.emu._record_error(None, exc, repr(exc))
        finally:
            self._finish(ws, handle)

    def _allocate(self, ws: Workspace, run: Run) -> bool:
        compute = ws.computes.get(run.target.lower())
        config = run.configuration
        run.node_count = max(1, int(config.get("nodeCount") or 1))
        if compute is None:
            return not run.cancel_requested
        with self.state.lock:
            if run.node_count > compute.max_nodes:
                run.error = run_error(
                    f"Requested {run.node_count} nodes but compute target '{compute.name}' allows at most "
                    f"{compute.max_nodes} (max_nodes).", "UserError")
                run.set_status("Failed")
                return False
        while True:
            with self.state.lock:
                if run.cancel_requested:
                    return False
                if ws.computes.get(run.target.lower()) is not compute:
                    run.error = run_error(f"Compute target '{run.target}' was deleted.", "SystemError")
                    run.set_status("Failed")
                    return False
                now = self.emu.monotonic()
                compute.refresh(now, self.emu.scale_down_after)
                if compute.try_allocate(run.run_id, run.node_count, now, self.emu.resize_seconds):
                    return True
            time.sleep(self.emu.tick)

    def _prepare(self, ws: Workspace, run: Run) -> bool:
        with self.state.lock:
            if run.cancel_requested:
                return False
            run.set_status("Preparing")
            if run.source_zip is None:
                run.error = run_error(
                    "The Azure ML emulator did not receive the run's source files: snapshot uploads go to blob "
                    "storage, which the emulator cannot receive. Submit with AML_FORCE_EXECUTE_WITH_ZIP=1 "
                    "(AzureMLEmulator sets it while started unless patch_environ=False).", "UserError")
                return False
        run_dir = os.path.join(self.emu.root, "runs", run.run_id)
        work_dir = os.path.join(run_dir, "wd")
        for sub in ("wd", "user_logs", "system_logs/emulator"):
            os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
        if run.source_zip:
            with zipfile.ZipFile(io.BytesIO(run.source_zip)) as zf:
                for member in zf.infolist():
                    target = os.path.realpath(os.path.join(work_dir, member.filename))
                    if not target.startswith(os.path.realpath(work_dir) + os.sep):
                        continue   # refuse path traversal
                    zf.extract(member, work_dir)
                    mode = (member.external_attr >> 16) & 0o777
                    if mode and not member.is_dir():
                        os.chmod(target, mode | 0o600)
        for sub in ("outputs", "logs"):
            os.makedirs(os.path.join(work_dir, sub), exist_ok=True)
        with self.state.lock:
            run.run_dir, run.work_dir = run_dir, work_dir
        if self.emu.prepare_seconds:
            time.sleep(self.emu.prepare_seconds)
        return True

    # -- planning processes ------------------------------------------------------------------------------
    def _command(self, run: Run) -> str:
        config = run.configuration
        command = config.get("command")
        if isinstance(command, list):
            command = " ".join(str(c) for c in command)     # what AML does: no quoting
        if command:
            return str(command)
        script = config.get("script")
        if script:
            args = config.get("arguments") or []
            return " ".join(["python", shlex.quote(str(script))] + [shlex.quote(str(a)) for a in args])
        return "true"

    def _base_env(self, ws: Workspace, run: Run) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZUREML_")}
        env.pop("AML_FORCE_EXECUTE_WITH_ZIP", None)
        config = run.configuration
        environment = config.get("environment") or {}
        for source in (environment.get("environmentVariables") or {}, config.get("environmentVariables") or {}):
            env.update({str(k): "" if v is None else str(v) for k, v in source.items()})
        base = self.emu.url
        env.update({
            "AZUREML_RUN_ID": run.run_id,
            "AZUREML_ARM_SUBSCRIPTION": ws.subscription_id,
            "AZUREML_ARM_RESOURCEGROUP": ws.resource_group,
            "AZUREML_ARM_WORKSPACE_NAME": ws.name,
            "AZUREML_ARM_PROJECT_NAME": run.experiment.name,
            "AZUREML_EXPERIMENT_ID": run.experiment.experiment_id,
            "AZUREML_WORKSPACE_ID": ws.workspace_id,
            "AZUREML_RUN_TOKEN": fake_jwt(),
            "AZUREML_RUN_TOKEN_EXPIRY": str(int(time.time()) + 24 * 3600),
            "AZUREML_SERVICE_ENDPOINT": base,
            "AZUREML_DISCOVERY_SERVICE_ENDPOINT": f"{base}/discovery/workspaces/{ws.workspace_id}",
            "AZUREML_COMPUTE_NAME": run.target,
            "AZUREML_NODE_COUNT": str(run.node_count),
            "AZUREML_CR_EXECUTION_WORKING_DIR_PATH": run.work_dir or "",
            "AZ_BATCH_NODE_ROOT_DIR": run.run_dir or "",
            "PYTHONUNBUFFERED": "1",
        })
        for name, dref in (config.get("dataReferences") or {}).items():
            path = self.emu.data_reference_path(ws, run, name, dref)
            env["AZUREML_DATAREFERENCE_" + name] = path
        env["PATH"] = os.pathsep.join([self.emu.bin_dir, env.get("PATH", os.defpath)])
        return env

    def _plan(self, ws: Workspace, run: Run) -> List[ProcSpec]:
        """The processes of a run, each with the identity of the emulated node it runs on:
        ``AZ_BATCH_NODE_ID`` and a per-node ``TMPDIR`` (so per-node lock files behave as on separate VMs)."""
        specs = self._plan_processes(ws, run)
        compute = ws.computes.get(run.target.lower())
        node_ids = [n.node_id for n in sorted(compute.nodes, key=lambda n: n.index) if n.run_id == run.run_id] \
            if compute else []
        node_ids = node_ids or [f"local_node_{i}" for i in range(run.node_count)]
        for spec in specs:
            node_id = node_ids[spec.node_index % len(node_ids)]
            tmp = os.path.join(run.run_dir or self.emu.root, "nodes", node_id, "tmp")
            os.makedirs(tmp, exist_ok=True)
            spec.env.setdefault("AZ_BATCH_NODE_ID", node_id)
            spec.env.setdefault("TMPDIR", tmp)
        return specs

    def _plan_processes(self, ws: Workspace, run: Run) -> List[ProcSpec]:
        config = run.configuration
        command = self._command(run)
        base = self._base_env(ws, run)
        base.pop("TMPDIR", None)
        framework = str(config.get("framework") or "Python").lower()
        communicator = str(config.get("communicator") or "None").lower()
        argv = ["/bin/sh", "-c", command]
        nodes = run.node_count
        compute = ws.computes.get(run.target.lower())
        node_ids = [n.node_id for n in sorted(compute.nodes, key=lambda n: n.index) if n.run_id == run.run_id] \
            if compute else []
        node_ids = node_ids or [f"local_node_{i}" for i in range(nodes)]
        hosts = ["127.0.0.1"] * nodes

        if framework == "tensorflow" or communicator == "parameterserver":
            tf = config.get("tensorflow") or {}
            workers = max(1, int(tf.get("workerCount") or nodes or 1))
            ps = max(0, int(tf.get("parameterServerCount") or 0))
            wports = [f"127.0.0.1:{free_port()}" for _ in range(workers)]
            pports = [f"127.0.0.1:{free_port()}" for _ in range(ps)]
            cluster: Dict[str, List[str]] = {}
            if self.emu.tf_chief:
                cluster["chief"] = wports[:1]
                if workers > 1:
                    cluster["worker"] = wports[1:]
            else:
                cluster["worker"] = wports
            if ps:
                cluster["ps"] = pports
            specs = []
            for i in range(workers):
                if self.emu.tf_chief:
                    task = {"type": "chief", "index": 0} if i == 0 else {"type": "worker", "index": i - 1}
                else:
                    task = {"type": "worker", "index": i}
                env = dict(base, TF_CONFIG=json.dumps({"cluster": cluster, "task": task, "environment": "cloud"}))
                env["AZUREML_NODE_RANK"] = str(i % nodes)
                specs.append(ProcSpec(f"worker_{i}", f"std_log_process_{i}.txt", env, argv,
                                      True, i % nodes))
            for i in range(ps):
                env = dict(base, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "ps", "index": i},
                                                       "environment": "cloud"}))
                specs.append(ProcSpec(f"ps_{i}", f"std_log_ps_{i}.txt", env, argv, False,
                                      i % nodes))
            return specs

        if framework == "pytorch":
            pt = config.get("pytorch") or {}
            total = int(pt.get("processCount") or 0) or nodes
            per_node = max(1, -(-total // nodes))
            port = str(free_port())
            specs = []
            for rank in range(total):
                node = rank // per_node
                env = dict(base, RANK=str(rank), WORLD_SIZE=str(total), LOCAL_RANK=str(rank % per_node),
                           LOCAL_WORLD_SIZE=str(per_node), NODE_RANK=str(node), GROUP_RANK=str(node),
                           MASTER_ADDR="127.0.0.1", MASTER_PORT=port,
                           AZUREML_NODE_RANK=str(node))
                specs.append(ProcSpec(f"rank_{rank}", f"std_log_process_{rank}.txt", env, argv,
                                      True, node))
            return specs

        mpi = config.get("mpi") or {}
        if communicator in ("intelmpi", "openmpi", "mpi") or (mpi and nodes * int(mpi.get("processCountPerNode")
                                                                                  or 1) > 1
                                                             and communicator != "none"):
            per_node = max(1, int(mpi.get("processCountPerNode") or 1))
            total = nodes * per_node
            master = "127.0.0.1"
            common = dict(base, AZ_BATCH_MASTER_NODE=f"{master}:6105", AZ_BATCHAI_MPI_MASTER_NODE=master,
                          AZ_BATCH_HOST_LIST=",".join(hosts), AZ_BATCH_NODE_LIST=";".join(node_ids),
                          AZUREML_PROCESS_COUNT_PER_NODE=str(per_node))
            if self.emu.use_mpirun and shutil.which("mpirun"):
                mpirun = [shutil.which("mpirun") or "mpirun", "-np", str(total), "--oversubscribe"]
                if hasattr(os, "geteuid") and os.geteuid() == 0:
                    mpirun.append("--allow-run-as-root")
                passthrough = [k for k in common if k not in os.environ or common[k] != os.environ.get(k)]
                for key in sorted(set(passthrough) | {"PATH"}):
                    mpirun += ["-x", key]
                return [ProcSpec("mpirun", "std_log.txt", common, mpirun + argv, True, 0)]
            specs = []
            for rank in range(total):
                node = rank // per_node
                env = dict(common, OMPI_COMM_WORLD_RANK=str(rank), OMPI_COMM_WORLD_SIZE=str(total),
                           OMPI_COMM_WORLD_LOCAL_RANK=str(rank % per_node),
                           OMPI_COMM_WORLD_LOCAL_SIZE=str(per_node), OMPI_COMM_WORLD_NODE_RANK=str(node),
                           PMI_RANK=str(rank), PMI_SIZE=str(total), AZUREML_NODE_RANK=str(node))
                specs.append(ProcSpec(f"rank_{rank}", f"std_log_process_{rank}.txt", env, argv,
                                      True, node))
            if len(specs) == 1:
                specs[0].log_name = "std_log.txt"
            return specs

        return [ProcSpec("main", "std_log.txt", dict(base, AZUREML_NODE_RANK="0"), argv, True, 0)]

    # -- running -------------------------------------------------------------------------------------------
    def _launch(self, ws: Workspace, handle: RunHandle, specs: List[ProcSpec]) -> None:
        run = handle.run
        with self.state.lock:
            if run.cancel_requested:
                return
            run.set_status("Running")
            run.start = utcnow()
            run.env = dict(specs[0].env) if specs else {}
        lines = [f"{iso(utcnow())} run {run.run_id} on {run.target} ({run.node_count} node(s))"]
        for spec in specs:
            log = open(os.path.join(run.run_dir or "", "user_logs", spec.log_name), "ab")  # noqa: SIM115
            try:
                popen = subprocess.Popen(spec.argv, cwd=run.work_dir, env=spec.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                log.write(f"failed to start: {exc}\n".encode())
                log.close()
                with self.state.lock:
                    run.error = run_error(f"Could not start the user process: {exc}", "UserError")
                self._kill_all(handle)
                return
            with self.state.lock:
                handle.procs.append(Launched(spec, popen, log))
                if run.cancel_requested:
                    break
            lines.append(f"started {spec.name} pid={popen.pid} node={spec.node_index} "
                         f"log=user_logs/{spec.log_name} argv={spec.argv}")
        with open(os.path.join(run.run_dir or "", "system_logs", "emulator", "execution.txt"), "a") as fh:
            fh.write("\n".join(lines) + "\n")
        if run.cancel_requested:
            self._kill_all(handle)

    def _supervise(self, run: Run, handle: RunHandle) -> None:
        max_seconds = run.configuration.get("maxRunDurationSeconds")
        started = time.monotonic()
        timed_out = False
        while True:
            primaries_done = True
            for proc in handle.procs:
                if proc.exit_code is None:
                    proc.exit_code = proc.popen.poll()
                if proc.spec.primary and proc.exit_code is None:
                    primaries_done = False
            if primaries_done or run.cancel_requested:
                break
            if max_seconds and time.monotonic() - started > float(max_seconds):
                timed_out = True
                break
            time.sleep(self.emu.tick)
        # Secondary processes (TensorFlow parameter servers) and anything left: stop them.
        self._kill_all(handle)
        for proc in handle.procs:
            try:
                proc.exit_code = proc.popen.wait(timeout=self.emu.kill_grace_seconds + 5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.exit_code = -9
            proc.log.close()
        with self.state.lock:
            run.exit_codes = [p.exit_code for p in handle.procs]
            run.process_ended = True
            if run.cancel_requested:
                return
            if timed_out:
                run.error = run_error(f"Run exceeded its maximum duration of {max_seconds} seconds "
                                      "(maxRunDurationSeconds) and was stopped.", "UserError")
                return
            failed = [p for p in handle.procs if p.spec.primary and p.exit_code not in (0, None)]
            if failed:
                first = failed[0]
                command = self._command(run)
                run.error = run_error(
                    f"Execution failed. User process '{command}' ({first.spec.name}) exited with status code "
                    f"{first.exit_code}. Please check log file 'user_logs/{first.spec.log_name}' for error details.",
                    "UserError")
            elif run.error is None and not handle.procs:
                run.error = run_error("No process was started for the run.", "ServiceError")

    def _kill_all(self, handle: RunHandle) -> None:
        procs = list(handle.procs)
        live = [p for p in procs if p.popen.poll() is None]
        for proc in live:
            proc.killed = True
            _signal_group(proc.popen, signal.SIGTERM)
        deadline = time.monotonic() + self.emu.kill_grace_seconds
        while live and time.monotonic() < deadline:
            live = [p for p in live if p.popen.poll() is None]
            if live:
                time.sleep(0.02)
        for proc in live:
            _signal_group(proc.popen, signal.SIGKILL)
        # Grandchildren (``sh -c`` → python) may outlive the shell we waited for: kill what is left of each
        # process group and wait until nothing but zombies remains, so "Canceled" means "processes gone".
        deadline = time.monotonic() + self.emu.kill_grace_seconds + 5
        for proc in procs:
            while _group_alive(proc.popen.pid) and time.monotonic() < deadline:
                _signal_group(proc.popen, signal.SIGTERM if time.monotonic() < deadline - 5 else signal.SIGKILL)
                time.sleep(0.02)
            _signal_group(proc.popen, signal.SIGKILL)

    def _finish(self, ws: Workspace, handle: RunHandle) -> None:
        run = handle.run
        with self.state.lock:
            compute = ws.computes.get(run.target.lower())
            if compute is not None:
                compute.release(run.run_id, self.emu.monotonic())
            if run.terminal:
                pass
            elif run.cancel_requested:
                run.set_status("Canceled")
            elif run.error is not None:
                run.set_status("Failed")
            else:
                run.set_status("Finalizing")
                run.set_status("Completed")
            if run.end is None:
                run.end = utcnow()
            run.process_ended = True


def _group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is still in process group ``pgid``."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
            return True
        except OSError:
            return False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[0] = state, fields[2] = pgrp
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass


__all__ = ["Executor", "ProcSpec", "free_port"]
