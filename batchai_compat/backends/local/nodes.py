"""The virtual nodes of local clusters: ids, loopback addresses, directories, states, counts.

A node is a row in ``nodes`` plus a directory ``<home>/nodes/<cluster-uid>/<node-id>`` (its private
disk). Node ids look like the service's (``tvm-<pool digits>_<n>-<yyyymmdd>t<hhmmss>z``, with ``-p``
appended on low-priority clusters as the service did); each node gets its own loopback address
127.H.y.x (x >= 2, unique among live nodes and file servers of the home; after 127.H.0.254 the
allocator continues with 127.H.1.2 and so on, where H (1..254) is derived from the home's path so
that two homes used at the same time, e.g. ``make demo`` during a test run, do not hand out the same
addresses and collide on ports such as TensorFlow's 2222) and a remote-login port
``50000 + n - 1`` (the service used 50000, 50001, ... behind one public IP).

States: ``preparing`` (setup task running), ``idle``, ``running``, ``leaving`` (being removed by a
scale-down), ``unusable`` (setup task failed). Every function here runs inside the caller's write
transaction, so counts are true at every read.

Allocation state (deviation, documented timing): ``resizing`` while any node is ``preparing`` or
``leaving``, ``steady`` otherwise. Nodes without a setup task join ``idle`` immediately (the service
took minutes); removed nodes stay ``leaving`` for ``leave_seconds`` (default 0.5 s) so that the
``resizing``/``leavingNodeCount`` phase the service showed stays observable.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Dict, List, Optional

from batchai_compat import _home

from . import _util, procs
from .store import loads

STATES = ("idle", "running", "preparing", "unusable", "leaving")
FIRST_PORT = 50000


def home_octet(home: Path) -> int:
    """The second octet of this home's node addresses: a stable function of its path, 1..254."""
    digest = hashlib.sha256(str(Path(home).resolve()).encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:4], "big") % 254


def allocate_address(conn: sqlite3.Connection, home: Path) -> str:
    return allocate_addresses(conn, home, 1)[0]


def allocate_addresses(conn: sqlite3.Connection, home: Path, count: int) -> List[str]:
    """``count`` free loopback addresses (one query, whatever ``count`` is)."""
    used = {row[0] for row in conn.execute("SELECT address FROM nodes UNION SELECT address FROM file_servers")}
    octet = home_octet(home)
    found: List[str] = []
    for high in range(0, 256):
        for low in range(2, 255):
            candidate = f"127.{octet}.{high}.{low}"
            if candidate not in used:
                found.append(candidate)
                if len(found) == count:
                    return found
    raise RuntimeError(f"no free loopback address left in 127.{octet}.0.0/16")


def node_root(home: Path, cluster_uid: str, node_id: str) -> Path:
    """``nodes/<cluster-uid>/<node-id>`` (both generated, still proven to stay under the home)."""
    return _home.inside_home(home, "nodes", cluster_uid, node_id)


def add_nodes(conn: sqlite3.Connection, home: Path, cluster: sqlite3.Row, count: int,
              prepare: bool, now: Optional[float] = None) -> List[str]:
    """Add ``count`` nodes (``preparing`` when a setup task must run, else ``idle``); return their ids."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%dt%H%M%Sz", time.gmtime(now))
    first = int(conn.execute("SELECT next_node FROM clusters WHERE key=?", (cluster["key"],)).fetchone()[0])
    low_priority = (loads(cluster["body"])["properties"].get("vmPriority") or "").lower() == "lowpriority"
    ids = []
    addresses = allocate_addresses(conn, home, count) if count > 0 else []
    for idx, address in zip(range(first, first + count), addresses):
        node_id = f"tvm-{cluster['pool']}_{idx}-{stamp}" + ("-p" if low_priority else "")
        root = node_root(home, cluster["uid"], node_id)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        conn.execute(
            "INSERT INTO nodes(node_id, cluster_key, idx, address, port, root, state, state_time) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (node_id, cluster["key"], idx, address, FIRST_PORT + idx - 1, str(root),
             "preparing" if prepare else "idle", now),
        )
        ids.append(node_id)
    conn.execute("UPDATE clusters SET next_node=? WHERE key=?", (first + count, cluster["key"]))
    return ids


def set_state(conn: sqlite3.Connection, node_ids: List[str], state: str, job_key: Optional[str] = None,
              now: Optional[float] = None) -> None:
    now = time.time() if now is None else now
    conn.executemany("UPDATE nodes SET state=?, job_key=?, state_time=? WHERE node_id=?",
                     [(state, job_key, now, node_id) for node_id in node_ids])


def mark_leaving(conn: sqlite3.Connection, node_id: str, keep_job: bool, leave_seconds: float,
                 now: Optional[float] = None) -> None:
    """Start removing a node; a node that keeps its job leaves when the job ends."""
    now = time.time() if now is None else now
    if keep_job:
        conn.execute("UPDATE nodes SET state='leaving', state_time=?, leave_after=NULL WHERE node_id=?",
                     (now, node_id))
    else:
        conn.execute("UPDATE nodes SET state='leaving', state_time=?, job_key=NULL, leave_after=? "
                     "WHERE node_id=?", (now, now + leave_seconds, node_id))


def release(conn: sqlite3.Connection, job_key: str, leave_seconds: float, now: Optional[float] = None) -> None:
    """The job left its nodes: running nodes become idle, leaving ones finish leaving soon."""
    now = time.time() if now is None else now
    conn.execute("UPDATE nodes SET state='idle', job_key=NULL, state_time=? WHERE job_key=? AND state='running'",
                 (now, job_key))
    conn.execute("UPDATE nodes SET job_key=NULL, leave_after=? WHERE job_key=? AND state='leaving'",
                 (now + leave_seconds, job_key))


def remove_departed(conn: sqlite3.Connection, now: Optional[float] = None) -> List[str]:
    """Delete leaving nodes whose time is up (and whatever their setup task left running); return
    their cluster keys."""
    now = time.time() if now is None else now
    rows = conn.execute("SELECT node_id, cluster_key, root, prep_pid, prep_start FROM nodes WHERE state='leaving' "
                        "AND job_key IS NULL AND leave_after IS NOT NULL AND leave_after <= ?", (now,)).fetchall()
    for row in rows:
        if row["prep_pid"] and not procs.alive(row["prep_pid"], row["prep_start"]):
            procs.kill_orphaned_group(row["prep_pid"])
        remove(conn, row["node_id"], row["root"])
    procs.kill_by_environment([procs.node_marker(row["root"]) for row in rows if row["prep_pid"]])
    return sorted({row["cluster_key"] for row in rows})


def remove(conn: sqlite3.Connection, node_id: str, root: str) -> None:
    conn.execute("DELETE FROM nodes WHERE node_id=?", (node_id,))
    shutil.rmtree(root, ignore_errors=True)


def counts(conn: sqlite3.Connection, cluster_key: str) -> Dict[str, int]:
    result = dict.fromkeys(STATES, 0)
    for row in conn.execute("SELECT state, COUNT(*) FROM nodes WHERE cluster_key=? GROUP BY state", (cluster_key,)):
        result[row[0]] = row[1]
    return result


def refresh_allocation(conn: sqlite3.Connection, cluster_key: str, now: Optional[float] = None,
                       growing: bool = False) -> None:
    """Recompute ``allocationState`` from the nodes (and ``growing``: the scheduler still has nodes to add
    in later passes); move its transition time only when it changes."""
    busy = growing or conn.execute(
        "SELECT 1 FROM nodes WHERE cluster_key=? AND state IN ('preparing','leaving') LIMIT 1",
        (cluster_key,)).fetchone()
    state = "resizing" if busy else "steady"
    conn.execute("UPDATE clusters SET alloc_state=?, alloc_time=? WHERE key=? AND alloc_state<>?",
                 (state, _util.iso(now), cluster_key, state))


def list_nodes(conn: sqlite3.Connection, cluster_key: str) -> List[sqlite3.Row]:
    return conn.execute("SELECT * FROM nodes WHERE cluster_key=? ORDER BY idx", (cluster_key,)).fetchall()
