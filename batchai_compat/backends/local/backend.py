"""``LocalBackend``: the embedded default engine (SQLite state, local processes, loopback storage).

Everything lives under one home directory (``BATCHAI_COMPAT_HOME``, default ``~/.batchai_compat``;
layout in ``batchai_compat/_home.py``). Many clients in many threads and processes may share a home:
all state is in ``state.db`` and every change is a short transaction (``store.py``). There is no
daemon: scheduling passes run inside API calls and in job supervisors (``scheduler.py``); jobs run
under detached supervisors (``supervisor.py``) and keep running when the client exits.

Module map: ``store`` (SQLite), ``resources`` (REST bodies, secret stripping), ``nodes`` (virtual
nodes), ``mounts`` (storage as directories), ``scheduler`` (scheduling pass), ``joblife`` (job state
transitions), ``supervisor`` / ``nodeprep`` (detached processes), ``files`` (output listing),
``usages``, ``paging``, ``procs`` (process identity and signals), ``_boot`` (fast module start).

Deviations from the service (each is repeated where it happens):

* timing: long-running operations finish at once or within seconds; nodes without a setup task
  join ``idle`` immediately (``resizing`` only while setup tasks run or nodes are ``leaving``, for
  ``leave_seconds``); auto-scale acts within ``autoscale_idle_seconds`` instead of minutes;
* create operations answer like a ``202`` with an empty body (``polling=False`` gives ``None``),
  as the service did for jobs, clusters and file servers;
* credentials, storage keys and subscriptions are not checked; storage accounts are directories;
* creating a cluster, file server or job that already exists returns it when the parameters are
  identical (ARM PUT idempotency) and is a ``Conflict`` otherwise;
* containers: without a configured ``container_runtime`` (or ``$BATCHAI_COMPAT_CONTAINER_RUNTIME``)
  jobs run on the host and one ``BatchAICompatWarning`` names the ignored image; with one, each node
  of the job runs in its own container (``launcher/containers.py``);
* ``unmanagedFileSystems`` mounts are refused (``NotSupported``);
* error codes the service never documented are ours: ``MaxWallClockTimeExceeded``,
  ``JobSupervisorDied``, ``ClusterDeleted``, ``MountFailed``, ``SetupTaskFailed``,
  ``OutputDirectoryNotOnMount``, ``OutputDirectoryNotFound``;
* deleting a cluster fails its running jobs (``ClusterDeleted``); its queued jobs stay queued;
* low-priority preemption is not emulated; quotas (the service's default usage limits, option
  ``quotas``) and a local node limit (``max_cluster_nodes``) are enforced when a cluster is created or
  resized (``usages.py``);
* no networking resources: no ``subnet`` is invented for file servers or the clusters mounting
  them; node and file-server IPs are loopback addresses, ssh between nodes is the launcher's shim;
* environment: jobs inherit the client's environment (plus the Batch AI variables) and run as the
  current user; setup tasks too (the service ran them as root);
* job nodes are freed as soon as a job is deleted, while its processes are still being stopped;
* a deleted resource shows ``provisioningState`` ``deleting`` for at least ``delete_seconds`` and until
  its processes are gone, then 404 (``deleting.py``); creating it again meanwhile is a ``Conflict``;
* a job requeued by a scale-down keeps its ``jobOutputDirectoryPathSegment`` (its rerun writes
  into the same folders).
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any, List, Optional

from batchai_compat import _home
from batchai_compat.backends.base import (
    Backend,
    Body,
    ExperimentRef,
    FileServerRef,
    Operation,
    OperationState,
    Page,
    WorkspaceRef,
    completed,
    polled,
)
from batchai_compat.backends.errors import Conflict, InvalidInput, not_found

from . import _util, deleting, nodes, paging, procs, resources, usages
from .cluster_ops import ClusterOperations
from .job_ops import JobOperations
from .scheduler import Kill, Options, Scheduler
from .store import Store, dumps, loads


class LocalBackend(ClusterOperations, JobOperations, Backend):
    """Run Batch AI workspaces, clusters and jobs on this machine.

    ``options``: ``leave_seconds`` (how long removed nodes stay ``leaving``, default 0.5),
    ``autoscale_idle_seconds`` (idle time before auto-scale removes a node, default 1.0),
    ``kill_grace_seconds`` (SIGTERM to SIGKILL, default 6.0), ``python`` (interpreter for
    supervisors and launchers, default ``sys.executable``), ``launcher_mode`` (``"fork"``, default:
    the supervisor forks and runs the launcher's ``main``; ``"exec"``: ``python -m
    batchai_compat.launcher``), ``linger_seconds`` (how long an idle supervisor stands by for the
    next job, default 2.0; 0 disables), ``container_runtime`` (a docker-CLI-compatible executable,
    ``docker``/``podman``/``nerdctl`` or a path, for jobs with ``containerSettings``; default
    ``$BATCHAI_COMPAT_CONTAINER_RUNTIME``, else none: such jobs run on the host with a warning),
    ``max_cluster_nodes`` (the local limit on every node count of a cluster, default 1000) and
    ``quotas`` (``{"clusters": 20, "dedicated": 600, "lowpriority": 150}`` per location by default, the
    service's; see ``usages.py``), ``delete_seconds`` (how long a deleted resource at least stays visible
    as ``deleting``, default 0.5; see ``deleting.py``).
    """

    name = "local"
    notes = {
        "usages.list": "partial: counts from the local state; the limits are enforced on cluster create/update",
        "jobs.create": "partial: containerSettings need a configured container runtime (container_runtime= or "
                       "BATCHAI_COMPAT_CONTAINER_RUNTIME), else the job runs on the host with a warning; "
                       "unmanagedFileSystems mounts are refused",
        "clusters.create": "partial: virtual nodes on loopback addresses; no VM images, subnets or preemption",
        "file_servers.create": "partial: a directory under BATCHAI_COMPAT_HOME exported to jobs, no VM",
    }

    def __init__(self, home: Optional[Any] = None, **options: Any) -> None:
        unknown = set(options) - set(Options.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown LocalBackend options: {sorted(unknown)}")
        self.home = _home.compat_home(home).resolve()
        self.store = Store.shared(self.home / "state.db")
        self.scheduler = Scheduler(self.store, self.home, Options(**options))

    def close(self) -> None:
        self.store.close()

    # -- usages --------------------------------------------------------------------------------
    def list_usages(self, subscription_id: str, location: str) -> List[Body]:
        with self.store.read() as conn:
            return usages.compute(conn, subscription_id, location, self.scheduler.options.quotas)

    # -- workspaces ----------------------------------------------------------------------------
    def create_workspace(self, ref: WorkspaceRef, body: Body) -> Operation:
        """Create or update (tags); a workspace is ``succeeded`` at once, as on the service."""
        ws_key = _util.key(_util.workspace_id(ref))
        with self.store.write() as conn:
            row = conn.execute("SELECT body FROM workspaces WHERE key=?", (ws_key,)).fetchone()
            location = body.get("location")
            if row is not None:
                stored = loads(row["body"])
                deleting.refuse_if_deleting(stored, "workspace", ref.workspace)
                if location and _norm(location) != _norm(stored["location"]):
                    raise Conflict("InvalidResourceLocation", f"The workspace {ref.workspace} already exists in "
                                   f"location {stored['location']}; it cannot be moved to {location}")
                if body.get("tags") is not None:
                    stored["tags"] = dict(body["tags"])
                conn.execute("UPDATE workspaces SET body=? WHERE key=?", (dumps(stored), ws_key))
            else:
                stored = resources.workspace_body(ref, str(location), body.get("tags"), _util.iso())
                conn.execute("INSERT INTO workspaces(key, sub, rg, body) VALUES (?,?,?,?)",
                             (ws_key, ref.subscription_id.lower(), ref.resource_group.lower(), dumps(stored)))
        return completed(stored)

    def get_workspace(self, ref: WorkspaceRef) -> Body:
        self._settle_deletions()
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
        """Deletes clusters, file servers, experiments and jobs of the workspace; kills their processes.
        The workspace and all of them stay visible, ``provisioningState`` ``deleting``, until the
        deletion completes (``deleting.py``)."""
        ws_key = _util.key(_util.workspace_id(ref))
        kills: List[Kill] = []
        doomed: List[Path] = []
        keys: List[str] = []
        with self.store.write() as conn:
            self._workspace(conn, ref)
            for job in conn.execute("SELECT * FROM jobs WHERE ws_key=?", (ws_key,)).fetchall():
                self._drop_job(conn, job, kills)
                keys.append(job["key"])
            for row in conn.execute("SELECT * FROM clusters WHERE ws_key=?", (ws_key,)).fetchall():
                doomed.append(self._drop_cluster(conn, row, kills))
                keys.append(row["key"])
            for row in conn.execute("SELECT * FROM file_servers WHERE ws_key=?", (ws_key,)).fetchall():
                if not deleting.row_is_deleting(row):
                    doomed.append(Path(row["export"]).parent)
                    self._mark_deleting(conn, "file_servers", row)
                keys.append(row["key"])
            for table in ("experiments", "workspaces"):
                column = "key" if table == "workspaces" else "ws_key"
                for row in conn.execute(f"SELECT * FROM {table} WHERE {column}=?", (ws_key,)).fetchall():  # noqa: S608
                    if not deleting.row_is_deleting(row):
                        self._mark_deleting(conn, table, row)
                    keys.append(row["key"])
        return self._finish_deletion(kills, doomed, keys)

    def _mark_deleting(self, conn: sqlite3.Connection, table: str, row: sqlite3.Row) -> None:
        options = self.scheduler.options
        deleting.mark(conn, table, row, time.time(), options.delete_seconds, options.kill_grace_seconds)

    def list_workspaces(self, subscription_id: str, resource_group: Optional[str], max_results: int,
                        continuation: Optional[str]) -> Page:
        self._settle_deletions()
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
                deleting.refuse_if_deleting(loads(row["body"]), "experiment", ref.experiment)
                return completed(loads(row["body"]))
            body = resources.experiment_body(ref, _util.iso())
            conn.execute("INSERT INTO experiments(key, ws_key, body) VALUES (?,?,?)",
                         (exp_key, _util.key(_util.workspace_id(ref.workspace_ref)), dumps(body)))
        return completed(body)

    def get_experiment(self, ref: ExperimentRef) -> Body:
        self._settle_deletions()
        with self.store.read() as conn:
            return self._experiment(conn, ref)

    def delete_experiment(self, ref: ExperimentRef) -> Operation:
        exp_key = _util.key(_util.experiment_id(ref))
        kills: List[Kill] = []
        keys = [exp_key]
        with self.store.write() as conn:
            self._experiment(conn, ref)
            for job in conn.execute("SELECT * FROM jobs WHERE exp_key=?", (exp_key,)).fetchall():
                self._drop_job(conn, job, kills)
                keys.append(job["key"])
            row = conn.execute("SELECT * FROM experiments WHERE key=?", (exp_key,)).fetchone()
            if not deleting.row_is_deleting(row):
                self._mark_deleting(conn, "experiments", row)
        return self._finish_deletion(kills, [], keys)

    def list_experiments(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        self._settle_deletions()
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
        try:  # every name is one directory below fileservers/ (``_home.segment``), or refused
            export = _home.file_server_export(ref.subscription_id, ref.resource_group, ref.workspace,
                                              ref.file_server, self.home)
        except ValueError as exc:
            raise InvalidInput("InvalidResourceName",
                               f"The resource name '{ref.file_server}' is invalid: {exc}") from exc
        with self.store.write() as conn:
            self._workspace(conn, ref.workspace_ref)
            existing = conn.execute("SELECT body FROM file_servers WHERE key=?", (fs_key,)).fetchone()
            if existing is not None:  # identical creates are idempotent, as an ARM PUT is
                stored = loads(existing["body"])
                deleting.refuse_if_deleting(stored, "file server", ref.file_server)
                if not _util.same_request(stored, body):
                    raise Conflict("Conflict", f"The specified file server {ref.file_server} already exists with "
                                   "different parameters; file servers cannot be updated: delete it first")
                return completed(resources.file_server_view(stored), accepted=True)
            address = nodes.allocate_address(conn, self.home)
            stored = resources.file_server_body(ref, body, _util.iso(), address)
            stored[_util.DIGEST_KEY] = _util.request_digest(body)
            export.mkdir(mode=0o755, parents=True, exist_ok=True)
            conn.execute("INSERT INTO file_servers(key, ws_key, address, export, body) VALUES (?,?,?,?,?)",
                         (fs_key, _util.key(_util.workspace_id(ref.workspace_ref)), address, str(export),
                          dumps(stored)))
        return completed(resources.file_server_view(stored), accepted=True)

    def get_file_server(self, ref: FileServerRef) -> Body:
        self._settle_deletions()
        with self.store.read() as conn:
            return resources.file_server_view(loads(self._file_server(conn, ref)["body"]))

    def delete_file_server(self, ref: FileServerRef) -> Operation:
        """Deletes the export directory too (the service deleted the server's data disks)."""
        with self.store.write() as conn:
            row = self._file_server(conn, ref)
            again = deleting.row_is_deleting(row)  # a second delete waits for the first (deleting.py)
            if not again:
                self._mark_deleting(conn, "file_servers", row)
        if again:
            return self._finish_deletion([], [], [row["key"]])
        return self._finish_deletion([], [Path(row["export"]).parent], [row["key"]])

    def list_file_servers(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        self._settle_deletions()
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

    # -- deletion ------------------------------------------------------------------------------
    def _finish_deletion(self, kills: List[Kill], doomed: List[Path], keys: List[str]) -> Operation:
        """Signal processes, remove directories, reschedule. The operation ends when the processes are
        gone and the resources ``keys`` (marked deleting in the same transaction) have been purged,
        ``delete_seconds`` after the delete at the earliest (``deleting.py``)."""
        for kind, pid, start in kills:
            if kind == "process":
                procs.signal_process(pid, start, signal.SIGTERM)
            elif procs.alive(pid, start):
                procs.signal_group(pid, start, signal.SIGTERM)
        for path in doomed:
            # Only ever a directory really below the home's own sub-directories: a home written by
            # an older version may record an export path that escaped it; that is left alone.
            if _home.removable(path, self.home):
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
            pending = []
            return OperationState("Succeeded" if self._purge_deletions(keys) else "InProgress")

        return polled(poll, delay=0.05)

    def _settle_deletions(self) -> None:
        """Reads that run no scheduling pass (workspaces, experiments, file servers) complete the due
        deletions first, so a delete nobody polls (``polling=False``) still ends in a 404."""
        self._purge_deletions(None)

    def _purge_deletions(self, keys: Optional[List[str]]) -> bool:
        """Purge those of ``keys`` that are due; True when none is left (reads only until one is due)."""
        now = time.time()
        with self.store.read() as conn:
            entries = deleting.pending(conn, keys)
        if not entries:
            return True
        if not any(deleting.due(entry, now) for entry in entries):
            return False
        with self.store.write() as conn:
            stragglers = deleting.purge_due(conn, now, keys)
            left = deleting.pending(conn, keys)
        for pid, start in stragglers:
            procs.signal_group(pid, start, signal.SIGKILL)
        return not left


def _norm(location: str) -> str:
    return location.replace(" ", "").lower()
