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

* **Locks survive.** SQLite's locks are POSIX ``fcntl`` locks, which belong to a process and a file:
  closing *any* descriptor of ``state.db`` in a process drops every lock the process holds on it, and
  the next connection to close elsewhere then believes it is the last one and deletes the ``-wal``
  and ``-shm`` files the first process still writes into (lost commits, ``database disk image is
  malformed``). So nothing in the backend opens a raw descriptor of the database or its
  companions: the file is created 0600 through a private temporary file that is closed *before* it
  is linked into place (:meth:`Store._create_file`), and each process keeps one shared
  :class:`Store` per database (:meth:`Store.shared`) however many clients it builds.
* **Damage is reported, never papered over.** A file SQLite cannot read, one that fails
  ``PRAGMA quick_check``, one deleted or replaced while in use, and an empty or missing database in
  a home that already had state (the marker ``state.created`` next to it, or node directories or
  file-server exports) raise :class:`~batchai_compat.exceptions.BatchAICompatStateError` naming the
  file, what happened and what to do; nothing is recreated silently.
  ``python -m batchai_compat.backends.local reset --home DIR`` moves the damaged state aside.

Connections are per thread and per process: a forked child (``multiprocessing``'s fork start method,
the supervisor's launcher) closes every connection it inherited before opening its own, so that it
takes its own locks (:class:`_ForkGate`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

from batchai_compat._state_errors import BatchAICompatStateError

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


MARKER_NAME = "state.created"
"""Written next to the database when it is first created: from then on an empty or missing database
in that directory is damage, not a fresh start."""

COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps next to the database (``state.db-wal`` ...)."""

# Directories of the home that only the control plane fills: if one holds anything, the home had state.
_STATE_DIRS = ("nodes", "fileservers")

_shared: Dict[Tuple[int, str], "Store"] = {}
_shared_lock = threading.Lock()


class _Connection(sqlite3.Connection):
    """A plain SQLite connection that can be weakly referenced (so a forked child can close them)."""


_connections: "weakref.WeakSet[_Connection]" = weakref.WeakSet()


class _ForkGate:
    """``os.fork()`` waits until no thread of this process is inside one of our SQLite calls.

    SQLite keeps, per process, one record of the locks held on each database file, shared by all
    connections. A forked child inherits that record *but not the locks* (POSIX locks are not
    inherited), so its new connections would believe they hold the shared lock and never take it:
    once the parent closed its connections, the next process to close would delete the ``-wal``
    the child writes into. So the child closes every connection it inherited before it opens one
    (resetting the record), which is only safe while no thread was inside SQLite at the fork: the
    fork waits for running transactions to end and lets no new one start meanwhile. ``subprocess``
    and ``posix_spawn`` do not fork the interpreter and are not affected.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._forking = False
        self._depth = threading.local()

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            with self._cond:
                while self._forking:
                    self._cond.wait()
                self._active += 1
        self._depth.n = depth + 1
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    def before_fork(self) -> None:
        mine = 1 if getattr(self._depth, "n", 0) else 0  # a fork inside our own transaction
        self._cond.acquire()
        self._forking = True
        while self._active > mine:
            self._cond.wait()
        # the condition stays held through the fork: nothing enters SQLite until it is over

    def after_fork_in_parent(self) -> None:
        self._forking = False
        self._cond.notify_all()
        self._cond.release()

    def after_fork_in_child(self) -> None:
        global _shared_lock
        self._cond = threading.Condition(threading.Lock())  # the only thread left is this one
        self._active = 1 if getattr(self._depth, "n", 0) else 0
        self._forking = False
        _shared_lock = threading.Lock()
        _shared.clear()  # the parent's stores; this process builds its own
        for conn in list(_connections):
            with contextlib.suppress(Exception):
                conn.close()


_GATE = _ForkGate()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_GATE.before_fork, after_in_parent=_GATE.after_fork_in_parent,
                        after_in_child=_GATE.after_fork_in_child)


def reset_command(home: os.PathLike) -> str:
    """The command line that moves a home's damaged state aside (``__main__.py``)."""
    return f"python -m batchai_compat.backends.local reset --home {home}"


def is_damage(exc: BaseException) -> bool:
    """Whether a SQLite error means the file is damaged (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``).

    The ``sqlite3`` module raises exactly ``DatabaseError`` for those codes and a subclass
    (``OperationalError``, ``IntegrityError`` ...) for everything else (busy, full disk, constraints).
    """
    return type(exc) is sqlite3.DatabaseError


class Store:
    """The database at ``path``; safe to share between threads.

    Use :meth:`shared` (one instance per process and database) rather than the constructor; both
    are safe, ``shared`` checks the file once per process instead of once per client.
    """

    def __init__(self, path: os.PathLike, busy_timeout_ms: int = 60000) -> None:
        self.path = Path(path)
        self.marker_path = self.path.with_name(self.path.stem + ".created")  # state.db: MARKER_NAME
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._ident: Optional[Tuple[int, int]] = None
        self._wal = False  # whether SQLite accepted WAL mode (some file systems refuse it)
        with _GATE.inside():
            try:
                self._create_file()
                self._verify()
            except BaseException:
                self.close()
                raise

    @classmethod
    def shared(cls, path: os.PathLike, busy_timeout_ms: int = 60000) -> "Store":
        """This process's store for ``path`` (created on first use; thread-safe).

        Every client, supervisor pass and standby of a process goes through the same instance, so the
        file is created and checked once, and a database deleted or replaced under a running process
        is reported (:class:`BatchAICompatStateError`) instead of being silently recreated.
        """
        key = (os.getpid(), os.path.realpath(os.fspath(path)))
        with _shared_lock:
            store = _shared.get(key)
            if store is None:
                store = _shared[key] = cls(path, busy_timeout_ms)
            else:
                store.check_in_place()
            return store

    # -- creation and checks ---------------------------------------------------------------------
    def _create_file(self) -> None:
        """Create the database file, mode 0600, before SQLite does - without ever opening it.

        SQLite gives the ``-wal`` and ``-shm`` files the permissions of the database file, so they are
        0600 too. The file is made as a private temporary file, *closed*, and then hard-linked into
        place: ``link`` fails if the database exists (so two processes racing here cannot clobber one
        another), and no descriptor of the database is ever closed in a process whose SQLite
        connections hold locks on it (that would drop them; see the module docstring). On a file
        system without hard links SQLite creates the file and it is chmod-ed at once; the 0700 home
        keeps it private in between.
        """
        parent = self.path.parent
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.path.lexists(self.path):
            previous = self._previous_state()
            if previous is not None:
                raise self.damaged(f"is missing, but {previous}")
            tmp = parent / f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex}.new"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)  # a fresh inode nobody has opened: closing it drops no lock
            linked = True
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # another process created it first
            except OSError:
                linked = False
            finally:
                os.unlink(tmp)
            if not linked:  # no hard links on this file system: SQLite creates the file
                self.connection()
        os.chmod(self.path, 0o600)

    def _verify(self) -> None:
        """Open in WAL mode, check the file and create the schema - or say what is wrong with it."""
        if os.stat(self.path).st_size == 0:  # before SQLite writes its header into the empty file
            previous = self._previous_state()
            if previous is not None:
                raise self.damaged(f"is empty (0 bytes), but {previous}")
        conn = self.connection()
        try:
            self._wal = self._enter_wal_mode(conn)
            problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check(3)")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = _tables(conn)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise self.damaged(f"cannot be read ({exc})") from exc
            raise
        if problems != ["ok"]:
            raise self.damaged("fails SQLite's integrity check (" + "; ".join(problems) + ")")
        if version > SCHEMA_VERSION:
            raise BatchAICompatStateError(
                f"The state database {self.path} was written by a newer batchai_compat (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade batchai_compat, or use another BATCHAI_COMPAT_HOME.", path=self.path)
        self._ident = self._file_ident()
        if version < SCHEMA_VERSION or "jobs" not in tables:
            with self.write() as conn:  # the write lock makes "empty, so create" race-free across processes
                if not _tables(conn):
                    previous = self._previous_state()
                    if previous is not None:
                        raise self.damaged(f"is empty or was deleted, but {previous}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._write_marker()

    def _enter_wal_mode(self, conn: sqlite3.Connection) -> bool:
        """``PRAGMA journal_mode=WAL``, retried: while other processes create the same fresh database,
        SQLite may answer "database is locked" at once instead of waiting for the busy timeout."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000.0
        delay = 0.001
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower() == "wal"
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _previous_state(self) -> Optional[str]:
        """Why this directory must already have had a database (``None``: it is a fresh home)."""
        if self.marker_path.exists():
            try:
                created = json.loads(self.marker_path.read_text(encoding="utf-8")).get("created", "?")
            except (OSError, ValueError, AttributeError):
                created = "?"
            return f"{self.marker_path} records that a database was created there at {created}"
        for name in _STATE_DIRS:
            folder = self.path.parent / name
            if folder.is_dir() and any(folder.iterdir()):
                return f"{folder} holds the state of earlier clusters or file servers"
        return None

    def _write_marker(self) -> None:
        if self.marker_path.exists():
            return
        tmp = self.marker_path.with_name(f".{self.marker_path.name}.{os.getpid()}.{uuid.uuid4().hex}.new")
        text = dumps({"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "database": self.path.name,
                      "note": "batchai_compat: this directory has a control-plane database; if it is missing or "
                              "empty, the state was lost (see docs/storage-layout.md)"})
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, self.marker_path)

    def _file_ident(self) -> Optional[Tuple[int, int]]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def check_in_place(self, in_write: bool = False) -> None:
        """Raise if the database file was deleted or replaced (or, in a write, lost its ``-wal``)
        since this process opened it: its changes would go to a file no other process sees."""
        if self._file_ident() != self._ident:
            raise self.damaged("was deleted or replaced while this process was using it (its changes since "
                               "then are not visible to other processes)")
        if in_write and self._wal and not os.path.exists(f"{self.path}-wal"):
            raise self.damaged(f"lost its write-ahead log {self.path.name}-wal while this process was using it "
                               "(another program deleted it; recent changes may be lost)")

    def damaged(self, what: str) -> BatchAICompatStateError:
        """The error for a damaged database: which file, what happened, what to do."""
        home = self.path.parent
        return BatchAICompatStateError(
            f"The local backend's state database {self.path} {what}. Nothing was changed and nothing was "
            f"recreated. Stop every process that uses {home} (notebooks, scripts; running jobs' supervisors), "
            f"then restore {self.path.name} from a backup, or run `{reset_command(home)}`, which moves the "
            f"damaged state to a timestamped folder under {home} and starts with an empty one.", path=self.path)

    # -- connections ---------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout_ms / 1000.0,
                               isolation_level=None, check_same_thread=False, factory=_Connection)
        _connections.add(conn)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (reopened after a fork)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = self._open()
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    raise self.damaged(f"cannot be read ({exc})") from exc
                raise
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (the next use reopens one). SQLite keeps the process's
        locks while other connections of the process still use the file."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            with _GATE.inside():
                conn.close()
        self._local.conn = None

    # -- transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; the write lock is taken at the start (``BEGIN IMMEDIATE``)."""
        with _GATE.inside():
            conn = self.connection()
            self._begin(conn, "BEGIN IMMEDIATE")
            try:
                if self._ident is not None:
                    self.check_in_place(in_write=True)
                yield conn
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):  # a damaged file may refuse even this
                    conn.execute("ROLLBACK")
                if is_damage(exc):
                    raise self.damaged(f"is damaged ({exc})") from exc
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    raise self.damaged(f"is damaged ({exc})") from exc
                raise

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (deferred transaction)."""
        with _GATE.inside():
            conn = self.connection()
            self._begin(conn, "BEGIN")
            try:
                if self._ident is not None:
                    self.check_in_place()
                yield conn
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("COMMIT")
                if is_damage(exc):
                    raise self.damaged(f"is damaged ({exc})") from exc
                raise
            conn.execute("COMMIT")

    def _begin(self, conn: sqlite3.Connection, statement: str) -> None:
        try:
            conn.execute(statement)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise self.damaged(f"is damaged ({exc})") from exc
            raise


def _tables(conn: sqlite3.Connection) -> set:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(text: Optional[str]) -> Any:
    return None if text is None else json.loads(text)


def row_dict(row: Optional[sqlite3.Row]) -> Optional[Dict[str, Any]]:
    return None if row is None else dict(row)
