"""Cluster operations of the local backend (a mixin of ``LocalBackend``): clusters are pools of
virtual nodes (``nodes.py``) sized by the scheduler (``scheduler.py``)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

from batchai_compat.backends.base import (
    Body,
    ClusterRef,
    ExperimentRef,
    Operation,
    Page,
    WorkspaceRef,
    completed,
)
from batchai_compat.backends.errors import Conflict, not_found

from . import _util, deleting, joblife, mounts, nodes, paging, procs, resources, usages
from .scheduler import Kill, Scheduler
from .store import Store, dumps, loads


class ClusterOperations:
    store: Store
    scheduler: Scheduler
    home: Path

    if TYPE_CHECKING:  # provided by LocalBackend
        def _workspace(self, conn: sqlite3.Connection, ref: WorkspaceRef) -> Body: ...
        def _experiment(self, conn: sqlite3.Connection, ref: ExperimentRef) -> Body: ...
        def _finish_deletion(self, kills: List[Kill], doomed: List[Path], keys: List[str]) -> Operation: ...

    def create_cluster(self, ref: ClusterRef, body: Body) -> Operation:
        """Nodes are added at once (``initialNodeCount`` for auto-scale, clamped to min..max).

        Repeating a create with identical parameters returns the existing cluster (an ARM PUT is
        idempotent); different parameters are a ``Conflict``: only scale settings can change.

        Node counts and quotas are checked before the write lock is taken (``usages.py``: int32
        counts, ``max_cluster_nodes``, ``ClusterQuotaReached`` / ``ClusterCoreQuotaReached``), and the
        quotas once more inside it; nodes are added in bounded batches by the scheduling passes.
        """
        cl_key = _util.key(_util.cluster_id(ref))
        props = self._checked_properties(body)
        with self.store.read() as conn:  # refuse without ever taking the write lock
            self._workspace(conn, ref.workspace_ref)
            ws_key = _util.key(_util.workspace_id(ref.workspace_ref))
            if conn.execute("SELECT 1 FROM clusters WHERE key=?", (cl_key,)).fetchone() is None:
                usages.check_quota(conn, ws_key, cl_key, props, True, self.scheduler.options.quotas)
        now = time.time()
        with self.store.write() as conn:
            self._workspace(conn, ref.workspace_ref)
            existing = conn.execute("SELECT body FROM clusters WHERE key=?", (cl_key,)).fetchone()
            if existing is not None:
                deleting.refuse_if_deleting(loads(existing["body"]), "cluster", ref.cluster)
                if not _util.same_request(loads(existing["body"]), body):
                    raise Conflict("Conflict", f"The specified cluster {ref.cluster} already exists with different "
                                   "parameters; only its scale settings can change (clusters.update): delete it first")
            else:
                usages.check_quota(conn, ws_key, cl_key, props, True, self.scheduler.options.quotas)
                self._insert_cluster(conn, ref, cl_key, body, now)
        self.scheduler.tick()
        return completed(self.get_cluster(ref), accepted=True)

    def _checked_properties(self, body: Body) -> Body:
        """The properties the quota check needs, with scale settings normalized and their node counts
        checked (pure: no lock, no I/O)."""
        props = dict(body.get("properties") or {})
        props["scaleSettings"] = resources.normalize_scale_settings(props.get("scaleSettings"))
        props.setdefault("vmPriority", "dedicated")
        usages.check_scale(props["scaleSettings"], self.scheduler.options.max_cluster_nodes)
        return props

    def _insert_cluster(self, conn, ref: ClusterRef, cl_key: str, body: Body, now: float) -> None:
        stored = resources.cluster_body(ref, body, _util.iso(now))
        stored[_util.DIGEST_KEY] = _util.request_digest(body)
        mounts.check_job_mounts(conn, self.home, (stored["properties"].get("nodeSetup") or {}).get("mountVolumes"))
        conn.execute(
            "INSERT INTO clusters(key, ws_key, uid, pool, alloc_state, alloc_time, body) VALUES (?,?,?,?,?,?,?)",
            (cl_key, _util.key(_util.workspace_id(ref.workspace_ref)), uuid.uuid4().hex,
             str(uuid.uuid4().int % 9_000_000_000 + 1_000_000_000), "steady", _util.iso(now), dumps(stored)))
        cluster = conn.execute("SELECT * FROM clusters WHERE key=?", (cl_key,)).fetchone()
        if stored["properties"]["scaleSettings"].get("autoScale"):  # later passes add the rest, in batches
            self.scheduler.grow(conn, cluster, usages.initial_nodes(stored["properties"]["scaleSettings"]), now,
                                live=0)
        nodes.refresh_allocation(conn, cl_key, now)

    def get_cluster(self, ref: ClusterRef) -> Body:
        self.scheduler.tick()
        with self.store.read() as conn:
            return self._cluster_view(conn, self._cluster(conn, ref))

    def update_cluster(self, ref: ClusterRef, body: Body) -> Body:
        """Replaces the scale settings (switching manual/auto is allowed); resizing starts at once.

        The new node counts are checked like a create's (``usages.py``), before the write lock."""
        scale = resources.normalize_scale_settings((body.get("properties") or {}).get("scaleSettings"))
        usages.check_scale(scale, self.scheduler.options.max_cluster_nodes)
        with self.store.read() as conn:  # refuse without ever taking the write lock
            self._check_resize_quota(conn, self._cluster(conn, ref), scale)
        with self.store.write() as conn:
            row = self._cluster(conn, ref)
            self._check_resize_quota(conn, row, scale)
            stored = loads(row["body"])
            stored["properties"]["scaleSettings"] = scale
            conn.execute("UPDATE clusters SET body=? WHERE key=?", (dumps(stored), row["key"]))
        return self.get_cluster(ref)

    def _check_resize_quota(self, conn: sqlite3.Connection, row: sqlite3.Row, scale: Body) -> None:
        props = dict(loads(row["body"])["properties"], scaleSettings=scale)
        usages.check_quota(conn, row["ws_key"], row["key"], props, False, self.scheduler.options.quotas)

    def delete_cluster(self, ref: ClusterRef) -> Operation:
        """Jobs running on the cluster are killed and fail with ``ClusterDeleted``; queued jobs stay queued
        (they name the cluster by id and run if a cluster of that id appears again)."""
        kills: List[Kill] = []
        with self.store.write() as conn:
            row = self._cluster(conn, ref)
            # a second delete waits for the first (deleting.py)
            doomed = [] if deleting.row_is_deleting(row) else [self._drop_cluster(conn, row, kills)]
        return self._finish_deletion(kills, doomed, [row["key"]])

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
        first_kill = len(kills)
        if deleting.row_is_deleting(row):
            return self.home / "nodes" / row["uid"]
        # setup-task processes that left their group (setsid) but kept the node's variables die with the
        # cluster; nodes running a job are left to its supervisor, which stops the job's tree gracefully
        markers = [procs.node_marker(node["root"]) for node in nodes.list_nodes(conn, row["key"])
                   if node["prep_pid"] and not node["job_key"]]
        for job in conn.execute("SELECT * FROM jobs WHERE cluster_key=? AND state IN ('running','terminating')",
                                (row["key"],)).fetchall():
            kills.extend([("process", job["sup_pid"], job["sup_start"]), ("group", job["run_pid"], job["run_start"])])
            joblife.finish(conn, job, "failed", errors=[joblife.error(
                "ClusterDeleted", f"The job was stopped because its cluster {loads(row['body'])['name']} was deleted")])
        for node in nodes.list_nodes(conn, row["key"]):
            if not node["prep_pid"]:
                continue
            if procs.alive(node["prep_pid"], node["prep_start"]):
                kills.append(("group", node["prep_pid"], node["prep_start"]))
            else:  # the runner is gone; whatever its setup task left running goes with the cluster
                procs.kill_orphaned_group(node["prep_pid"])
        procs.kill_by_environment(markers)
        conn.execute("DELETE FROM nodes WHERE cluster_key=?", (row["key"],))
        # the cluster stays visible, provisioningState deleting, until the deletion completes (deleting.py)
        groups = [(pid, start) for kind, pid, start in kills[first_kill:] if kind == "group" and pid]
        deleting.mark(conn, "clusters", row, time.time(), self.scheduler.options.delete_seconds,
                      self.scheduler.options.kill_grace_seconds, groups)
        return self.home / "nodes" / row["uid"]


def _login(node: sqlite3.Row) -> Body:
    return {"nodeId": node["node_id"], "ipAddress": node["address"], "port": node["port"]}
