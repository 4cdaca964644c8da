"""Idle supervisors on standby: the next job starts without a new interpreter.

A supervisor whose job ended and that found nothing to adopt waits ``linger_seconds`` (default
2 s) as a *standby*: a row in ``standby`` plus a FIFO it blocks on. When a scheduling pass in any
process starts a job, it hands the job to the newest live standby (recording the job in that row,
inside the same transaction that marks the job running) and writes a byte to its FIFO; the
standby wakes, waits for the transaction to commit, removes its row and runs the job. A standby
that times out removes its row in a transaction too, so a job is either handed over or not, never
lost. This keeps notebooks that run one job after another at launcher speed.
"""

from __future__ import annotations

import os
import select
import sqlite3
import time
from pathlib import Path
from typing import Callable, Optional, Tuple

from . import procs
from .store import Store


def hand_over(conn: sqlite3.Connection, job_key: str, attempt: int) -> bool:
    """Give ``job_key`` to a live standby supervisor (inside the caller's transaction)."""
    for row in conn.execute("SELECT * FROM standby WHERE job_key IS NULL ORDER BY since DESC").fetchall():
        if not procs.alive(row["pid"], row["start"]):
            conn.execute("DELETE FROM standby WHERE pid=?", (row["pid"],))
            continue
        try:
            fd = os.open(row["fifo"], os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader any more
            conn.execute("DELETE FROM standby WHERE pid=?", (row["pid"],))
            continue
        try:
            os.write(fd, b"j")
        except OSError:
            pass
        finally:
            os.close(fd)
        conn.execute("UPDATE standby SET job_key=?, attempt=? WHERE pid=?", (job_key, attempt, row["pid"]))
        conn.execute("UPDATE jobs SET sup_pid=?, sup_start=? WHERE key=?", (row["pid"], row["start"], job_key))
        return True
    return False


def wait_for_job(store: Store, fifo_dir: Path, seconds: float,
                 stopped: Callable[[], bool]) -> Optional[Tuple[str, int]]:
    """Stand by for up to ``seconds``; return ``(job_key, attempt)`` if a job was handed over."""
    pid = os.getpid()
    fifo = fifo_dir / f"standby-{pid}.fifo"
    try:
        os.mkfifo(fifo, 0o600)
    except FileExistsError:
        pass
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    keepalive = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # so the reader never sees end-of-file
    try:
        with store.write() as conn:
            conn.execute("INSERT OR REPLACE INTO standby(pid, start, fifo, since) VALUES (?,?,?,?)",
                         (pid, procs.start_time(pid), str(fifo), time.time()))
        deadline = time.monotonic() + seconds
        while not stopped():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or select.select([reader], [], [], min(remaining, 0.1))[0]:
                break
        with store.write() as conn:
            row = conn.execute("SELECT job_key, attempt FROM standby WHERE pid=?", (pid,)).fetchone()
            conn.execute("DELETE FROM standby WHERE pid=?", (pid,))
    finally:
        os.close(keepalive)
        os.close(reader)
        try:
            os.unlink(fifo)
        except OSError:
            pass
    if row is None or row["job_key"] is None:
        return None
    return row["job_key"], int(row["attempt"])
