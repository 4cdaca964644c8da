"""Job operations of the local backend (a mixin of ``LocalBackend``): jobs are queued here, started
by the scheduler (``scheduler.py``) and run under supervisors (``supervisor.py``)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional

from batchai_compat.backends.base import (
    Body,
    ExperimentRef,
    JobRef,
    Operation,
    OperationState,
    Page,
    WorkspaceRef,
    completed,
    polled,
)
from batchai_compat.backends.errors import Conflict, InvalidInput, NotFound, not_found
from batchai_compat.exceptions import warn_compat
from batchai_compat.launcher.containers import resolve_runtime

from . import _util, deleting, files, joblife, mounts, nodes, paging, procs, resources
from .cluster_ops import _login
from .scheduler import Kill, Scheduler
from .store import Store, dumps, loads


class JobOperations:
    store: Store
    scheduler: Scheduler
    home: Path

    if TYPE_CHECKING:  # provided by LocalBackend
        def _workspace(self, conn: sqlite3.Connection, ref: WorkspaceRef) -> Body: ...
        def _experiment(self, conn: sqlite3.Connection, ref: ExperimentRef) -> Body: ...
        def _finish_deletion(self, kills: List[Kill], doomed: List[Path], keys: List[str]) -> Operation: ...

    def create_job(self, ref: JobRef, body: Body) -> Operation:
        """Queue a job. ``containerSettings``: with a container runtime configured (option
        ``container_runtime`` or ``$BATCHAI_COMPAT_CONTAINER_RUNTIME``) the job runs in containers
        (``launcher/containers.py``); a configured runtime that is missing or not working fails the
        create (``ContainerRuntimeNotAvailable``), never silently falls back. Without one the job runs
        on the host and one ``BatchAICompatWarning`` names the ignored image.

        Repeating a create with identical parameters returns the existing job (an ARM PUT is
        idempotent; nothing runs twice); different parameters are a ``Conflict``, and so is a create
        while a job of that name is being deleted (``deleting.py``). Mounted storage is checked when the
        job starts, not here (``mounts.MountError``)."""
        job_key = _util.key(_util.job_id(ref))
        props = body.get("properties") or {}
        cluster_id = (props.get("cluster") or {}).get("id") or ""
        runtime = self._container_runtime(props)
        with self.store.write() as conn:
            self._experiment(conn, ref.experiment_ref)
            if conn.execute("SELECT 1 FROM clusters WHERE key=?", (_util.key(cluster_id),)).fetchone() is None:
                raise not_found("Cluster", cluster_id.rstrip("/").rsplit("/", 1)[-1] or cluster_id)
            existing = conn.execute("SELECT body FROM jobs WHERE key=?", (job_key,)).fetchone()
            if existing is not None:
                deleting.refuse_if_deleting(loads(existing["body"]), "job", ref.job)
                if not _util.same_request(loads(existing["body"]), body):
                    raise Conflict("Conflict", f"The specified job {ref.job} already exists with different "
                                   "parameters; jobs cannot be updated: delete it first")
                return completed(_job_view(self._job(conn, ref)), accepted=True)
            self._insert_job(conn, ref, job_key, cluster_id, body, runtime)
        if runtime is None:
            _warn_container(props)
        self.scheduler.tick()
        return completed(self.get_job(ref), accepted=True)

    def _container_runtime(self, props: Body) -> Optional[str]:
        """The runtime (absolute path) a job with ``containerSettings`` runs with, or None."""
        if not props.get("containerSettings"):
            return None
        configured = self.scheduler.options.container_runtime or os.environ.get(RUNTIME_VARIABLE) or None
        return None if configured is None else check_container_runtime(configured)

    def _insert_job(self, conn, ref: JobRef, job_key: str, cluster_id: str, body: Body,
                    runtime: Optional[str] = None) -> None:
        stored = resources.job_body(ref, body, _util.iso(), str(uuid.uuid4()))
        stored[_util.DIGEST_KEY] = _util.request_digest(body)
        if runtime is not None:
            stored[_util.CONTAINER_RUNTIME_KEY] = runtime
        mounts.check_job_mounts(conn, self.home, stored["properties"].get("mountVolumes"))
        conn.execute(
            "INSERT INTO jobs(key, exp_key, ws_key, cluster_key, node_count, priority, state, state_time, body) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (job_key, _util.key(_util.experiment_id(ref.experiment_ref)),
             _util.key(_util.workspace_id(ref.workspace_ref)), _util.key(cluster_id),
             stored["properties"]["nodeCount"], resources.PRIORITIES[stored["properties"]["schedulingPriority"]],
             "queued", stored["properties"]["creationTime"], dumps(stored)))

    def get_job(self, ref: JobRef) -> Body:
        self.scheduler.tick()
        with self.store.read() as conn:
            return _job_view(self._job(conn, ref))

    def delete_job(self, ref: JobRef) -> Operation:
        """Works in every state; kills the job's processes. Until the operation completes (the processes
        are gone, and ``delete_seconds`` have passed) the job stays visible with ``provisioningState``
        ``deleting`` (``deleting.py``); a second delete waits for the same completion."""
        kills: List[Kill] = []
        with self.store.write() as conn:
            job = self._job(conn, ref)
            if not deleting.row_is_deleting(job):
                self._drop_job(conn, job, kills)
        return self._finish_deletion(kills, [], [job["key"]])

    def terminate_job(self, ref: JobRef) -> Operation:
        """queued -> failed/JobTerminated at once; running -> terminating -> failed/JobTerminated (no
        exitCode); finished -> no-op (the service answered a plain 200)."""
        with self.store.write() as conn:
            job = self._job(conn, ref)
            if job["state"] in joblife.FINAL_STATES:
                return completed(None)
            if job["state"] == "queued":
                joblife.finish(conn, job, "failed", errors=[joblife.JOB_TERMINATED])
                return completed(None, accepted=True)
            if job["state"] == "running":
                joblife.mark_terminating(conn, job)
        procs.signal_process(job["sup_pid"], job["sup_start"], signal.SIGTERM)

        def poll() -> OperationState:
            try:
                current = self.get_job(ref)["properties"]["executionState"]
            except NotFound:  # deleted meanwhile: nothing left to terminate
                return OperationState("Succeeded")
            return OperationState("Succeeded" if current in joblife.FINAL_STATES else "InProgress")

        return polled(poll, delay=0.05)

    def list_jobs(self, ref: ExperimentRef, max_results: int, continuation: Optional[str]) -> Page:
        self.scheduler.tick()
        with self.store.read() as conn:
            self._experiment(conn, ref)
            return paging.page_rows(conn, "jobs", "exp_key=?", [_util.key(_util.experiment_id(ref))],
                                    max_results, continuation, _job_view)

    def list_output_files(self, ref: JobRef, output_directory_id: str, directory: str, link_expiry_minutes: int,
                          max_results: int, continuation: Optional[str]) -> Page:
        with self.store.read() as conn:
            job = self._job(conn, ref)
            cluster = conn.execute("SELECT body FROM clusters WHERE key=?", (job["cluster_key"],)).fetchone()
            resolved = loads(job["mounts"]) or files.current_mounts(conn, self.home, job, cluster)
        return files.list_files(self.home, loads(job["body"]), resolved, output_directory_id, directory or ".",
                                link_expiry_minutes, max_results, continuation)

    def list_job_remote_login_information(self, ref: JobRef, continuation: Optional[str]) -> Page:
        """The nodes that ran (or run) the job and still exist."""
        with self.store.read() as conn:
            job = self._job(conn, ref)
            items = []
            for node_id in loads(job["nodes"]) or []:
                node = conn.execute("SELECT * FROM nodes WHERE node_id=?", (node_id,)).fetchone()
                if node is not None:
                    items.append(_login(node))
        return paging.page_list(items, 1000, continuation)

    def _job(self, conn: sqlite3.Connection, ref: JobRef) -> sqlite3.Row:
        row = joblife.get(conn, _util.key(_util.job_id(ref)))
        if row is None:
            self._experiment(conn, ref.experiment_ref)
            raise not_found("Job", ref.job)
        return row

    def _drop_job(self, conn: sqlite3.Connection, job: sqlite3.Row, kills: List[Kill]) -> None:
        """Start deleting ``job``: it is never started again (its queue entry goes), a running one is
        terminated (``terminating``; its supervisor records ``JobTerminated``), its nodes are freed at
        once; the row itself is removed when the deletion completes (``deleting.py``)."""
        if deleting.row_is_deleting(job):
            return
        groups = []
        if job["state"] in ("running", "terminating"):
            kills.extend([("process", job["sup_pid"], job["sup_start"]), ("group", job["run_pid"], job["run_start"])])
            groups.append((job["run_pid"], job["run_start"]))
            if job["state"] == "running":
                joblife.mark_terminating(conn, job)
        conn.execute("UPDATE jobs SET cluster_key='' WHERE key=?", (job["key"],))  # out of every queue
        nodes.release(conn, job["key"], 0.0)
        options = self.scheduler.options
        deleting.mark(conn, "jobs", joblife.get_existing(conn, job["key"]), time.time(), options.delete_seconds,
                      options.kill_grace_seconds, groups)


def _job_view(row: sqlite3.Row) -> Body:
    return resources.job_view(loads(row["body"]), row["state"], row["state_time"], loads(row["exec_info"]))


RUNTIME_VARIABLE = "BATCHAI_COMPAT_CONTAINER_RUNTIME"
_RUNTIME_OK_SECONDS = 60.0
_runtime_checked: Dict[str, float] = {}  # runtime path -> monotonic time its `info` last succeeded


def check_container_runtime(runtime: str) -> str:
    """Absolute path of a working runtime (found, and ``<runtime> info`` succeeds); else the
    ``InvalidInput`` the job create fails with. Successes are remembered for a minute."""
    source = "container_runtime option / " + RUNTIME_VARIABLE
    path = resolve_runtime(runtime)
    if path is None:
        raise InvalidInput("ContainerRuntimeNotAvailable",
                           f"The container runtime {runtime!r} ({source}) was not found on PATH; install it, "
                           "or unset the setting to run container jobs on the host")
    if time.monotonic() - _runtime_checked.get(path, -1e9) < _RUNTIME_OK_SECONDS:
        return path
    try:
        proc = subprocess.run([path, "info"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=30, check=False)
        problem = None if proc.returncode == 0 else (
            " ".join(proc.stderr.decode("utf-8", "replace").split())[-500:] or f"exit status {proc.returncode}")
    except (OSError, subprocess.SubprocessError) as exc:
        problem = str(exc)
    if problem is not None:
        raise InvalidInput("ContainerRuntimeNotAvailable",
                           f"The container runtime {runtime!r} ({source}) is not working: "
                           f"'{os.path.basename(path)} info' failed: {problem}")
    _runtime_checked[path] = time.monotonic()
    return path


def _warn_container(props: Body) -> None:
    image = ((props.get("containerSettings") or {}).get("imageSourceRegistry") or {}).get("image")
    if image:
        warn_compat(f"containerSettings ignored: no container runtime is configured, so the job runs on the host "
                    f"instead of in image {image!r} (set container_runtime= or BATCHAI_COMPAT_CONTAINER_RUNTIME "
                    "to docker or podman to use it)")

