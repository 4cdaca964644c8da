"""Deletions in progress: a deleted resource stays visible until its delete has completed.

On the service a delete was a long-running operation during which ``get`` and ``list`` still showed
the resource, with ``provisioningState`` ``deleting`` (the 2018-05-01 enums, ``docs/service-behaviour.md``
§f.3 for clusters, §f.4 for file servers, workspaces and experiments, §f.1 for jobs); only once it had
completed did ``get`` answer 404 (the 2.0.0 SDK's recorded sessions show the lower-case values of the
2018-05-01 API, ``succeeded``, and a cluster delete operation ``InProgress`` for about 5.5 minutes; no
``get`` during a delete was recorded, so ``deleting`` is the enum's value). Notebooks rely on it (a
last cell printing a cluster's state right after ``clusters.delete`` without ``.result()``).

Here a delete marks the resource (``provisioningState: deleting`` in its stored body, a row in the
``deletions`` table) and stops what it runs; the rows are removed - *purged* - when

* at least ``delete_seconds`` (option, default 0.5 s: the service took minutes) have passed, and
* every process group recorded for it is gone, or ``kill_grace_seconds`` + 1 s have passed (whatever
  is left is then killed).

Its directories (node disks, a file server's export) are removed when the delete is accepted, as
before; only the resource's visibility lasts until the purge.

Purging is done by the delete operation's poller and, should its process be gone (``polling=False``,
the client exited), by the next scheduling pass in any process (``scheduler.py``), so no deletion
stays pending forever. A second delete of a deleting resource waits for the same completion; creating a
resource of the same name meanwhile is a ``Conflict`` (409, code ``Conflict``: the service's code for
this case was never recorded). A deleting cluster gets no nodes and starts no jobs; a deleting job is
never started, a running one is terminated (``terminating``, then ``failed``/``JobTerminated``).

The ``deletions`` table is created on first use (``CREATE TABLE IF NOT EXISTS`` inside the marking
transaction), so homes written by earlier versions need no migration.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable, List, Optional, Sequence, Tuple

from batchai_compat.backends.base import Body

from . import _util, nodes, procs
from .store import dumps, loads

DELETING = "deleting"
TABLES = ("workspaces", "experiments", "clusters", "file_servers", "jobs")
_SCHEMA = """CREATE TABLE IF NOT EXISTS deletions (
    key TEXT PRIMARY KEY,      -- table key (lower-cased ARM id) of the resource being deleted
    tbl TEXT NOT NULL,         -- workspaces | experiments | clusters | file_servers | jobs
    since REAL NOT NULL,       -- when the delete was accepted
    until REAL NOT NULL,       -- not purged before (delete_seconds)
    hard REAL NOT NULL,        -- purged at the latest then, leftover processes killed
    groups TEXT NOT NULL       -- JSON [[pid, start], ...]: process groups that must be gone first
)"""

Group = Tuple[int, Optional[int]]


def is_deleting(body: Body) -> bool:
    return ((body or {}).get("properties") or {}).get("provisioningState") == DELETING


def row_is_deleting(row: sqlite3.Row) -> bool:
    return is_deleting(loads(row["body"]))


def mark(conn: sqlite3.Connection, table: str, row: sqlite3.Row, now: float, delete_seconds: float,
         grace_seconds: float, groups: Iterable[Group] = ()) -> None:
    """Mark ``row`` of ``table`` deleting (inside the caller's write transaction)."""
    assert table in TABLES
    conn.execute(_SCHEMA)
    body = loads(row["body"])
    props = body.setdefault("properties", {})
    props["provisioningState"] = DELETING
    props["provisioningStateTransitionTime"] = _util.iso(now)
    conn.execute(f"UPDATE {table} SET body=? WHERE key=?", (dumps(body), row["key"]))  # noqa: S608 - fixed names
    live = [[int(pid), start] for pid, start in groups if pid]
    conn.execute("INSERT OR REPLACE INTO deletions(key, tbl, since, until, hard, groups) VALUES (?,?,?,?,?,?)",
                 (row["key"], table, now, now + max(0.0, delete_seconds),
                  now + max(0.0, delete_seconds) + grace_seconds + 1.0, json.dumps(live)))


def pending(conn: sqlite3.Connection, keys: Optional[Sequence[str]] = None) -> List[sqlite3.Row]:
    """The deletions not purged yet (all, or those of ``keys``)."""
    try:  # the table holds only deletions in progress: filtered here (any number of keys, no SQL variables)
        rows = conn.execute("SELECT * FROM deletions").fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    if keys is None:
        return rows
    wanted = set(keys)
    return [row for row in rows if row["key"] in wanted]


def due(entry: sqlite3.Row, now: float) -> bool:
    if now >= entry["hard"]:
        return True
    if now < entry["until"]:
        return False
    return not any(procs.group_alive(pid) for pid, _start in json.loads(entry["groups"]))


def purge_due(conn: sqlite3.Connection, now: float, keys: Optional[Sequence[str]] = None) -> List[Group]:
    """Purge every due deletion (of ``keys``, or all). Returns the process groups still alive (past the
    hard deadline), to be killed after the commit."""
    stragglers: List[Group] = []
    for entry in pending(conn, keys):
        if not due(entry, now):
            continue
        _purge(conn, entry["tbl"], entry["key"])
        stragglers.extend((pid, start) for pid, start in json.loads(entry["groups"]) if procs.group_alive(pid))
    return stragglers


def _purge(conn: sqlite3.Connection, table: str, key: str) -> None:
    if table == "clusters":
        conn.execute("DELETE FROM nodes WHERE cluster_key=?", (key,))
    elif table == "jobs":
        nodes.release(conn, key, 0.0)
    if table in TABLES:
        conn.execute(f"DELETE FROM {table} WHERE key=?", (key,))  # noqa: S608 - fixed names
    conn.execute("DELETE FROM deletions WHERE key=?", (key,))


def refuse_if_deleting(body: Body, kind: str, name: str) -> None:
    """The ``Conflict`` a create of a resource that is being deleted gets."""
    if is_deleting(body):
        from batchai_compat.backends.errors import Conflict

        raise Conflict("Conflict", f"The specified {kind} {name} is being deleted; it can be created again once "
                       "the deletion has completed (wait for the delete operation's result())")

