"""Maintenance commands for a local backend home: ``python -m batchai_compat.backends.local``.

``check --home DIR``
    Open the state database as the backend does and run SQLite's full ``integrity_check``. Exit 0
    when it is sound, 1 (with the reason and the remedy) when it is damaged or lost.

``reset --home DIR [--force]``
    Start over after damage, without deleting anything: the database and its companions
    (``state.db``, ``-wal``, ``-shm``, ``-journal``), the marker ``state.created``, the virtual node
    disks (``nodes/``), the file-server exports (``fileservers/``) and the run files of jobs
    (``run/jobs/``) are *moved* to ``DIR/state-backup-<UTC time>/``, and an empty database is
    created. Storage accounts (``storage/``) are not state of the control plane and stay. Refused
    while any process uses the home (a client holding the database open, a job supervisor, a node
    setup runner, a launcher), and refused on a sound database unless ``--force`` is given.

The home defaults to ``$BATCHAI_COMPAT_HOME`` (else ``~/.batchai_compat``), as for the client.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

from batchai_compat._state_errors import BatchAICompatStateError

from .store import COMPANIONS, MARKER_NAME, Store

DB_NAME = "state.db"
# Moved aside by a reset, in this order (paths relative to the home).
MOVED = [DB_NAME, *(DB_NAME + suffix for suffix in COMPANIONS), MARKER_NAME, "nodes", "fileservers", "run/jobs"]
# Processes of ours that belong to a home (their command lines name it).
_MODULES = ("batchai_compat.backends.local.supervisor", "batchai_compat.backends.local.nodeprep",
            "batchai_compat.launcher")


def _home(explicit: Optional[str]) -> Path:
    raw = explicit or os.environ.get("BATCHAI_COMPAT_HOME") or str(Path.home() / ".batchai_compat")
    return Path(raw).expanduser().resolve()


def users(home: Path) -> Optional[List[Tuple[int, str]]]:
    """The processes (pid, why) that use ``home``'s state, or ``None`` without ``/proc``.

    A process counts when it holds one of the database files open (read from the ``/proc/<pid>/fd``
    links, never by opening the files) or is a supervisor, setup runner or launcher whose command
    line names the home.
    """
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return None
    db = home / DB_NAME
    targets = {str(db)} | {str(db) + suffix for suffix in COMPANIONS}
    found: List[Tuple[int, str]] = []
    for entry in os.listdir(proc):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        reason = _user_reason(proc / entry, home, targets)
        if reason:
            found.append((pid, reason))
    return found


def _user_reason(pdir: Path, home: Path, targets: set) -> Optional[str]:
    try:
        args = [a.decode("utf-8", "replace") for a in (pdir / "cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return None
    home_text = str(home)
    if any(m in a for a in args for m in _MODULES) and any(
            a == home_text or a.startswith(home_text + os.sep) for a in args):
        return " ".join(args)[:200]
    try:
        fds = os.listdir(pdir / "fd")
    except OSError:
        return None
    for fd in fds:
        try:
            link = os.readlink(pdir / "fd" / fd)
        except OSError:
            continue
        if link.endswith(" (deleted)"):
            link = link[: -len(" (deleted)")]
        if link in targets:
            return f"holds {link} open: " + " ".join(args)[:160]
    return None


def check(home: Path) -> int:
    db = home / DB_NAME
    try:
        store = Store(db) if db.exists() or (home / MARKER_NAME).exists() else None
        if store is None:
            print(f"{db}: no database yet (a fresh home)")
            return 0
        rows = [str(r[0]) for r in store.connection().execute("PRAGMA integrity_check(5)")]
        store.close()
    except BatchAICompatStateError as exc:
        print(exc, file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:  # pragma: no cover - integrity_check itself failing
        print(f"{db}: cannot be checked: {exc}", file=sys.stderr)
        return 1
    if rows != ["ok"]:
        print(f"{db}: fails SQLite's integrity check: {'; '.join(rows)}", file=sys.stderr)
        return 1
    print(f"{db}: ok")
    return 0


def _sound(home: Path) -> bool:
    db = home / DB_NAME
    if not db.exists():
        return False
    try:
        store = Store(db)
    except BatchAICompatStateError:
        return False
    store.close()
    return True


def reset(home: Path, force: bool = False) -> int:
    found = users(home)
    if found is None and not force:
        print(f"Cannot tell which processes use {home} on this system (no /proc); stop them all and run again "
              "with --force.", file=sys.stderr)
        return 1
    if found:
        print(f"Refusing to reset {home}: these processes still use it (stop them first; job supervisors end with "
              "their jobs):", file=sys.stderr)
        for pid, why in found:
            print(f"  pid {pid}: {why}", file=sys.stderr)
        return 1
    present = [name for name in MOVED if os.path.lexists(home / name)]
    if not present:
        print(f"{home}: nothing to reset")
        return 0
    if not force and _sound(home):
        print(f"{home / DB_NAME} is sound; nothing was moved. Pass --force to set the state aside anyway.",
              file=sys.stderr)
        return 1
    backup = home / time.strftime("state-backup-%Y%m%dT%H%M%SZ", time.gmtime())
    suffix = 1
    while os.path.lexists(backup):
        suffix += 1
        backup = backup.with_name(backup.name.split("~")[0] + f"~{suffix}")
    backup.mkdir(mode=0o700)
    for name in present:
        target = backup / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.rename(home / name, target)
    Store(home / DB_NAME).close()
    print(f"Moved {', '.join(present)} of {home} to {backup}; {home / DB_NAME} is a new, empty state.")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batchai_compat.backends.local",
                                     description="Maintenance of a local backend home (BATCHAI_COMPAT_HOME).")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("check", "check the state database"),
                       ("reset", "move damaged state aside to a timestamped backup and start empty")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--home", default=None, help="the home (default: $BATCHAI_COMPAT_HOME or ~/.batchai_compat)")
        if name == "reset":
            sub.add_argument("--force", action="store_true",
                             help="also when the database is sound, or when processes cannot be checked")
    args = parser.parse_args(argv)
    home = _home(args.home)
    if args.command == "check":
        return check(home)
    return reset(home, args.force)


if __name__ == "__main__":
    sys.exit(main())
