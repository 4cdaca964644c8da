"""The local control plane's persistent state: one SQLite database, ``<home>/state.db``.

Design (why it looks like this):

* **Many writers.** Several threads of a notebook, several client processes and every job
  supervisor write the same file. Each mutation is one short ``BEGIN IMMEDIATE`` transaction
  (the write lock is taken up front, so two writers never deadlock upgrading a read lock), with a
  generous busy timeout. WAL mode lets readers proceed while one writer commits.
* **Crash safety.** A process dying mid-transaction leaves nothing half-written; SQLite rolls it
  back. ``synchronous=NORMAL`` under WAL keeps the database consistent on power loss at the cost of
  the last few commits (acceptable for a development backend).
* **Secrets.** Stored bodies keep secret values (the launcher needs them), so the database and its
  ``-wal``/``-shm`` companions are created mode 0600 inside the 0700 home.
* **Keys.** ARM ids are case-insensitive, so every table is keyed by the lower-cased ARM id;
  names keep the caller's case in the JSON bodies. ``seq`` (an autoincrement rowid) gives creation
  order for FIFO scheduling and stable keyset paging.

Connections are per thread and per process (a forked child never reuses its parent's handle).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,            -- lower-cased ARM id
    sub TEXT NOT NULL, rg TEXT NOT NULL, -- lower-cased, for list filters
    body TEXT NOT NULL                   -- REST body
);
CREATE TABLE IF NOT EXISTS experiments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    ws_key TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS experiments_ws ON experiments(ws_key, seq);
CREATE TABLE IF NOT EXISTS file_servers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    ws_key TEXT NOT NULL,
    address TEXT NOT NULL,               -- loopback address handed out as the server's IP
    export TEXT NOT NULL,                -- host directory exported as /data
    body TEXT NOT NULL                   -- REST body *with* the admin password (stripped on read)
);
CREATE INDEX IF NOT EXISTS file_servers_ws ON file_servers(ws_key, seq);
CREATE TABLE IF NOT EXISTS clusters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    ws_key TEXT NOT NULL,
    uid TEXT NOT NULL,                   -- uuid of this cluster instance (node directories)
    pool TEXT NOT NULL,                  -- the digits of node ids (tvm-<pool>_<n>-...)
    next_node INTEGER NOT NULL DEFAULT 1,
    alloc_state TEXT NOT NULL,           -- steady | resizing (kept true by nodes.refresh_allocation)
    alloc_time TEXT NOT NULL,
    errors TEXT,                         -- JSON list of BatchAIError bodies, NULL when none
    body TEXT NOT NULL                   -- REST body without the dynamic fields, secrets included
);
CREATE INDEX IF NOT EXISTS clusters_ws ON clusters(ws_key, seq);
CREATE TABLE IF NOT EXISTS nodes (
    node_id TEXT PRIMARY KEY,
    cluster_key TEXT NOT NULL,
    idx INTEGER NOT NULL,                -- the <n> of the node id, 1-based
    address TEXT NOT NULL UNIQUE,        -- 127.H.y.x, unique among live nodes and file servers
    port INTEGER NOT NULL,               -- remote login port
    root TEXT NOT NULL,                  -- the node's private directory
    state TEXT NOT NULL,                 -- preparing | idle | running | leaving | unusable
    state_time REAL NOT NULL,            -- epoch seconds of the last state change
    job_key TEXT,                        -- job occupying the node (running, or leaving with a job)
    leave_after REAL,                    -- leaving nodes are removed once this time has passed
    prep_pid INTEGER, prep_start INTEGER -- setup-task runner (pid + /proc start time)
);
CREATE INDEX IF NOT EXISTS nodes_cluster ON nodes(cluster_key, state, idx);
CREATE INDEX IF NOT EXISTS nodes_job ON nodes(job_key);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    exp_key TEXT NOT NULL,
    ws_key TEXT NOT NULL,
    cluster_key TEXT NOT NULL,
    node_count INTEGER NOT NULL,
    priority INTEGER NOT NULL,           -- 2 high, 1 normal, 0 low
    state TEXT NOT NULL,                 -- executionState
    state_time TEXT NOT NULL,            -- executionStateTransitionTime
    exec_info TEXT,                      -- JSON executionInfo, NULL while queued
    attempt INTEGER NOT NULL DEFAULT 0,  -- bumped on every start (requeue safety)
    nodes TEXT,                          -- JSON list of node ids of the current/last run
    mounts TEXT,                         -- JSON {"cluster": [...], "job": [...]} MountSpecs of the run
    sup_pid INTEGER, sup_start INTEGER,  -- supervisor (pid + /proc start time)
    run_pid INTEGER, run_start INTEGER,  -- launcher, leader of its own process group
    body TEXT NOT NULL                   -- REST body (static part), secrets included
);
CREATE INDEX IF NOT EXISTS jobs_exp ON jobs(exp_key, seq);
CREATE INDEX IF NOT EXISTS jobs_sched ON jobs(cluster_key, state, priority DESC, seq);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS standby (
    pid INTEGER PRIMARY KEY,             -- an idle supervisor waiting for a job (standby.py)
    start INTEGER,                       -- its /proc start time
    fifo TEXT NOT NULL,                  -- written to wake it
    since REAL NOT NULL,
    job_key TEXT, attempt INTEGER        -- the job handed over to it
);
"""


class Store:
    """The database at ``path``; cheap to construct, safe to share between threads."""

    def __init__(self, path: os.PathLike, busy_timeout_ms: int = 60000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._create_file()
        conn = self.connection()
        conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA};PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")

    # -- connections ---------------------------------------------------------------------------
    def _create_file(self) -> None:
        """Create the database file with mode 0600 before SQLite does.

        SQLite gives the ``-wal`` and ``-shm`` files the permissions of the database file, so they
        are 0600 too.
        """
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        self.connection().execute("PRAGMA journal_mode=WAL")

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout_ms / 1000.0,
                               isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (reopened after a fork)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = self._open()
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None

    # -- transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; the write lock is taken at the start (``BEGIN IMMEDIATE``)."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (deferred transaction)."""
        conn = self.connection()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(text: Optional[str]) -> Any:
    return None if text is None else json.loads(text)


def row_dict(row: Optional[sqlite3.Row]) -> Optional[Dict[str, Any]]:
    return None if row is None else dict(row)
