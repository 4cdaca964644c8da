"""The job supervisor: one detached process per started job (``python -m ...local.supervisor``).

The scheduler starts it in its own session inside the transaction that marks the job ``running``;
it therefore outlives the client process (a notebook kernel restart does not stop jobs). It

1. waits for that transaction to commit and checks it still owns the job (``attempt``);
2. writes the ``LaunchSpec`` (mode 0600, under ``<home>/run/jobs/``, never in ``stdouterr``) and
   starts the node launcher as the leader of a new process group;
3. enforces ``constraints.maxWallClockTime`` and turns SIGTERM (terminate, delete, scale-down,
   cluster deletion) into a SIGTERM of the launcher's group, SIGKILL after the grace period;
4. records the result (``executionInfo``, ``docs/service-behaviour.md`` §b.5, §f.2), frees the nodes and runs
   a scheduling pass in the same transaction, so the next queued job starts at once - and supervises that job
   itself when it can (one process can run many queued jobs back to back).

Before a job starts, the job temp dirs of earlier jobs on its nodes are wiped
(``$AZ_BATCHAI_JOB_TEMP_DIR``, as on the service). ``maxWallClockTime`` counts from the job's
``startTime``.

Deviation: the wall-clock error code was never recorded; a job stopped for exceeding
``maxWallClockTime`` fails with ``MaxWallClockTimeExceeded`` and no exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List, Optional

from batchai_compat import _home
from batchai_compat.launcher.spec import LaunchResult, LaunchSpec, MountSpec, NodeSpec

from . import _util, joblife, procs, resources, standby
from .scheduler import Kill, Options, Scheduler, job_uid
from .store import Store, loads

MAX_JOBS = 500  # jobs one supervisor process runs back to back before it leaves the rest to fresh ones
WALL_CLOCK = ("MaxWallClockTimeExceeded", "The job ran longer than its maxWallClockTime ({limit}) and was stopped")
NO_RESULT = ("LauncherFailed", "The node launcher exited with status {status} without reporting a result")


class Supervisor:
    def __init__(self, home: Path, job_key: str, attempt: int, options: Options,
                 log_path: Optional[str] = None) -> None:
        self.home = home
        self.job_key = job_key
        self.attempt = attempt
        self.options = options
        self.store = Store.shared(home / "state.db")
        self.scheduler = Scheduler(self.store, home, options)
        self.stop_requested = False
        self.timed_out = False
        self.run_dir: Optional[Path] = None
        self.log_path: Optional[Path] = Path(log_path) if log_path else None
        self.clean = True
        self.next_job: Optional[tuple] = None
        self.jobs_run = 0

    # -- main ----------------------------------------------------------------------------------
    def run(self) -> int:
        """Run the job, then any job the closing scheduling pass hands over (see :meth:`_adopt`)."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        while True:
            self._run_one()
            if self.next_job is None and self.options.linger_seconds > 0 and not self.stop_requested:
                self.next_job = standby.wait_for_job(self.store, _home.run_dir(self.home), self.options.linger_seconds,
                                                     lambda: self.stop_requested)
            if self.next_job is None:
                break
            self.job_key, self.attempt = self.next_job
            # stop_requested is kept: a SIGTERM for the adopted job may already have arrived; whether
            # it was meant for it is decided against the database (_stop_is_genuine).
            self.next_job, self.timed_out, self.run_dir = None, False, None
        self._remove_log()
        return 0

    def _run_one(self) -> None:
        prepared = self._prepare()
        if prepared is None:
            return
        spec, deadline, limit = prepared
        self.jobs_run += 1
        for node in spec.nodes:  # outside any transaction: the nodes are this job's alone now
            _wipe_job_temp(Path(node.root) / "jobs", keep=spec.job_uid)
        try:
            status = self._launch_and_wait(spec, deadline)
            self._finalize(spec, status, limit)
        finally:
            self._cleanup(spec)

    def _adopt(self, job: Any, attempt: int) -> bool:
        """Supervise a job the scheduling pass is starting, instead of spawning a new supervisor.

        Saves an interpreter start per job when jobs queue up. At most one job per pass, and a
        supervisor retires after ``MAX_JOBS`` jobs.
        """
        if self.next_job is not None or self.stop_requested or self.jobs_run >= MAX_JOBS:
            return False
        self.next_job = (job["key"], attempt)
        return True

    def _on_signal(self, _signum: int, _frame: Any) -> None:
        self.stop_requested = True

    def _stop_is_genuine(self) -> bool:
        """Every legitimate SIGTERM follows a committed state change (terminating, deleted, requeued,
        failed by a scale-down or cluster deletion); a job still plainly ``running`` was not meant."""
        with self.store.read() as conn:
            job = joblife.get(conn, self.job_key)
        return not (job is not None and int(job["attempt"]) == self.attempt and job["state"] == "running")

    def _owned(self, job: Any) -> bool:
        return (job is not None and int(job["attempt"]) == self.attempt
                and job["state"] in ("running", "terminating"))

    # -- preparation ---------------------------------------------------------------------------
    def _prepare(self) -> Optional[tuple]:
        with self.store.write() as conn:  # blocks until the scheduler's transaction committed
            job = joblife.get(conn, self.job_key)
            if job is None or not self._owned(job):
                return None
            spec = self._build_spec(conn, job)
            props = loads(job["body"])["properties"]
            started = _util.parse_iso(loads(job["exec_info"])["startTime"])
        limit = props["constraints"]["maxWallClockTime"]
        return spec, started + resources.wall_clock_seconds(props), limit

    def _build_spec(self, conn: Any, job: Any) -> LaunchSpec:
        node_specs = []
        for node_id in loads(job["nodes"]):
            node = conn.execute("SELECT * FROM nodes WHERE node_id=?", (node_id,)).fetchone()
            node_specs.append(NodeSpec(id=node_id, address=node["address"], root=node["root"]))
        cluster = conn.execute("SELECT uid FROM clusters WHERE key=?", (job["cluster_key"],)).fetchone()
        uid = job_uid(job)
        self.run_dir = _home.run_dir(self.home) / "jobs" / f"{uid}-{self.attempt}"
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        cluster_uid = cluster["uid"] if cluster is not None else "orphans"
        shared = self.home / "nodes" / cluster_uid / "shared" / f"{uid}-{self.attempt}"
        shared.mkdir(mode=0o700, parents=True, exist_ok=True)
        resolved = loads(job["mounts"]) or {}
        body = loads(job["body"])
        runtime = body.pop(_util.CONTAINER_RUNTIME_KEY, None)
        return LaunchSpec(
            job=body,
            nodes=node_specs,
            shared_job_temp=str(shared),
            job_uid=uid,
            cluster_mounts=[MountSpec(**m) for m in resolved.get("cluster") or []],
            job_mounts=[MountSpec(**m) for m in resolved.get("job") or []],
            result_path=str(self.run_dir / "result.json"),
            python=self.options.python,
            container_runtime=runtime,
        )

    # -- running -------------------------------------------------------------------------------
    def _launch_and_wait(self, spec: LaunchSpec, deadline: float) -> Optional[int]:
        assert self.run_dir is not None
        spec_path = spec.write(self.run_dir / "spec.json")
        if self.stop_requested and self._stop_is_genuine():
            return None
        self.stop_requested = False
        launcher = _Launcher.start(spec_path, self.run_dir, self.options)
        start = procs.start_time(launcher.pid)
        with self.store.write() as conn:
            conn.execute("UPDATE jobs SET run_pid=?, run_start=? WHERE key=? AND attempt=?",
                         (launcher.pid, start, self.job_key, self.attempt))
        return self._wait(launcher, start, deadline)

    def _wait(self, proc: "_Launcher", start: Optional[int], deadline: float) -> int:
        delay, signalled_at = 0.002, None
        exit_fd = _pidfd(proc.pid)
        while True:
            status = proc.poll()
            if status is not None:
                break
            now = time.time()
            if self.stop_requested and signalled_at is None and not self._stop_is_genuine():
                self.stop_requested = False  # a late signal meant for an earlier job of this process
            if signalled_at is None and (self.stop_requested or now >= deadline):
                self.timed_out = not self.stop_requested
                procs.signal_group(proc.pid, start, signal.SIGTERM)
                signalled_at = now
            elif signalled_at is not None and now - signalled_at > self.options.kill_grace_seconds:
                procs.signal_group(proc.pid, start, signal.SIGKILL)
            pause = min(0.05, max(0.001, deadline - now)) if signalled_at is None else 0.05
            if exit_fd is not None:
                select.select([exit_fd], [], [], pause)  # wakes at the launcher's exit
            else:
                time.sleep(min(delay, pause))
                delay = min(delay * 2, 0.05)
        if exit_fd is not None:
            os.close(exit_fd)
        if procs.group_alive(proc.pid):  # stragglers of a finished job (daemons left behind)
            procs.kill_group_hard(proc.pid, None, grace=1.0)
        return status

    # -- result --------------------------------------------------------------------------------
    def _finalize(self, spec: LaunchSpec, status: Optional[int], limit: str) -> None:
        result = _read_result(spec.result_path)
        self.clean = self.clean and result is not None
        if result is None:  # the launcher died (SIGKILL...): its containers must not outlive the job
            _remove_containers(spec)
        kills: List[Kill] = []
        with self.store.write() as conn:
            job = joblife.get(conn, self.job_key)
            if job is not None and self._owned(job):
                state, fields = self._outcome(job["state"], result, status, limit)
                _add_image_detail(fields, spec)
                joblife.finish(conn, job, state, leave_seconds=self.options.leave_seconds, **fields)
            self.scheduler.adopter = self._adopt
            try:
                self.scheduler.run_pass(conn, kills)
            finally:
                self.scheduler.adopter = None
        self.scheduler.deliver(kills)

    def _outcome(self, state: str, result: Optional[LaunchResult], status: Optional[int],
                 limit: str) -> tuple:
        if state == "terminating" or (self.stop_requested and not self.timed_out):
            return "failed", {"errors": [joblife.JOB_TERMINATED]}
        if self.timed_out:
            code, message = WALL_CLOCK
            return "failed", {"errors": [joblife.error(code, message.format(limit=limit))]}
        if result is None:
            code, message = NO_RESULT
            return "failed", {"errors": [joblife.error(code, message.format(status=status))]}
        if result.error_code is None and result.exit_code == 0:
            return "succeeded", {"exit_code": 0}
        code = result.error_code or "JobFailed"
        error = joblife.KNOWN_ERRORS.get(code) or joblife.error(code, result.error_message or code)
        return "failed", {"exit_code": result.exit_code, "errors": [error]}

    def _remove_log(self) -> None:
        """The log of a supervisor whose every job ended cleanly holds nothing worth keeping."""
        if self.log_path is not None and self.clean and not os.environ.get("BATCHAI_COMPAT_KEEP_RUN_DIRS"):
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def _cleanup(self, spec: LaunchSpec) -> None:
        """Remove the spec (it holds secrets) and the run and shared temp dirs."""
        shutil.rmtree(spec.shared_job_temp, ignore_errors=True)
        if self.run_dir is not None:
            try:
                os.unlink(self.run_dir / "spec.json")  # it holds secrets
            except OSError:
                pass
            if not os.environ.get("BATCHAI_COMPAT_KEEP_RUN_DIRS"):
                shutil.rmtree(self.run_dir, ignore_errors=True)


def _add_image_detail(fields: dict, spec: LaunchSpec) -> None:
    """``FailedStartingContainer`` names the image in its details, as the service did
    (``docs/service-behaviour.md`` §f.2)."""
    errors = fields.get("errors") or []
    if errors and errors[0].get("code") == "FailedStartingContainer" and "details" not in errors[0]:
        registry = ((spec.job.get("properties") or {}).get("containerSettings") or {}).get("imageSourceRegistry") or {}
        if registry.get("image"):
            errors[0] = {**errors[0], "details": [{"name": "imageName", "value": str(registry["image"])}]}


def _remove_containers(spec: LaunchSpec) -> None:
    """``<runtime> rm -f`` the job's containers (names as ``launcher/containers.py`` gives them)."""
    if not spec.container_runtime or not (spec.job.get("properties") or {}).get("containerSettings"):
        return
    from batchai_compat.launcher.containers import container_name

    names = [container_name(spec.job_uid, i) for i in range(len(spec.nodes))]
    try:
        subprocess.run([spec.container_runtime, "rm", "-f", *names], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError):
        pass


def _wipe_job_temp(job_temp_dir: Path, keep: str) -> None:
    """``$AZ_BATCHAI_JOB_TEMP_DIR`` is wiped when a node starts another job, as on the service."""
    if not job_temp_dir.is_dir():
        return
    for entry in job_temp_dir.iterdir():
        if entry.name == keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                entry.unlink()
            except OSError:
                pass


def _pidfd(pid: int) -> Optional[int]:
    """A descriptor that becomes readable when ``pid`` exits (Linux >= 5.3), else ``None``."""
    try:
        return os.pidfd_open(pid)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None


class _Launcher:
    """The node launcher as a child process in its own session (hence its own process group).

    ``launcher_mode="fork"`` (default) forks this supervisor, which has the launcher's modules
    imported already, and calls the launcher's ``main`` - the same code as ``python -m
    batchai_compat.launcher --spec FILE`` minus an interpreter start (~0.1 s per job).
    ``launcher_mode="exec"`` runs exactly that command line instead.
    """

    def __init__(self, pid: int, popen: Optional[subprocess.Popen] = None) -> None:
        self.pid = pid
        self._popen = popen
        self._status: Optional[int] = None

    @classmethod
    def start(cls, spec_path: Path, run_dir: Path, options: Options) -> "_Launcher":
        if options.launcher_mode == "exec":
            argv = procs.module_argv(options.python, "batchai_compat.launcher", "--spec", str(spec_path))
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, close_fds=True, start_new_session=True,
                                     env=procs.child_env(), cwd=str(run_dir))
            return cls(popen.pid, popen)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            _launcher_child(spec_path, run_dir)
        return cls(pid)

    def poll(self) -> Optional[int]:
        if self._popen is not None:
            return self._popen.poll()
        if self._status is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self._status = os.waitstatus_to_exitcode(status)
        return self._status


def _launcher_child(spec_path: Path, run_dir: Path) -> None:  # pragma: no cover - runs in the child
    code = 70
    try:
        os.setsid()
        os.chdir(run_dir)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        from batchai_compat.launcher.__main__ import main as launcher_main

        code = launcher_main(["--spec", str(spec_path)])
    except BaseException:  # noqa: B036 - the child must never return into the supervisor
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _read_result(path: Optional[str]) -> Optional[LaunchResult]:
    if not path:
        return None
    try:
        return LaunchResult.from_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batchai_compat.backends.local.supervisor")
    parser.add_argument("--home", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--attempt", required=True, type=int)
    parser.add_argument("--options", default="{}")
    parser.add_argument("--log", default=None, help="this process's own log (removed after a clean run)")
    args = parser.parse_args(argv)
    options = Options(**json.loads(args.options))
    if options.launcher_mode == "fork":
        import batchai_compat.launcher.__main__  # noqa: F401 - imported once here, used by forked launchers
    return Supervisor(Path(args.home), args.job, args.attempt, options, args.log).run()


if __name__ == "__main__":
    sys.exit(main())
