"""Running one job on all its virtual nodes ("local mode"), in the order of ``docs/service-behaviour.md`` §c.1.

mount job volumes -> pull/start one container per node (when ``containerSettings`` are given and
a container runtime is configured, see ``containers.py``; otherwise the settings are logged and
ignored) -> job preparation on every node -> toolkit processes -> remove the containers and
unmount job volumes. A SIGTERM at any point kills the whole process tree (and the containers) and
reports ``JobTerminated``.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Callable, Dict, List, Optional

from . import env as envmod
from . import group as group_mod
from . import layout, mpi, ssh, toolkits
from .containers import ERROR_CODE as CONTAINER_ERROR
from .containers import ContainerError, JobContainers, Runtime, resolve_runtime
from .context import JobContext, SetupError, build_context, open_logs
from .execlog import utc_now_iso
from .processes import Task, kill_tree, reap_orphans, track
from .spec import LaunchResult, LaunchSpec

MESSAGES = {
    "JobFailed": "Job failed with non-zero exit code",
    "JobPreparationFailed": "Job preparation task failed with non-zero exit code",
    "JobTerminated": "The specified job has been terminated by the user",
}
KILL_GRACE_SECONDS = 2.0
POLL_SECONDS = 0.05


class Terminated(Exception):
    pass


def node_variables(ctx: JobContext, index: int) -> Dict[str, str]:
    """A node's own ``AZ_BATCHAI_*`` values (its paths), without the job's user variables and
    secrets and without per-process roles: what ranks started on that node by mpirun need."""
    given = set(envmod.user_variables(ctx.spec)) | set(envmod.secret_variables(ctx.spec))
    return {k: v for k, v in ctx.envs[index].items()
            if k.startswith("AZ_BATCHAI_") and k not in given and k not in envmod.ROLE_VARIABLES}


class JobRunner:
    def __init__(self, spec: LaunchSpec, node_index: Optional[int] = None,
                 preflight: Optional[Callable[[], Optional[Dict[str, Any]]]] = None) -> None:
        self.spec = spec
        self.node_index = node_index  # None: local mode, every node; else node mode (one node)
        # Called after the layout, before job preparation (the engine's per-node setup, e.g. a
        # cluster's setup task); returns a failure (exit_code, error_code, error_message) or None.
        self.preflight = preflight
        self.group: Optional[group_mod.Group] = None
        self.terminated = False
        self.ctx: Optional[JobContext] = None
        self.containers: Optional[JobContainers] = None
        self.start_time = utc_now_iso()

    @property
    def context(self) -> JobContext:
        assert self.ctx is not None, "the job context is built first"
        return self.ctx

    # -- signals ---------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        self.terminated = True

    def _check(self) -> None:
        if self.terminated:
            raise Terminated()

    # -- logging helpers -------------------------------------------------------------------------
    def log(self, node: Optional[int], message: str, level: str = "INFO") -> None:
        """Log on one node (``None``: on every node)."""
        if self.ctx is None:
            return
        logs = self.ctx.logs
        for log in logs.values() if node is None else [logs[node]] if node in logs else []:
            log.write(message, level)

    # -- the job ---------------------------------------------------------------------------------
    def run(self) -> LaunchResult:
        try:
            try:
                self.ctx = build_context(self.spec, self.node_index, ssh_shim=self.node_index is None)
                open_logs(self.ctx)
            except SetupError as exc:
                return self._result(None, "LauncherError", str(exc))
            try:
                return self._run_job()
            except Terminated:
                self.log(None, "Job terminated by the user: stopping all processes", "WARN")
                self._kill_everything()
                return self._result(None, "JobTerminated")
            except group_mod.GroupError as exc:
                self.log(None, f"{exc}: stopping all processes", "ERROR")
                self._kill_everything()
                return self._result(None, "LauncherError", str(exc))
        finally:
            self._finish()

    def _run_job(self) -> LaunchResult:
        ctx = self.context
        self._log_start()
        self._check()
        self._join_group()
        count = toolkits.process_count(ctx.props, ctx.node_count)
        slots = mpi.slots_per_node(count, ctx.node_count, int(self.spec.gpus_per_node or 0))
        for i in ctx.local_nodes:
            layout.write_hostfile(ctx.paths[i], self.spec.nodes, slots)
        failure = self._barrier(self._prepare_nodes())
        if failure is not None:
            return self._result(failure.get("exit_code"), failure.get("error_code") or "JobFailed",
                                failure.get("error_message"))
        self._check()
        tool, tasks = toolkits.plan(ctx)
        tasks = self._local(tasks)
        self.log(None, f"Toolkit: {tool}; {len(tasks)} process(es) on this node"
                       if self.node_index is not None else f"Toolkit: {tool}; {len(tasks)} process(es)")
        code = self._run_tasks(tasks, "Job", self.group)
        return self._result(code, None if code == 0 else "JobFailed")

    def _prepare_nodes(self) -> Optional[Dict[str, Any]]:
        """Container start, the engine's preflight (e.g. a setup task) and job preparation on this
        launcher's nodes. Returns the failure (``exit_code``, ``error_code``, ``error_message``), or None."""
        ctx = self.context
        if ctx.props.get("containerSettings"):
            failure = self._container_settings()
            if failure is not None:
                return failure
        if self.preflight is not None:
            failure = self.preflight()
            if failure:
                self.log(None, str(failure.get("error_message") or failure.get("error_code")), "ERROR")
                return failure
        prep = self._local(toolkits.job_preparation(ctx))
        if prep:
            code = self._run_tasks(prep, "Job preparation")
            if code != 0:
                return {"exit_code": code, "error_code": "JobPreparationFailed",
                        "error_message": MESSAGES["JobPreparationFailed"]}
        return None

    # -- node mode: the launchers of the job's nodes act together (group.py) ----------------------
    def _join_group(self) -> None:
        ctx = self.context
        settings = self.spec.group
        if settings is None or self.node_index is None or ctx.node_count < 2:
            return
        host = self.spec.nodes[0].address
        port, ports = int(settings.get("port") or 0), int(settings.get("ports") or 1)
        timeout = float(settings.get("timeout") or group_mod.DEFAULT_TIMEOUT)
        token = str(settings["token"])
        if self.node_index == 0:
            self.group = group_mod.Coordinator(host, port, ports, token, ctx.node_count, timeout)
            self.log(0, f"Waiting for the other {ctx.node_count - 1} node(s) on {host}:{self.group.port}")
        else:
            self.log(self.node_index, f"Joining node 0 at {host}:{port}")
            self.group = group_mod.Member(host, port, ports, token, self.node_index,
                                          node_variables(ctx, self.node_index), self._check, timeout)
            self.log(self.node_index, "Joined node 0")

    def _barrier(self, failure: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """Every node's preparation must succeed before any toolkit process starts (one agent did
        this on Batch AI). Returns the job's failure, or None to go on."""
        ctx = self.context
        group = self.group
        if isinstance(group, group_mod.Coordinator):
            first, order = group.gather(failure, self._check)
            if first is not None:
                node = int(first.get("node") or 0)
                self.log(0, f"{first.get('error_code')} on node {self.spec.nodes[node].id}: not starting the job",
                         "ERROR")
                group.abort(first)
                return first
            self.log(0, "All nodes prepared (in this order: {}); starting the job".format(
                ", ".join(self.spec.nodes[i].id for i in order)))
            ctx.group_env = self._group_env()
            self._forward_to_nodes(group.vars)
            group.start(ctx.group_env)
        elif isinstance(group, group_mod.Member):
            group.prepared(failure)
            verdict, data = group.verdict(self._check)
            if verdict == "abort":
                if failure is None:
                    node = int(data.get("node") or 0)
                    self.log(self.node_index, f"{data.get('error_code')} on node {self.spec.nodes[node].id}: "
                                              "not starting the job", "ERROR")
                return failure or data
            ctx.group_env = data
        return failure

    def _group_env(self) -> Dict[str, str]:
        """What node 0 decides for every node: PyTorch's rendezvous (``file://`` on the shared job
        temp needs one file system for all nodes; here a TCP address on node 0 instead)."""
        tool, settings = toolkits.toolkit(self.context.props)
        if tool == "pytorch" and str(settings.get("communicationBackend") or "").lower() != "mpi":
            host = self.spec.nodes[0].address
            return {"AZ_BATCHAI_PYTORCH_INIT_METHOD": f"tcp://{host}:{group_mod.free_port(host)}"}
        return {}

    def _forward_to_nodes(self, member_vars: Dict[int, Dict[str, str]]) -> None:
        """mpirun (the toolkit's, or the user's own with ``$AZ_BATCHAI_MPI_HOST_FILE``) reaches the
        other machines with their own ``AZ_BATCHAI_*`` values (see ``ssh.install_forwarding``)."""
        ctx = self.context
        nodes = [{"id": n.id, "address": n.address,
                  "env": node_variables(ctx, 0) if i == 0 else member_vars.get(i, {})}
                 for i, n in enumerate(self.spec.nodes)]
        agent = ssh.install_forwarding(ctx.private_dir, nodes)
        if agent is None:
            self.log(0, "No ssh on this machine: mpirun cannot start processes on the other nodes", "WARN")
            return
        ctx.rsh_agent = agent
        if "OMPI_MCA_plm_rsh_agent" not in envmod.user_variables(self.spec):
            ctx.envs[0]["OMPI_MCA_plm_rsh_agent"] = agent

    def _local(self, tasks: List[Task]) -> List[Task]:
        return [t for t in tasks if t.node in self.context.local_nodes]

    def _container_settings(self) -> Optional[Dict[str, Any]]:
        """``docs/service-behaviour.md`` §c.1 step 2: one container per node, or (no runtime configured) a warning."""
        image = ((self.context.props.get("containerSettings") or {}).get("imageSourceRegistry") or {}).get("image")
        runtime = self.spec.container_runtime
        if runtime is None:
            self.log(None, f"containerSettings (image {image!r}) ignored: no container runtime is "
                           "configured, job preparation and the job run on the host", "WARN")
            return None
        executable = resolve_runtime(runtime)
        try:
            if executable is None:
                raise ContainerError(f"unable to start container: the container runtime {runtime!r} "
                                     "was not found")
            self.log(None, f"Container runtime: {executable}")
            self.containers = JobContainers(self.context, Runtime(executable, self._check), self.log)
            self.containers.start()
            # The launcher's interpreter is a host path: framework toolkits use the image's `python`
            # unless pythonInterpreterPath says otherwise.
            self.spec.python = None
        except ContainerError as exc:
            self.log(None, str(exc), "ERROR")
            return {"exit_code": None, "error_code": CONTAINER_ERROR, "error_message": str(exc)}
        return None

    def _log_start(self) -> None:
        ctx = self.context
        spec = self.spec
        for i in ctx.local_nodes:
            p = ctx.paths[i]
            log = ctx.logs[i]
            log.info(f"Job {spec.job.get('id') or spec.job.get('name')}")
            log.info(f"Node {p.node.id} ({p.node.address}), node {p.index + 1} of {ctx.node_count}"
                     + (" (master)" if p.index == 0 else ""))
            for note in ctx.notes.get(i, []):
                log.info(note)
            log.info(f"AZ_BATCHAI_MOUNT_ROOT={p.mount_root}")
            log.info(f"AZ_BATCHAI_JOB_MOUNT_ROOT={p.job_mount_root}")
            log.info(f"AZ_BATCHAI_JOB_TEMP={p.job_temp}")
            log.info(f"AZ_BATCHAI_STDOUTERR_DIR={ctx.envs[p.index]['AZ_BATCHAI_STDOUTERR_DIR']}")
            names = sorted(envmod.user_variables(spec))
            secrets = sorted(envmod.secret_variables(spec))
            if names:
                log.info("Environment variables: " + ", ".join(names))
            if secrets:
                log.info("Secret environment variables (values not shown): " + ", ".join(secrets))
        first = ctx.local_nodes[0]
        for key, value in sorted(ctx.envs[first].items()):
            if key.startswith(("AZ_BATCHAI_OUTPUT_", "AZ_BATCHAI_INPUT_")):
                self.log(first, f"{key}={value}")

    def _run_tasks(self, tasks: List[Task], what: str, group: "Optional[group_mod.Group]" = None) -> int:
        """Start tasks, wait for every "main" one, stop the others (TensorFlow parameter servers).
        Returns the first non-zero exit code in order of completion, else 0.

        With a group (node mode), the job also waits for the other nodes: node 0 until every
        node reported its workers ended, the others until node 0 says the job ended (a ps-only
        node keeps its parameter servers up until then)."""
        for task in tasks:
            self._check()
            command = task.argv[-1] if task.argv[:2] == ["/bin/bash", "-c"] else " ".join(task.argv)
            if self.containers is not None:
                self.containers.wrap(task)
                command += f"  [in container {self.containers.names[task.node]}]"
            pid = task.start()
            track(pid)
            self.log(task.node, f"{what}: started {task.name} (pid {pid}): {command}")
            self.log(task.node, f"  output: {os.path.basename(task.stdout_path)}, "
                                f"{os.path.basename(task.stderr_path)}")
        finished: List[Task] = []
        mains = [t for t in tasks if t.role == "main"]
        if group is None:
            mains = mains or tasks  # a ps-only node waits for its ps
        codes: List[int] = []  # non-zero exit codes of main processes, in order of completion
        members: Dict[int, Optional[int]] = {}  # node 0: members' reports
        reported = False  # members: "done" sent
        last_reap = time.monotonic()
        # Poll quickly at first (most short jobs end within milliseconds), backing off to
        # POLL_SECONDS: job latency stays low without a busy loop for long jobs.
        delay = 0.001
        while True:
            self._check()
            for task in tasks:
                if task not in finished and task.poll() is not None:
                    finished.append(task)
                    self.log(task.node, f"{what}: {task.name} exited with code {task.exit_code}")
                    if task in mains and task.exit_code:
                        codes.append(task.exit_code)
            local_done = all(t in finished for t in mains)
            if isinstance(group, group_mod.Coordinator):
                before = set(members)
                group.poll_done(members)
                for node in sorted(set(members) - before):
                    self.log(0, f"{what}: node {self.spec.nodes[node].id} reports its processes ended"
                                + (f" (exit code {members[node]})" if members[node] else ""))
                    if members[node]:
                        codes.append(int(members[node] or 0))
                if local_done and len(members) == self.context.node_count - 1:
                    break
            elif isinstance(group, group_mod.Member):
                if local_done and not reported:
                    group.done(codes[0] if codes else 0)
                    reported = True
                if group.poll_stop():
                    break
            elif local_done:
                break
            if time.monotonic() - last_reap > 1.0:
                reap_orphans()
                last_reap = time.monotonic()
            time.sleep(delay)
            delay = min(delay * 2, POLL_SECONDS)
        for task in tasks:
            if task not in finished and task.proc is not None:
                self.log(task.node, f"{what}: all workers finished, stopping {task.name}")
                kill_tree(task.proc.pid, KILL_GRACE_SECONDS, reap=[task])
                task.poll()
        if isinstance(group, group_mod.Coordinator):
            group.stop()
        return codes[0] if codes else 0

    # -- the end ---------------------------------------------------------------------------------
    def _kill_everything(self) -> None:
        me = os.getpid()
        kill_tree(me, KILL_GRACE_SECONDS, include_root=False, include_session=os.getsid(0) == me)
        reap_orphans()

    def _result(self, exit_code: Optional[int], error_code: Optional[str],
                message: Optional[str] = None) -> LaunchResult:
        if error_code and message is None:
            message = MESSAGES.get(error_code)
        result = LaunchResult(exit_code=exit_code, error_code=error_code, error_message=message,
                              start_time=self.start_time, end_time=utc_now_iso())
        if error_code:
            self.log(None, f"Job failed: {error_code}: {message}"
                           + (f" (exit code {exit_code})" if exit_code is not None else ""), "ERROR")
        else:
            self.log(None, f"Job completed successfully (exit code {exit_code})")
        return result

    def _finish(self) -> None:
        """Leftover processes die with the job, containers are removed, job-level mounts are
        unmounted (``docs/service-behaviour.md`` behaviour 31)."""
        self._kill_everything()
        if self.group is not None:
            self.group.close()
        if self.containers is not None:
            self.containers.remove()
        ctx = self.ctx
        if ctx is None:
            return
        for i in ctx.local_nodes:
            for note in layout.remove_job_mounts(ctx.paths[i], self.spec.job_mounts):
                self.log(i, note)
        ctx.close()
