"""Job state transitions (``docs/service-behaviour.md`` §f.1), each inside the caller's write transaction.

``queued -> running -> succeeded | failed``, ``running -> terminating -> failed (JobTerminated)``,
``queued -> failed (JobTerminated)``, ``running -> queued`` (requeued by a scale-down). Every
function takes the job row and the current time and keeps the job's nodes consistent with it.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any, Dict, List, Optional

from . import _util, nodes
from .store import dumps, loads

FINAL_STATES = ("succeeded", "failed")

JOB_FAILED = {"code": "JobFailed", "message": "Job failed with non-zero exit code"}
JOB_PREPARATION_FAILED = {"code": "JobPreparationFailed",
                          "message": "Job preparation task failed with non-zero exit code"}
JOB_TERMINATED = {"code": "JobTerminated", "message": "The specified job has been terminated by the user"}
KNOWN_ERRORS = {e["code"]: e for e in (JOB_FAILED, JOB_PREPARATION_FAILED, JOB_TERMINATED)}


def error(code: str, message: str, details: Optional[List[Dict[str, str]]] = None) -> Dict[str, Any]:
    body: Dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


def finish(conn: sqlite3.Connection, job: sqlite3.Row, state: str, *, exit_code: Optional[int] = None,
           errors: Optional[List[Dict[str, Any]]] = None, leave_seconds: float = 0.0,
           now: Optional[float] = None, end_time: Optional[str] = None) -> None:
    """Move ``job`` to a final state, fill ``executionInfo`` as the service did, free its nodes.

    A job that never started (terminated while queued) gets ``startTime == endTime == now``.
    """
    now = time.time() if now is None else now
    info = loads(job["exec_info"]) or {}
    end = end_time or _util.iso(now)
    info.setdefault("startTime", end)
    info["endTime"] = end
    info.pop("exitCode", None)
    info.pop("errors", None)
    if exit_code is not None:
        info["exitCode"] = exit_code
    if errors:
        info["errors"] = errors
    conn.execute("UPDATE jobs SET state=?, state_time=?, exec_info=? WHERE key=?",
                 (state, end, dumps(info), job["key"]))
    nodes.release(conn, job["key"], leave_seconds, now)


def start(conn: sqlite3.Connection, job: sqlite3.Row, node_ids: List[str], mounts: Dict[str, Any],
          now: Optional[float] = None) -> int:
    """Mark ``job`` running on ``node_ids``; returns the new attempt number."""
    now = time.time() if now is None else now
    attempt = int(job["attempt"]) + 1
    started = _util.iso(now)
    nodes.set_state(conn, node_ids, "running", job["key"], now)
    conn.execute(
        "UPDATE jobs SET state='running', state_time=?, exec_info=?, attempt=?, nodes=?, mounts=?, "
        "sup_pid=NULL, sup_start=NULL, run_pid=NULL, run_start=NULL WHERE key=?",
        (started, dumps({"startTime": started}), attempt, dumps(node_ids), dumps(mounts), job["key"]),
    )
    return attempt


def requeue(conn: sqlite3.Connection, job: sqlite3.Row, leave_seconds: float, now: Optional[float] = None) -> None:
    """Put a running job back in the queue (its nodes went away under ``requeue``)."""
    now = time.time() if now is None else now
    conn.execute("UPDATE jobs SET state='queued', state_time=?, exec_info=NULL WHERE key=?",
                 (_util.iso(now), job["key"]))
    nodes.release(conn, job["key"], leave_seconds, now)


def mark_terminating(conn: sqlite3.Connection, job: sqlite3.Row, now: Optional[float] = None) -> None:
    conn.execute("UPDATE jobs SET state='terminating', state_time=? WHERE key=?", (_util.iso(now), job["key"]))


def get(conn: sqlite3.Connection, job_key: str) -> Optional[sqlite3.Row]:
    return conn.execute("SELECT * FROM jobs WHERE key=?", (job_key,)).fetchone()


def get_existing(conn: sqlite3.Connection, job_key: str) -> sqlite3.Row:
    """The row of a job the caller has just seen in the same transaction."""
    row = get(conn, job_key)
    if row is None:
        raise RuntimeError(f"job {job_key} vanished inside its own transaction")
    return row
