"""Scheduling without a daemon: a short pass run whenever state may have changed.

:meth:`Scheduler.tick` runs one write transaction (so two processes never start the same job) that

1. reaps jobs whose supervisor died (pid + start time gone) -> ``failed``, never ``running`` forever;
2. reaps nodes whose setup-task runner died -> ``unusable``;
3. sizes every cluster (manual ``targetNodeCount`` with ``nodeDeallocationOption``, or auto-scale);
4. starts queued jobs (gang scheduling: ``nodeCount`` idle nodes at once; ``high > normal > low``,
   FIFO within a priority, no back-filling past a job that could run once nodes free up), handing
   each to a finishing or standby supervisor when there is one (``standby.py``), else spawning one;
5. removes nodes that finished leaving and recomputes each cluster's ``allocationState``.

Processes are spawned inside the transaction (spawning is a fork+exec, milliseconds) so the pid is
recorded atomically with the state change; signals are sent after the commit. It is called on job
create/end/terminate/delete, cluster create/update and on reads (get/list).

Timing choices (deviations; the service took minutes for each):

* nodes without a setup task join ``idle`` at once; with one they are ``preparing`` (cluster
  ``resizing``) until the task ends;
* removed nodes are ``leaving`` for ``leave_seconds`` (default 0.5 s);
* auto-scale grows at once for queued jobs and removes nodes idle for ``autoscale_idle_seconds``
  (default 1 s) - the service evaluated its formula every few minutes.

Bounded work under the write lock: a pass adds at most ``GROW_BATCH`` nodes to a cluster (the rest
in the following passes, while the cluster shows ``resizing`` as the service did while allocating),
and never more than the vCPU quota leaves room for (``usages.headroom``); node counts themselves are
checked before any lock is taken (``usages.check_scale``).

Nothing the backend starts outlives what it belongs to: a setup-task runner found dead takes its
setup task's process group with it (the node turns ``unusable`` and the group is SIGKILLed right
after the commit), as does a dead supervisor its launcher's group (SIGTERM, then SIGKILL after
``kill_grace_seconds``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from batchai_compat import _home
from batchai_compat.backends.errors import BackendError

from . import deleting, joblife, mounts, nodes, procs, standby, usages
from .store import Store, dumps, loads

Kill = Tuple[str, Optional[int], Optional[int]]  # ("process" | "group" | "orphans", pid, start)
GROW_BATCH = 64  # nodes one scheduling pass adds to one cluster

SUPERVISOR_LOST = ("JobSupervisorDied",
                   "The local process supervising this job (pid {pid}) is gone - it was killed or the machine "
                   "restarted - so the job was marked failed and its remaining processes were stopped")
NODE_REMOVED_TERMINATE = ("JobTerminated",
                          "The job was terminated because its node was removed by a cluster resize "
                          "(nodeDeallocationOption=terminate)")


@dataclass
class Options:
    leave_seconds: float = 0.5
    autoscale_idle_seconds: float = 1.0
    kill_grace_seconds: float = 6.0  # the launcher kills its own tree within 2 s of SIGTERM; asks for >= 5 s
    python: str = field(default_factory=lambda: sys.executable)
    launcher_mode: str = "fork"  # "fork": the supervisor forks into the launcher; "exec": a new interpreter
    linger_seconds: float = 2.0  # an idle supervisor waits this long for a next job (standby.py)
    container_runtime: Optional[str] = None  # docker-CLI-compatible runtime for containerSettings (job_ops)
    max_cluster_nodes: int = usages.DEFAULT_MAX_CLUSTER_NODES  # local limit on every node count of a cluster
    quotas: Optional[Dict[str, int]] = None  # {"clusters", "dedicated", "lowpriority"}; default the service's
    delete_seconds: float = 0.5  # a deleted resource shows provisioningState deleting at least this long (deleting.py)


class Scheduler:
    def __init__(self, store: Store, home: Path, options: Options) -> None:
        self.store = store
        self.home = home
        self.options = options
        #: set by a supervisor finishing a job: ``adopter(job, attempt)`` may take over a job being
        #: started (returns True) instead of a new supervisor process being spawned for it
        self.adopter: Optional[Callable[[sqlite3.Row, int], bool]] = None

    # -- entry points --------------------------------------------------------------------------
    def tick(self) -> None:
        procs.reap()
        kills: List[Kill] = []
        with self.store.write() as conn:
            self.run_pass(conn, kills)
        self.deliver(kills)

    def run_pass(self, conn: sqlite3.Connection, kills: List[Kill]) -> None:
        now = time.time()
        self._reap_jobs(conn, kills, now)
        self._reap_preparers(conn, kills, now)
        self._purge_deletions(conn, kills, now)
        # a cluster being deleted gets no nodes and starts no jobs (deleting.py)
        clusters = [c for c in conn.execute("SELECT * FROM clusters ORDER BY seq").fetchall()
                    if not deleting.row_is_deleting(c)]
        growing = set()
        for cluster in clusters:
            if self.scale(conn, cluster, kills, now):
                growing.add(cluster["key"])
        for cluster in clusters:
            self._assign(conn, cluster, now)
        nodes.remove_departed(conn, now)
        for cluster in clusters:
            nodes.refresh_allocation(conn, cluster["key"], now, growing=cluster["key"] in growing)

    def deliver(self, kills: List[Kill]) -> None:
        """Signal after commit: supervisors clean up their own process groups (with escalation)."""
        orphans = []
        for kind, pid, start in kills:
            if kind == "process":
                procs.signal_process(pid, start, signal.SIGTERM)
            elif kind == "orphans":  # the group's leader is dead: nobody is left to stop it gracefully
                procs.kill_orphaned_group(pid)
            else:
                orphans.append((pid, start))
        for pid, start in orphans:
            if not pid or not procs.group_alive(pid):
                continue
            threading.Thread(target=procs.kill_group_hard, args=(pid, start, self.options.kill_grace_seconds),
                             daemon=True).start()

    # -- reaping -------------------------------------------------------------------------------
    def _reap_jobs(self, conn: sqlite3.Connection, kills: List[Kill], now: float) -> None:
        for job in conn.execute("SELECT * FROM jobs WHERE state IN ('running','terminating')").fetchall():
            if job["sup_pid"] is None or procs.alive(job["sup_pid"], job["sup_start"]):
                continue
            kills.append(("group", job["run_pid"], job["run_start"]))
            # the dead supervisor cannot remove its launch spec any more, and the spec holds secrets
            shutil.rmtree(_home.run_dir(self.home) / "jobs" / f"{job_uid(job)}-{job['attempt']}", ignore_errors=True)
            if job["state"] == "terminating":
                joblife.finish(conn, job, "failed", errors=[joblife.JOB_TERMINATED],
                               leave_seconds=self.options.leave_seconds, now=now)
            else:
                code, message = SUPERVISOR_LOST
                joblife.finish(conn, job, "failed", errors=[joblife.error(code, message.format(pid=job["sup_pid"]))],
                               leave_seconds=self.options.leave_seconds, now=now)

    def _reap_preparers(self, conn: sqlite3.Connection, kills: List[Kill], now: float) -> None:
        rows = conn.execute("SELECT * FROM nodes WHERE state='preparing' AND prep_pid IS NOT NULL").fetchall()
        for node in rows:
            if not procs.alive(node["prep_pid"], node["prep_start"]):
                kills.append(("orphans", node["prep_pid"], node["prep_start"]))  # the setup task it ran
                procs.kill_by_environment([procs.node_marker(node["root"])])  # and what left its group
                nodes.set_state(conn, [node["node_id"]], "unusable", now=now)
                add_cluster_error(conn, node["cluster_key"], "NodeSetupFailed",
                                  f"The setup task runner of node {node['node_id']} exited unexpectedly")

    @staticmethod
    def _purge_deletions(conn: sqlite3.Connection, kills: List[Kill], now: float) -> None:
        """Complete deletions whose operation nobody polls any more (``polling=False``, client gone)."""
        stragglers = deleting.purge_due(conn, now)
        kills.extend(("group", pid, start) for pid, start in stragglers)

    # -- sizing --------------------------------------------------------------------------------
    def scale(self, conn: sqlite3.Connection, cluster: sqlite3.Row, kills: List[Kill], now: float) -> bool:
        """Size ``cluster``; True while it is still short of nodes the next passes will add."""
        settings = loads(cluster["body"])["properties"]["scaleSettings"]
        live = conn.execute("SELECT * FROM nodes WHERE cluster_key=? AND state<>'leaving' ORDER BY idx",
                            (cluster["key"],)).fetchall()
        if "manual" in settings:
            target = int(settings["manual"]["targetNodeCount"])
            if len(live) < target:
                return self.grow(conn, cluster, target - len(live), now, live=len(live))
            if len(live) > target:
                option = settings["manual"].get("nodeDeallocationOption") or "requeue"
                self._shrink_manual(conn, live, len(live) - target, option, kills, now)
            return False
        target = self._auto_target(conn, cluster, settings["autoScale"])
        if int(cluster["next_node"]) - 1 < usages.initial_nodes(settings):
            target = max(target, usages.initial_nodes(settings))  # initialNodeCount, added in batches
        if len(live) < target:
            return self.grow(conn, cluster, target - len(live), now, live=len(live))
        if len(live) > target:
            self._shrink_idle(conn, live, len(live) - target, now)
        return False

    def _auto_target(self, conn: sqlite3.Connection, cluster: sqlite3.Row, auto: Dict[str, Any]) -> int:
        low, high = int(auto["minimumNodeCount"]), int(auto["maximumNodeCount"])
        busy = conn.execute("SELECT COUNT(*) FROM nodes WHERE cluster_key=? AND job_key IS NOT NULL",
                            (cluster["key"],)).fetchone()[0]
        demand = conn.execute("SELECT COALESCE(SUM(node_count),0) FROM jobs WHERE cluster_key=? AND state='queued' "
                              "AND node_count<=?", (cluster["key"], high)).fetchone()[0]
        return max(low, min(high, busy + demand))

    def grow(self, conn: sqlite3.Connection, cluster: sqlite3.Row, count: int, now: float,
             live: Optional[int] = None) -> bool:
        """Add up to ``count`` nodes: at most ``GROW_BATCH`` per pass and never beyond the vCPU quota
        (the service, too, could leave a cluster with fewer nodes than asked for when quota ran out).
        Returns True when the batch limit left nodes for the next passes."""
        if live is None:
            live = conn.execute("SELECT COUNT(*) FROM nodes WHERE cluster_key=? AND state<>'leaving'",
                                (cluster["key"],)).fetchone()[0]
        room = usages.headroom(conn, cluster, live, self.options.quotas)
        if room < count:
            self._note_quota(conn, cluster, count, room)
        more = min(count, room) > GROW_BATCH
        count = min(count, GROW_BATCH, room)
        if count <= 0:
            return False
        node_setup = loads(cluster["body"])["properties"].get("nodeSetup") or {}
        setup = node_setup.get("setupTask")
        added = nodes.add_nodes(conn, self.home, cluster, count, prepare=bool(setup), now=now)
        failure = mounts.mount_failure(conn, self.home, node_setup.get("mountVolumes")) if added else None
        if failure is not None:  # cluster-level storage missing: the nodes cannot mount it (mounts.MountError)
            nodes.set_state(conn, added, "unusable", now=now)
            info = "; ".join(str(d.get("value")) for d in failure.details or [])
            add_cluster_error(conn, cluster["key"], failure.code, f"{failure.message}: {info}")
            return more
        for node_id in added:
            if setup:
                self._spawn_preparer(conn, node_id)
        return more

    @staticmethod
    def _note_quota(conn: sqlite3.Connection, cluster: sqlite3.Row, wanted: int, room: int) -> None:
        """One ``ClusterCoreQuotaReached`` entry in ``cluster.errors`` (not one per pass)."""
        errors = loads(cluster["errors"]) or []
        if any(e.get("code") == "ClusterCoreQuotaReached" for e in errors):
            return
        add_cluster_error(conn, cluster["key"], "ClusterCoreQuotaReached",
                          f"The cluster could not grow by {wanted} nodes: the vCPU quota leaves room for {room} "
                          "more (usages.list shows the limits; LocalBackend option quotas)")

    def _spawn_preparer(self, conn: sqlite3.Connection, node_id: str) -> None:
        log = self._log_dir() / f"nodeprep-{node_id}.log"
        argv = procs.module_argv(self.options.python, "batchai_compat.backends.local.nodeprep", "--home",
                                 str(self.home), "--node", node_id, "--options", self.options_json(), "--log", str(log))
        try:
            pid, start = procs.spawn_detached(argv, log_path=log)
        except OSError as exc:
            conn.execute("UPDATE nodes SET state='unusable' WHERE node_id=?", (node_id,))
            add_cluster_error_for_node(conn, node_id, "NodeSetupFailed", f"cannot start the setup task: {exc}")
            return
        conn.execute("UPDATE nodes SET prep_pid=?, prep_start=? WHERE node_id=?", (pid, start, node_id))

    def _shrink_manual(self, conn: sqlite3.Connection, live: List[sqlite3.Row], excess: int, option: str,
                       kills: List[Kill], now: float) -> None:
        order = {"unusable": 0, "preparing": 1, "idle": 2, "running": 3}
        victims = sorted(live, key=lambda n: (order.get(n["state"], 4), -n["idx"]))[:excess]
        for victim in victims:
            node = conn.execute("SELECT * FROM nodes WHERE node_id=?", (victim["node_id"],)).fetchone()
            job = joblife.get(conn, node["job_key"]) if node["job_key"] else None
            if job is not None and job["state"] in ("running", "terminating"):
                if option == "waitforjobcompletion":
                    nodes.mark_leaving(conn, node["node_id"], True, self.options.leave_seconds, now)
                    continue
                kills.extend([("process", job["sup_pid"], job["sup_start"]),
                              ("group", job["run_pid"], job["run_start"])])
                if option == "terminate":
                    code, message = NODE_REMOVED_TERMINATE
                    joblife.finish(conn, job, "failed", errors=[joblife.error(code, message)],
                                   leave_seconds=self.options.leave_seconds, now=now)
                else:
                    joblife.requeue(conn, job, self.options.leave_seconds, now)
            self._leave(conn, node, kills, now)

    def _shrink_idle(self, conn: sqlite3.Connection, live: List[sqlite3.Row], excess: int, now: float) -> None:
        """Auto-scale removes only nodes that have no job: unusable ones, then long-idle ones."""
        cutoff = now - self.options.autoscale_idle_seconds
        candidates = [n for n in live if n["state"] == "unusable"]
        candidates += [n for n in reversed(live) if n["state"] == "idle" and n["state_time"] <= cutoff]
        for node in candidates[:excess]:
            self._leave(conn, node, [], now)

    def _leave(self, conn: sqlite3.Connection, node: sqlite3.Row, kills: List[Kill], now: float) -> None:
        if node["state"] == "preparing" and node["prep_pid"]:
            kills.append(("group", node["prep_pid"], node["prep_start"]))
        nodes.mark_leaving(conn, node["node_id"], False, self.options.leave_seconds, now)

    # -- starting jobs -------------------------------------------------------------------------
    def _assign(self, conn: sqlite3.Connection, cluster: sqlite3.Row, now: float) -> None:
        queued = conn.execute("SELECT key, node_count FROM jobs WHERE cluster_key=? AND state='queued' "
                              "ORDER BY priority DESC, seq", (cluster["key"],)).fetchall()
        if not queued:
            return
        idle = [r["node_id"] for r in conn.execute(
            "SELECT node_id FROM nodes WHERE cluster_key=? AND state='idle' ORDER BY idx", (cluster["key"],))]
        capacity = self._capacity(cluster)
        for job in queued:
            if job["node_count"] > capacity:
                continue  # can never run on this cluster as configured; do not block the queue
            if job["node_count"] > len(idle):
                break
            taken, idle = idle[:job["node_count"]], idle[job["node_count"]:]
            self._start(conn, cluster, joblife.get_existing(conn, job["key"]), taken, now)

    @staticmethod
    def _capacity(cluster: sqlite3.Row) -> int:
        settings = loads(cluster["body"])["properties"]["scaleSettings"]
        if "manual" in settings:
            return int(settings["manual"]["targetNodeCount"])
        return int(settings["autoScale"]["maximumNodeCount"])

    def _start(self, conn: sqlite3.Connection, cluster: sqlite3.Row, job: sqlite3.Row, taken: List[str],
               now: float) -> None:
        body = loads(job["body"])
        try:
            resolved = {
                "cluster": mounts.resolve(conn, self.home, (loads(cluster["body"])["properties"].get("nodeSetup")
                                                             or {}).get("mountVolumes"), mount=True),
                "job": mounts.resolve(conn, self.home, body["properties"].get("mountVolumes"), mount=True),
            }
        except mounts.MountError as exc:  # the storage does not exist (exitCode -1, as the service reported)
            joblife.finish(conn, job, "failed", exit_code=-1, errors=[exc.job_error()], now=now)
            return
        except (BackendError, OSError, ValueError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            joblife.finish(conn, job, "failed", errors=[joblife.error("MountFailed", f"Unable to mount: {message}")],
                           now=now)
            return
        attempt = joblife.start(conn, job, taken, resolved, now)
        if self.adopter is not None and self.adopter(job, attempt):
            conn.execute("UPDATE jobs SET sup_pid=?, sup_start=? WHERE key=?",
                         (os.getpid(), procs.start_time(os.getpid()), job["key"]))
            return
        if standby.hand_over(conn, job["key"], attempt):
            return
        log = self._log_dir() / f"supervisor-{job_uid(job)}-{attempt}.log"
        argv = procs.module_argv(self.options.python, "batchai_compat.backends.local.supervisor", "--home",
                                 str(self.home), "--job", job["key"], "--attempt", str(attempt),
                                 "--options", self.options_json(), "--log", str(log))
        try:
            pid, start = procs.spawn_detached(argv, log_path=log)
        except OSError as exc:
            job = joblife.get_existing(conn, job["key"])
            joblife.finish(conn, job, "failed", errors=[joblife.error("JobStartFailed", f"cannot start: {exc}")],
                           now=now)
            return
        conn.execute("UPDATE jobs SET sup_pid=?, sup_start=? WHERE key=?", (pid, start, job["key"]))

    def _log_dir(self) -> Path:
        path = _home.run_dir(self.home) / "logs"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def options_json(self) -> str:
        return json.dumps(asdict(self.options), sort_keys=True)


def job_uid(job: sqlite3.Row) -> str:
    """The uuid at the end of ``jobOutputDirectoryPathSegment``."""
    return loads(job["body"])["properties"]["jobOutputDirectoryPathSegment"].rsplit("/", 1)[-1]


def add_cluster_error(conn: sqlite3.Connection, cluster_key: str, code: str, message: str) -> None:
    row = conn.execute("SELECT errors FROM clusters WHERE key=?", (cluster_key,)).fetchone()
    if row is None:
        return
    errors = loads(row["errors"]) or []
    errors.append(joblife.error(code, message))
    conn.execute("UPDATE clusters SET errors=? WHERE key=?", (dumps(errors[-20:]), cluster_key))


def add_cluster_error_for_node(conn: sqlite3.Connection, node_id: str, code: str, message: str) -> None:
    row = conn.execute("SELECT cluster_key FROM nodes WHERE node_id=?", (node_id,)).fetchone()
    if row is not None:
        add_cluster_error(conn, row["cluster_key"], code, message)
