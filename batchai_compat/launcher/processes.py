"""Child processes of the launcher: start, wait, and kill whole process trees.

Everything the launcher starts stays in the launcher's process group (so the supervisor's
``killpg`` reaches it even if the launcher itself dies), and the launcher makes itself a child
subreaper where Linux allows it, so processes that daemonize (OpenMPI's ``orted``, user jobs that
double-fork) are re-parented to the launcher instead of init and can still be found and killed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux >= 3.4). Returns False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def normalise_exit_code(returncode: int) -> int:
    """A process killed by signal N reports 128+N, as a shell would."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass(eq=False)  # identity semantics: tasks are compared with "in"
class Task:
    """One process of the job: job preparation on a node, or one toolkit process/role."""

    name: str  # for the execution log: "job preparation", "wk-0", "ps-0", "rank 1", "mpirun"...
    node: int  # index of the virtual node it runs on
    argv: List[str]
    env: Dict[str, str]
    cwd: str
    stdout_path: str
    stderr_path: str
    role: str = "main"  # "main": the job waits for it; "ps": stopped once the main tasks end
    proc: Optional[subprocess.Popen] = field(default=None, repr=False)
    exit_code: Optional[int] = None

    def start(self) -> int:
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                close_fds=True,
            )
        return self.proc.pid

    def poll(self) -> Optional[int]:
        if self.exit_code is None and self.proc is not None:
            rc = self.proc.poll()
            if rc is not None:
                self.exit_code = normalise_exit_code(rc)
        return self.exit_code


# --------------------------------------------------------------------------------------------------
# Process-tree discovery and killing through /proc
# --------------------------------------------------------------------------------------------------
def _read_stat(pid: int):
    """(state, ppid, session) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rfind(")") + 2 :].split()
    return rest[0], int(rest[1]), int(rest[3])


def _process_table() -> Dict[int, tuple]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read_stat(int(entry))
            if stat is not None:
                table[int(entry)] = stat
    return table


def descendants(root: int, include_session: bool = False) -> Set[int]:
    """Living (non-zombie) descendants of ``root``; with ``include_session`` also every process of
    ``root``'s session (catches children that daemonized without calling setsid)."""
    table = _process_table()
    children: Dict[int, List[int]] = {}
    for pid, (_state, ppid, _sid) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: Set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    if include_session and root in table:
        sid = table[root][2]
        found.update(pid for pid, (_s, _p, psid) in table.items() if psid == sid)
    found.discard(root)
    found.discard(os.getpid())
    return {pid for pid in found if pid in table and table[pid][0] not in ("Z", "X")}


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def reap_orphans() -> None:
    """Collect zombies adopted as subreaper (never touches Popen-managed children's status:
    only pids that are already zombies and not known to ``subprocess``)."""
    table = _process_table()
    me = os.getpid()
    for pid, (state, ppid, _sid) in table.items():
        if ppid == me and state == "Z" and pid not in _tracked_pids:
            try:
                os.waitpid(pid, os.WNOHANG)
            except OSError:
                pass


_tracked_pids: Set[int] = set()


def track(pid: int) -> None:
    _tracked_pids.add(pid)


def _tree(root: int, include_root: bool, include_session: bool) -> Set[int]:
    pids = descendants(root, include_session=include_session)
    stat = _read_stat(root)
    if include_root and root != os.getpid() and stat is not None and stat[0] != "Z":
        pids.add(root)
    return pids


def _freeze(root: int, include_root: bool, include_session: bool) -> Set[int]:
    """SIGSTOP the whole tree, re-reading it until no new process appears (or three rounds).

    Killing a running tree one process at a time lets a parent act on a child's death before its
    own signal lands (``sleep 300; echo never`` would print "never"). A frozen tree cannot: the
    signals are queued while stopped and delivered before any process runs another instruction.
    """
    frozen: Set[int] = set()
    for _ in range(3):
        new = _tree(root, include_root, include_session) - frozen
        if not new:
            break
        _signal_all(new, signal.SIGSTOP)
        frozen |= new
    return frozen


def kill_tree(root: int, grace: float = 2.0, include_root: bool = True, include_session: bool = False,
              reap: Optional[List[Task]] = None) -> None:
    """SIGTERM a process and all its descendants, then SIGKILL whatever is left after ``grace``.

    The first round freezes the tree, queues SIGTERM everywhere and thaws it (see ``_freeze``);
    later rounds re-read the tree, so processes forked while we are killing are caught too.
    """
    deadline = time.monotonic() + grace
    frozen = _freeze(root, include_root, include_session)
    _signal_all(frozen, signal.SIGTERM)
    _signal_all(frozen, signal.SIGCONT)
    sig = signal.SIGTERM
    pause = 0.005  # most trees are gone after the first round; back off to 50 ms otherwise
    while True:
        pids = _tree(root, include_root, include_session)
        if not pids:
            return
        _signal_all(pids, sig)
        for task in reap or []:
            task.poll()
        reap_orphans()
        if sig == signal.SIGKILL and time.monotonic() > deadline + 2.0:
            return  # unkillable (D state); give up rather than hang
        if time.monotonic() >= deadline:
            sig = signal.SIGKILL
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
