"""Process handling: detached spawning, liveness by pid *and* start time, process-group kills.

A pid alone is not an identity (pids are recycled, and a machine restart reuses them all), so every
process the backend records is stored as ``(pid, start)`` where ``start`` is the kernel's start
time of the process (``/proc/<pid>/stat`` field 22, clock ticks since boot). A process counts as
alive only while both match and it is not a zombie.

Process groups outlive their leader: when a recorded leader (a setup-task runner, a launcher) is
gone, its group may still hold the processes it started. Linux never hands out a pid that is still
in use as a process-group id, so a group whose id is the recorded pid, while no process of that pid
exists, is the recorded process's own group (:func:`owns_group`); it is signalled like a live one.

Deviation: without ``/proc`` (macOS) the start time is unavailable and liveness falls back to
``kill(pid, 0)``, which can mistake a recycled pid for the original process.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

_children: List[int] = []  # detached children not yet reaped
_children_lock = threading.Lock()


def start_time(pid: Optional[int]) -> Optional[int]:
    """The start time of live process ``pid`` (``0`` without /proc), ``None`` if gone or a zombie."""
    if not pid or pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        return _kill0(pid)
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _kill0(pid: int) -> Optional[int]:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return 0
    return 0


def alive(pid: Optional[int], start: Optional[int]) -> bool:
    current = start_time(pid)
    if current is None:
        return False
    return start is None or current == start or current == 0


def package_root() -> str:
    """The directory that contains the ``batchai_compat`` package."""
    import batchai_compat

    return str(Path(batchai_compat.__file__).resolve().parent.parent)


def child_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of the processes the backend starts: the client's own, unchanged.

    Nothing of ours is added (no ``PYTHONPATH``): supervisors, setup-task runners and launchers are
    started through ``_boot.py``, which finds the package by its own location, and the jobs they
    run inherit this environment (``launcher/env.py``), so a job sees the client's environment plus
    the Batch AI variables only (``docs/service-behaviour.md`` §d.1).
    """
    env = dict(os.environ)
    env.update(extra or {})
    return env


def spawn_detached(argv: Sequence[str], log_path: Optional[Path] = None,
                   env: Optional[Dict[str, str]] = None) -> Tuple[int, Optional[int]]:
    """Start ``argv`` in a new session (it survives this process, its terminal and its kernel).

    ``posix_spawn`` with ``setsid``: no ``Popen`` object is left behind for a process this one never
    waits for; exit statuses are collected by :func:`reap`. Output goes to ``log_path`` (created
    0600) or ``/dev/null``. Returns ``(pid, start)``.
    """
    reap()
    out = str(log_path) if log_path is not None else os.devnull
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    environment = env if env is not None else child_env()
    try:
        pid = os.posix_spawn(argv[0], list(argv), environment, file_actions=actions, setsid=True)
    except (AttributeError, NotImplementedError, TypeError):  # no posix_spawn(setsid=...) on this platform
        pid = _popen_detached(argv, out, environment)
    with _children_lock:
        _children.append(pid)
    return pid, start_time(pid)


def _popen_detached(argv: Sequence[str], out: str, env: Dict[str, str]) -> int:
    import subprocess

    with open(out, "ab") as log:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                close_fds=True, start_new_session=True, env=env)
    proc.returncode = 0  # reaped by reap() through its pid; keeps Popen.__del__ quiet
    return proc.pid


BOOT = str(Path(__file__).with_name("_boot.py"))


def module_argv(python: str, module: str, *args: str) -> List[str]:
    """``python -m module args...``, started through ``_boot.py`` (skips the heavy package import)."""
    return [python, BOOT, module, *args]


def reap() -> None:
    """Collect exit statuses of children this process started, so they do not linger as zombies."""
    with _children_lock:
        for pid in list(_children):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _children.remove(pid)


def owns_group(pid: Optional[int], start: Optional[int]) -> bool:
    """Whether process group ``pid`` is the group of the process recorded as ``(pid, start)``: the
    leader is that process, or no process of that pid exists any more but the group has members."""
    if not pid or pid <= 0:
        return False
    current = start_time(pid)
    if current is not None:
        return start is None or current == start or current == 0
    return group_alive(pid)  # the leader is gone (or a zombie): its group, if anything is left of it


def kill_orphaned_group(pid: Optional[int]) -> bool:
    """SIGKILL what is left of group ``pid`` whose leader died (no one is left to stop it gently)."""
    if not pid or start_time(pid) is not None or not group_alive(pid):
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def node_marker(root: str) -> str:
    """The environment entry every process started on a node carries (``$AZ_BATCHAI_MOUNT_ROOT``)."""
    return f"AZ_BATCHAI_MOUNT_ROOT={root.rstrip('/')}/mounts"


def kill_by_environment(entries: Sequence[str]) -> List[int]:
    """SIGKILL this user's processes whose environment holds one of ``entries`` exactly (``NAME=value``).

    Finds what left its process group (``setsid``, daemons) but kept the node's variables; a process
    that rewrote them is not found. Reads ``/proc/<pid>/environ`` (nothing without ``/proc``)."""
    wanted = {entry.encode("utf-8", "surrogateescape") for entry in entries}
    proc = Path("/proc")
    if not wanted or not proc.is_dir():
        return []
    uid, me, killed = os.getuid(), os.getpid(), []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted.intersection(environ.split(b"\0")):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except OSError:
                pass
    return killed


def signal_group(pid: Optional[int], start: Optional[int], sig: int) -> bool:
    """Send ``sig`` to the process group of the process recorded as ``(pid, start)`` (:func:`owns_group`)."""
    if not owns_group(pid, start):
        return False
    try:
        os.killpg(pid, sig)  # type: ignore[arg-type]
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def signal_process(pid: Optional[int], start: Optional[int], sig: int) -> bool:
    if not alive(pid, start):
        return False
    try:
        os.kill(pid, sig)  # type: ignore[arg-type]
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(pid: Optional[int]) -> bool:
    """Whether any process is left in process group ``pid`` (the leader may be gone already)."""
    if not pid:
        return False
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _group_has_live_member(pid)


def _group_has_live_member(pgid: int) -> bool:
    """``killpg(0)`` succeeds for a group of zombies; look for a member that is not one."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def kill_group_hard(pid: Optional[int], start: Optional[int], grace: float = 3.0) -> None:
    """SIGTERM the group, wait up to ``grace`` seconds, then SIGKILL whatever is left."""
    if not pid:
        return
    if alive(pid, start):
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace
    delay = 0.005
    while time.monotonic() < deadline:
        if not group_alive(pid):
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
