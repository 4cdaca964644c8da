"""``ssh`` between the emulated nodes of one Azure ML run (AML clusters allow password-less ssh between the
nodes of a run).

The emulator's ``bin/ssh`` (first on the PATH of every run process) runs this file as a script
(``python -E -s nodessh.py ARGS``), so it imports the standard library only.

``ssh [options] [user@]HOST COMMAND ...``: HOST is the loopback address or the node id of a node of the
caller's run, looked up in the run's ``nodes.json`` (``$AMLEMU_NODES_FILE``, written by the executor).
COMMAND (its words joined with spaces, as OpenSSH does) replaces this process (``os.execve`` of
``/bin/sh -c``, so it stays in the caller's process group, which the executor kills when the run ends) with
the target node's *login* environment (not the caller's: that node's variables, no process-layout variables
such as ``OMPI_COMM_WORLD_RANK`` or ``TF_CONFIG``), in the node's root directory. stdin/stdout/stderr pass
through; the exit status is the command's. An unknown host exits 255 with OpenSSH's resolver message and
never connects anywhere; no command (an interactive login) exits 255.

An OpenMPI ``orted`` launch (``mpirun`` on one node starting its daemons on the others through this ssh)
is adjusted for co-located nodes: ``--daemonize`` is dropped (the daemon stays in the run's process group)
and the target node's own session directory replaces the ``orte_tmpdir_base`` mpirun copies onto the
daemon's command line (daemons sharing one directory race on creating it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

NODES_FILE_VARIABLE = "AMLEMU_NODES_FILE"
SESSION_DIR_VARIABLE = "OMPI_MCA_orte_tmpdir_base"


def _launcher_ssh() -> Any:
    """The node launcher's own ssh shim module (``batchai_compat/launcher/ssh.py``, standard library only like
    this script, loaded by path): one OpenSSH argument parser and one ``orted`` adjustment for both shims."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "launcher_ssh.py")  # the copy beside it in an image environment (images.py)
    if not os.path.exists(path):
        path = os.path.join(here, os.pardir, os.pardir, "launcher", "ssh.py")
    spec = importlib.util.spec_from_file_location("_batchai_launcher_ssh", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SSH = _launcher_ssh()


def parse_args(args: List[str]) -> Tuple[Optional[str], List[str]]:
    """``(host, command words)`` of an OpenSSH command line; host ``None`` when there is none. Options are
    accepted and ignored (``-p 22``, ``-o StrictHostKeyChecking=no``...)."""
    host, words, _quiet = _SSH.parse_ssh_args(args)
    return host, words


def daemon_command(command: str, session_dir: Optional[str]) -> str:
    """``command`` with an OpenMPI daemon launch adjusted for this node (see the module docstring)."""
    return str(_SSH.orted_command(command, session_dir))


def resolve(listing: Dict[str, Any], host: str, caller_node_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """The node of the run named ``host`` (address or node id). Nodes of a run on a target without nodes all
    answer on 127.0.0.1: then the caller's own node when it matches, else the first."""
    matches = [n for n in listing.get("nodes") or [] if host in (n.get("address"), n.get("id"))]
    for node in matches:
        if node.get("id") == caller_node_id:
            return node
    return matches[0] if matches else None


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    host, words = parse_args(args)
    if host is None:
        sys.stderr.write("usage: ssh [options] [user@]hostname [command]\n")
        return 255
    path = os.environ.get(NODES_FILE_VARIABLE)
    listing: Dict[str, Any] = {}
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                listing = json.load(fh)
        except (OSError, ValueError):
            listing = {}
    node = resolve(listing, host, os.environ.get("AZ_BATCH_NODE_ID"))
    if node is None:
        sys.stderr.write(f"ssh: Could not resolve hostname {host}: Name or service not known\r\n")
        return 255
    if not words:
        sys.stderr.write(f"ssh: {host}: the Azure ML emulator's ssh runs commands only, no interactive "
                         "login (ssh HOST COMMAND)\r\n")
        return 255
    env = {str(k): str(v) for k, v in (node.get("env") or {}).items()}
    command = daemon_command(" ".join(words), env.get(SESSION_DIR_VARIABLE))
    try:
        os.chdir(node.get("root") or "/")
    except OSError as exc:
        sys.stderr.write(f"ssh: {host}: cannot enter the node's directory: {exc}\r\n")
        return 255
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve("/bin/sh", ["sh", "-c", command], env)
    return 255  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
