"""``LocalBackend``: the embedded default engine (SQLite state, local processes, loopback storage).

Everything lives under one home directory (``BATCHAI_COMPAT_HOME``, default ``~/.batchai_compat``;
layout in ``batchai_compat/_home.py``). Many clients in many threads and processes may share a home:
all state is in ``state.db`` and every change is a short transaction (see ``store.py``). Jobs run
under detached supervisors (``supervisor.py``) and keep running when the client exits.

Deviations from the service that apply to every operation:

* long-running operations finish immediately or within seconds (the service took seconds to
  minutes); create operations still answer like a ``202`` with an empty body, so ``polling=False``
  returns ``None`` as it did;
* credentials, storage keys and subscriptions are not checked; any subscription id works;
* creating a cluster, file server or job that already exists is a ``Conflict`` (ARM would have
  treated the PUT as an update, which Batch AI did not support for these resources).
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, List, Optional

from batchai_compat import _home
from batchai_compat.backends.base import (
    Backend,
    Body,
    ClusterRef,
    ExperimentRef,
    FileServerRef,
    JobRef,
    Operation,
    OperationState,
    Page,
    WorkspaceRef,
    completed,
    polled,
)
from batchai_compat.backends.errors import Conflict, InvalidInput, not_found
from batchai_compat.exceptions import BatchAICompatWarning

from . import _util, files, joblife, mounts, nodes, paging, procs, resources, usages
from .scheduler import Kill, Options, Scheduler
from .store import Store, dumps, loads


class LocalBackend(Backend):
    """Run Batch AI workspaces, clusters and jobs on this machine.

    ``options``: ``leave_seconds`` (how long removed nodes stay ``leaving``, default 0.5),
    ``autoscale_idle_seconds`` (idle time before auto-scale removes a node, default 1.0),
    ``kill_grace_seconds`` (SIGTERM to SIGKILL, default 6.0), ``python`` (interpreter for
    supervisors and launchers, default ``sys.executable``), ``launcher_mode`` (``"fork"``, default:
    the supervisor forks and runs the launcher's ``main``; ``"exec"``: ``python -m
    batchai_compat.launcher``).
    """

    name = "local"

    def __init__(self, home: Optional[Any] = None, **options: Any) -> None:
        unknown = set(options) - set(Options.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown LocalBackend options: {sorted(unknown)}")
        self.home = _home.compat_home(home).resolve()
        self.store = Store(self.home / "state.db")
        self.scheduler = Scheduler(self.store, self.home, Options(**options))

    def close(self) -> None:
        self.store.close()

    # -- usages --------------------------------------------------------------------------------
    def list_usages(self, subscription_id: str, location: str) -> List[Body]:
        with self.store.read() as conn:
            return usages.compute(conn, subscription_id, location)

    # -- workspaces ----------------------------------------------------------------------------
    def create_workspace(self, ref: WorkspaceRef, body: Body) -> Operation:
        """Create or update (tags); a workspace is ``succeeded`` at once, as on the service."""
        ws_key = _util.key(_util.workspace_id(ref))
        with self.store.write() as conn:
            row = conn.execute("SELECT body FROM workspaces WHERE key=?", (ws_key,)).fetchone()
            location = body.get("location")
            if row is not None:
                stored = loads(row["body"])
                if location and _norm(location) != _norm(stored["location"]):
                    raise Conflict("InvalidResourceLocation", f"The workspace {ref.workspace} already exists in "
                                   f"location {stored['location']}; it cannot be moved to {location}")
                if body.get("tags") is not None:
                    stored["tags"] = dict(body["tags"])
                conn.execute("UPDATE workspaces SET body=? WHERE key=?", (dumps(stored), ws_key))
            else:
                stored = resources.workspace_body(ref, location, body.get("tags"), _util.iso())
                conn.execute("INSERT INTO workspaces(key, sub, rg, body) VALUES (?,?,?,?)",
                             (ws_key, ref.subscription_id.lower(), ref.resource_group.lower(), dumps(stored)))
        return completed(stored)

    def get_workspace(self, ref: WorkspaceRef) -> Body:
        with self.store.read() as conn:
            return self._workspace(conn, ref)

    def update_workspace(self, ref: WorkspaceRef, body: Body) -> Body:
        ws_key = _util.key(_util.workspace_id(ref))
        with self.store.write() as conn:
            stored = self._workspace(conn, ref)
            if body.get("tags") is not None:
                stored["tags"] = dict(body["tags"])
            conn.execute("UPDATE workspaces SET body=? WHERE key=?", (dumps(stored), ws_key))
        return stored

    def delete_workspace(self, ref: WorkspaceRef) -> Operation:
        """Deletes clusters, file servers, experiments and jobs of the workspace; kills their processes."""
        ws_key = _util.key(_util.workspace_id(ref))
        kills: List[Kill] = []
        doomed: List[Path] = []
        with self.store.write() as conn:
            self._workspace(conn, ref)
            for job in conn.execute("SELECT * FROM jobs WHERE ws_key=?", (ws_key,)).fetchall():
                self._drop_job(conn, job, kills)
            for row in conn.execute("SELECT * FROM clusters WHERE ws_key=?", (ws_key,)).fetchall():
                doomed.append(self._drop_cluster(conn, row, kills))
            for row in conn.execute("SELECT * FROM file_servers WHERE ws_key=?", (ws_key,)).fetchall():
                doomed.append(Path(row["export"]).parent)
            conn.execute("DELETE FROM file_servers WHERE ws_key=?", (ws_key,))
            conn.execute("DELETE FROM experiments WHERE ws_key=?", (ws_key,))
            conn.execute("DELETE FROM workspaces WHERE key=?", (ws_key,))
        return self._finish_deletion(kills, doomed)

    def list_workspaces(self, subscription_id: str, resource_group: Optional[str], max_results: int,
                        continuation: Optional[str]) -> Page:
        where, params = "sub=?", [subscription_id.lower()]
        if resource_group is not None:
            where, params = "sub=? AND rg=?", [subscription_id.lower(), resource_group.lower()]
        with self.store.read() as conn:
            return paging.page_rows(conn, "workspaces", where, params, max_results, continuation,
                                    lambda row: loads(row["body"]))

    def _workspace(self, conn: sqlite3.Connection, ref: WorkspaceRef) -> Body:
        row = conn.execute("SELECT body FROM workspaces WHERE key=?",
                           (_util.key(_util.workspace_id(ref)),)).fetchone()
        if row is None:
            raise not_found("Workspace", ref.workspace)
        return loads(row["body"])

    # -- experiments ---------------------------------------------------------------------------
    def create_experiment(self, ref: ExperimentRef) -> Operation:
        """Idempotent: creating an existing experiment returns it unchanged."""
        exp_key = _util.key(_util.experiment_id(ref))
        with self.store.write() as conn:
            self._workspace(conn, ref.workspace_ref)
            row = conn.execute("SELECT body FROM experiments WHERE key=?", (exp_key,)).fetchone()
            if row is not None:
                return completed(loads(row["body"]))
            body = resources.experiment_body(ref, _util.iso())
            conn.execute("INSERT INTO experiments(key, ws_key, body) VALUES (?,?,?)",
                         (exp_key, _util.key(_util.workspace_id(ref.workspace_ref)), dumps(body)))
        return completed(body)

    def get_experiment(self, ref: ExperimentRef) -> Body:
        with self.store.read() as conn:
            return self._experiment(conn, ref)

    def delete_experiment(self, ref: ExperimentRef) -> Operation:
        exp_key = _util.key(_util.experiment_id(ref))
        kills: List[Kill] = []
        with self.store.write() as conn:
            self._experiment(conn, ref)
            for job in conn.execute("SELECT * FROM jobs WHERE exp_key=?", (exp_key,)).fetchall():
                self._drop_job(conn, job, kills)
            conn.execute("DELETE FROM experiments WHERE key=?", (exp_key,))
        return self._finish_deletion(kills, [])

    def list_experiments(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        with self.store.read() as conn:
            self._workspace(conn, ref)
            return paging.page_rows(conn, "experiments", "ws_key=?", [_util.key(_util.workspace_id(ref))],
                                    max_results, continuation, lambda row: loads(row["body"]))

    def _experiment(self, conn: sqlite3.Connection, ref: ExperimentRef) -> Body:
        row = conn.execute("SELECT body FROM experiments WHERE key=?",
                           (_util.key(_util.experiment_id(ref)),)).fetchone()
        if row is None:
            self._workspace(conn, ref.workspace_ref)
            raise not_found("Experiment", ref.experiment)
        return loads(row["body"])

    # -- file servers --------------------------------------------------------------------------
    def create_file_server(self, ref: FileServerRef, body: Body) -> Operation:
        """A file server is the directory ``_home.file_server_export(...)``, ``succeeded`` at once."""
        fs_key = _util.key(_util.file_server_id(ref))
        export = _home.file_server_export(ref.subscription_id, ref.resource_group, ref.workspace,
                                          ref.file_server, self.home)
        with self.store.write() as conn:
            self._workspace(conn, ref.workspace_ref)
            if conn.execute("SELECT 1 FROM file_servers WHERE key=?", (fs_key,)).fetchone():
                raise Conflict("Conflict", f"The specified file server {ref.file_server} already exists")
            address = nodes.allocate_address(conn)
            stored = resources.file_server_body(ref, body, _util.iso(), address)
            export.mkdir(mode=0o755, parents=True, exist_ok=True)
            conn.execute("INSERT INTO file_servers(key, ws_key, address, export, body) VALUES (?,?,?,?,?)",
                         (fs_key, _util.key(_util.workspace_id(ref.workspace_ref)), address, str(export),
                          dumps(stored)))
        return completed(resources.file_server_view(stored), accepted=True)

    def get_file_server(self, ref: FileServerRef) -> Body:
        with self.store.read() as conn:
            return resources.file_server_view(loads(self._file_server(conn, ref)["body"]))

    def delete_file_server(self, ref: FileServerRef) -> Operation:
        """Deletes the export directory too (the service deleted the server's data disks)."""
        with self.store.write() as conn:
            row = self._file_server(conn, ref)
            conn.execute("DELETE FROM file_servers WHERE key=?", (row["key"],))
        return self._finish_deletion([], [Path(row["export"]).parent])

    def list_file_servers(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        with self.store.read() as conn:
            self._workspace(conn, ref)
            return paging.page_rows(conn, "file_servers", "ws_key=?", [_util.key(_util.workspace_id(ref))],
                                    max_results, continuation,
                                    lambda row: resources.file_server_view(loads(row["body"])))

    def _file_server(self, conn: sqlite3.Connection, ref: FileServerRef) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM file_servers WHERE key=?",
                           (_util.key(_util.file_server_id(ref)),)).fetchone()
        if row is None:
            self._workspace(conn, ref.workspace_ref)
            raise not_found("FileServer", ref.file_server)
        return row

    # -- clusters ------------------------------------------------------------------------------
    def create_cluster(self, ref: ClusterRef, body: Body) -> Operation:
        """Nodes are added at once (``initialNodeCount`` for auto-scale, clamped to min..max)."""
        cl_key = _util.key(_util.cluster_id(ref))
        now = time.time()
        with self.store.write() as conn:
            self._workspace(conn, ref.workspace_ref)
            if conn.execute("SELECT 1 FROM clusters WHERE key=?", (cl_key,)).fetchone():
                raise Conflict("Conflict", f"The specified cluster {ref.cluster} already exists")
            stored = resources.cluster_body(ref, body, _util.iso(now))
            mounts.check_job_mounts(conn, self.home, (stored["properties"].get("nodeSetup") or {}).get("mountVolumes"))
            conn.execute(
                "INSERT INTO clusters(key, ws_key, uid, pool, alloc_state, alloc_time, body) VALUES (?,?,?,?,?,?,?)",
                (cl_key, _util.key(_util.workspace_id(ref.workspace_ref)), uuid.uuid4().hex,
                 str(uuid.uuid4().int % 9_000_000_000 + 1_000_000_000), "steady", _util.iso(now), dumps(stored)))
            cluster = conn.execute("SELECT * FROM clusters WHERE key=?", (cl_key,)).fetchone()
            auto = stored["properties"]["scaleSettings"].get("autoScale")
            if auto:
                initial = max(auto["minimumNodeCount"], min(auto["maximumNodeCount"], auto["initialNodeCount"]))
                self.scheduler.grow(conn, cluster, initial, now)
            nodes.refresh_allocation(conn, cl_key, now)
        self.scheduler.tick()
        return completed(self.get_cluster(ref), accepted=True)

    def get_cluster(self, ref: ClusterRef) -> Body:
        self.scheduler.tick()
        with self.store.read() as conn:
            return self._cluster_view(conn, self._cluster(conn, ref))

    def update_cluster(self, ref: ClusterRef, body: Body) -> Body:
        """Replaces the scale settings (switching manual/auto is allowed); resizing starts at once."""
        scale = resources.normalize_scale_settings((body.get("properties") or {}).get("scaleSettings"))
        with self.store.write() as conn:
            row = self._cluster(conn, ref)
            stored = loads(row["body"])
            stored["properties"]["scaleSettings"] = scale
            conn.execute("UPDATE clusters SET body=? WHERE key=?", (dumps(stored), row["key"]))
        return self.get_cluster(ref)

    def delete_cluster(self, ref: ClusterRef) -> Operation:
        """Jobs running on the cluster are killed and fail with ``ClusterDeleted``; queued jobs stay queued
        (they name the cluster by id and run if a cluster of that id appears again)."""
        kills: List[Kill] = []
        with self.store.write() as conn:
            row = self._cluster(conn, ref)
            doomed = self._drop_cluster(conn, row, kills)
        return self._finish_deletion(kills, [doomed])

    def list_clusters(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        self.scheduler.tick()
        with self.store.read() as conn:
            self._workspace(conn, ref)
            return paging.page_rows(conn, "clusters", "ws_key=?", [_util.key(_util.workspace_id(ref))],
                                    max_results, continuation, lambda row: self._cluster_view(conn, row))

    def list_cluster_remote_login_information(self, ref: ClusterRef, continuation: Optional[str]) -> Page:
        self.scheduler.tick()
        with self.store.read() as conn:
            row = self._cluster(conn, ref)
            items = [_login(node) for node in nodes.list_nodes(conn, row["key"])]
        return paging.page_list(items, 1000, continuation)

    def _cluster(self, conn: sqlite3.Connection, ref: ClusterRef) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM clusters WHERE key=?", (_util.key(_util.cluster_id(ref)),)).fetchone()
        if row is None:
            self._workspace(conn, ref.workspace_ref)
            raise not_found("Cluster", ref.cluster)
        return row

    @staticmethod
    def _cluster_view(conn: sqlite3.Connection, row: sqlite3.Row) -> Body:
        return resources.cluster_view(loads(row["body"]), row["alloc_state"], row["alloc_time"],
                                      loads(row["errors"]), nodes.counts(conn, row["key"]))

    def _drop_cluster(self, conn: sqlite3.Connection, row: sqlite3.Row, kills: List[Kill]) -> Path:
        for job in conn.execute("SELECT * FROM jobs WHERE cluster_key=? AND state IN ('running','terminating')",
                                (row["key"],)).fetchall():
            kills.extend([("process", job["sup_pid"], job["sup_start"]), ("group", job["run_pid"], job["run_start"])])
            joblife.finish(conn, job, "failed", errors=[joblife.error(
                "ClusterDeleted", f"The job was stopped because its cluster {loads(row['body'])['name']} was deleted")])
        for node in nodes.list_nodes(conn, row["key"]):
            if node["prep_pid"]:
                kills.append(("group", node["prep_pid"], node["prep_start"]))
        conn.execute("DELETE FROM nodes WHERE cluster_key=?", (row["key"],))
        conn.execute("DELETE FROM clusters WHERE key=?", (row["key"],))
        return self.home / "nodes" / row["uid"]

    # -- jobs ----------------------------------------------------------------------------------
    def create_job(self, ref: JobRef, body: Body) -> Operation:
        """Queue a job. ``containerSettings`` is accepted but the job runs on the host: one
        ``BatchAICompatWarning`` names the ignored image (there is no container engine here)."""
        job_key = _util.key(_util.job_id(ref))
        props = body.get("properties") or {}
        cluster_id = (props.get("cluster") or {}).get("id") or ""
        with self.store.write() as conn:
            self._experiment(conn, ref.experiment_ref)
            if conn.execute("SELECT 1 FROM clusters WHERE key=?", (_util.key(cluster_id),)).fetchone() is None:
                raise not_found("Cluster", cluster_id.rstrip("/").rsplit("/", 1)[-1] or cluster_id)
            if conn.execute("SELECT 1 FROM jobs WHERE key=?", (job_key,)).fetchone():
                raise Conflict("Conflict", f"The specified job {ref.job} already exists")
            stored = resources.job_body(ref, body, _util.iso(), str(uuid.uuid4()))
            mounts.check_job_mounts(conn, self.home, stored["properties"].get("mountVolumes"))
            conn.execute(
                "INSERT INTO jobs(key, exp_key, ws_key, cluster_key, node_count, priority, state, state_time, body) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (job_key, _util.key(_util.experiment_id(ref.experiment_ref)),
                 _util.key(_util.workspace_id(ref.workspace_ref)), _util.key(cluster_id),
                 stored["properties"]["nodeCount"], resources.PRIORITIES[stored["properties"]["schedulingPriority"]],
                 "queued", stored["properties"]["creationTime"], dumps(stored)))
        _warn_container(props)
        self.scheduler.tick()
        return completed(self.get_job(ref), accepted=True)

    def get_job(self, ref: JobRef) -> Body:
        self.scheduler.tick()
        with self.store.read() as conn:
            return _job_view(self._job(conn, ref))

    def delete_job(self, ref: JobRef) -> Operation:
        """Works in every state; kills the job's processes (operation completes when they are gone)."""
        kills: List[Kill] = []
        with self.store.write() as conn:
            self._drop_job(conn, self._job(conn, ref), kills)
        return self._finish_deletion(kills, [])

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
            current = self.get_job(ref)["properties"]["executionState"]
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
        items = files.list_files(self.home, loads(job["body"]), resolved, output_directory_id, directory or ".",
                                 link_expiry_minutes)
        return paging.page_list(items, max_results, continuation)

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

    @staticmethod
    def _drop_job(conn: sqlite3.Connection, job: sqlite3.Row, kills: List[Kill]) -> None:
        if job["state"] in ("running", "terminating"):
            kills.extend([("process", job["sup_pid"], job["sup_start"]), ("group", job["run_pid"], job["run_start"])])
        conn.execute("DELETE FROM jobs WHERE key=?", (job["key"],))
        nodes.release(conn, job["key"], 0.0)

    # -- deletion ------------------------------------------------------------------------------
    def _finish_deletion(self, kills: List[Kill], doomed: List[Path]) -> Operation:
        """Signal processes, remove directories, reschedule; the operation ends when the processes are gone."""
        for kind, pid, start in kills:
            if kind == "process":
                procs.signal_process(pid, start, signal.SIGTERM)
            elif procs.alive(pid, start):
                procs.signal_group(pid, start, signal.SIGTERM)
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)
        self.scheduler.tick()
        deadline = time.monotonic() + self.scheduler.options.kill_grace_seconds + 1.0
        # Wait for the jobs' process groups only: a supervisor that was told to stop may go on to
        # supervise another job, so it is signalled but never waited for or killed here.
        pending = [pid for kind, pid, _start in kills if kind == "group" and pid]

        def poll() -> OperationState:
            nonlocal pending
            pending = [pid for pid in pending if procs.group_alive(pid)]
            if pending and time.monotonic() < deadline:
                return OperationState("InProgress")
            for pid in pending:  # grace over: SIGKILL what is left
                procs.signal_group(pid, None, signal.SIGKILL)
            return OperationState("Succeeded")

        state = poll() if not pending else None
        if state is not None:
            return completed(None, accepted=True)
        return polled(poll, delay=0.05)


def _job_view(row: sqlite3.Row) -> Body:
    return resources.job_view(loads(row["body"]), row["state"], row["state_time"], loads(row["exec_info"]))


def _login(node: sqlite3.Row) -> Body:
    return {"nodeId": node["node_id"], "ipAddress": node["address"], "port": node["port"]}


def _norm(location: str) -> str:
    return location.replace(" ", "").lower()


def _warn_container(props: Body) -> None:
    image = ((props.get("containerSettings") or {}).get("imageSourceRegistry") or {}).get("image")
    if image:
        warnings.warn(f"containerSettings ignored: the local backend has no container engine, so the job runs on "
                      f"the host instead of in image {image!r}", BatchAICompatWarning, stacklevel=3)


__all__ = ["LocalBackend", "InvalidInput"]
