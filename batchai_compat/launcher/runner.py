"""Running one job on all its virtual nodes ("local mode"): §c.1's order of execution.

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
from typing import List, Optional

from . import env as envmod
from . import layout, mpi, toolkits
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


class JobRunner:
    def __init__(self, spec: LaunchSpec, node_index: Optional[int] = None) -> None:
        self.spec = spec
        self.node_index = node_index  # None: local mode, every node; else node mode (one node)
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
        finally:
            self._finish()

    def _run_job(self) -> LaunchResult:
        ctx = self.context
        self._log_start()
        self._check()
        count = toolkits.process_count(ctx.props, ctx.node_count)
        slots = mpi.slots_per_node(count, ctx.node_count, int(self.spec.gpus_per_node or 0))
        for i in ctx.local_nodes:
            layout.write_hostfile(ctx.paths[i], self.spec.nodes, slots)
        if ctx.props.get("containerSettings"):
            failure = self._container_settings()
            if failure is not None:
                return failure
        prep = self._local(toolkits.job_preparation(ctx))
        if prep:
            code = self._run_tasks(prep, "Job preparation")
            if code != 0:
                return self._result(code, "JobPreparationFailed")
        self._check()
        tool, tasks = toolkits.plan(ctx)
        tasks = self._local(tasks)
        self.log(None, f"Toolkit: {tool}; {len(tasks)} process(es) on this node"
                       if self.node_index is not None else f"Toolkit: {tool}; {len(tasks)} process(es)")
        code = self._run_tasks(tasks, "Job")
        return self._result(code, None if code == 0 else "JobFailed")

    def _local(self, tasks: List[Task]) -> List[Task]:
        return [t for t in tasks if t.node in self.context.local_nodes]

    def _container_settings(self) -> Optional[LaunchResult]:
        """§c.1 step 2: one container per node, or (no runtime configured) a warning."""
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
            return self._result(None, CONTAINER_ERROR, str(exc))
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

    def _run_tasks(self, tasks: List[Task], what: str) -> int:
        """Start tasks, wait for every "main" one, stop the others (TensorFlow parameter servers).
        Returns the first non-zero exit code in order of completion, else 0."""
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
        mains = [t for t in tasks if t.role == "main"] or tasks  # a ps-only node waits for its ps
        last_reap = time.monotonic()
        # Poll quickly at first (most short jobs end within milliseconds), backing off to
        # POLL_SECONDS: job latency stays low without a busy loop for long jobs.
        delay = 0.001
        while len([t for t in finished if t in mains]) < len(mains):
            self._check()
            for task in tasks:
                if task not in finished and task.poll() is not None:
                    finished.append(task)
                    self.log(task.node, f"{what}: {task.name} exited with code {task.exit_code}")
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
        codes = [t.exit_code for t in finished if t in mains and t.exit_code]
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
        unmounted (behaviour 31)."""
        self._kill_everything()
        if self.containers is not None:
            self.containers.remove()
        ctx = self.ctx
        if ctx is None:
            return
        for i in ctx.local_nodes:
            for note in layout.remove_job_mounts(ctx.paths[i], self.spec.job_mounts):
                self.log(i, note)
        ctx.close()
