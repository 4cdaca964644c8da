"""Password-less ``ssh`` between the virtual nodes of a job, and OpenMPI's rsh agent.

On Batch AI every node of a job could ``ssh`` to every other node without a password
(``docs/service-behaviour.md`` behaviour 28); the first contact with a host printed OpenSSH's
"Permanently added" warning on stderr. Here a node is a directory plus a loopback address, so
"ssh 127.0.0.3 cmd" runs ``cmd`` locally through ``/bin/bash -c`` with node 127.0.0.3's environment and
working directory.

The launcher installs two small shell scripts into its private directory (never into stdouterr):
``bin/ssh`` (first on the job's PATH; prints the warning once per host and job) and
``agent/rsh-agent`` (the ``plm_rsh_agent`` of the toolkit's own mpirun; silent). Both run this file
as a *script* (``python -E -s ssh.py``) so it must only import the standard library.

The context file holds the nodes' addresses and path variables, never secrets: secret variables
travel through the caller's environment, which is the job's.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import socket
import sys
from typing import Dict, List, Optional, Tuple

SESSION_DIR_VARIABLE = "OMPI_MCA_orte_tmpdir_base"  # per virtual node, see mpi.py
WARNING = "Warning: Permanently added '{host}' (ECDSA) to the list of known hosts."
# OpenSSH options that take an argument.
_WITH_ARG = set("bcDEeFIiJLlmOopQRSWw")
# Variables that belong to one process (a role or an MPI rank), not to a node.
_ROLE_VARIABLES = (
    "AZ_BATCHAI_TASK_INDEX",
    "AZ_BATCHAI_PS_HOSTS",
    "AZ_BATCHAI_WORKER_HOSTS",
    "TF_CONFIG",
    "AZ_BATCHAI_PYTORCH_INIT_METHOD",
    "AZ_BATCHAI_PYTORCH_BACKEND",
)


# --------------------------------------------------------------------------------------------------
# Installation (called by the launcher)
# --------------------------------------------------------------------------------------------------
def install(private_dir: str, context: Dict, python: Optional[str] = None) -> Tuple[str, str]:
    """Write the context file and the two shims. Returns (directory for PATH, rsh agent path)."""
    python = python or sys.executable
    context_path = os.path.join(private_dir, "ssh-context.json")
    fd = os.open(context_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(context, fh)
    script = os.path.abspath(__file__)
    bin_dir = os.path.join(private_dir, "bin")
    agent_dir = os.path.join(private_dir, "agent")
    paths = []
    for directory, name, extra in ((bin_dir, "ssh", ""), (agent_dir, "rsh-agent", " --agent")):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(
                "#!/bin/sh\n"
                f"exec {shlex.quote(python)} -E -s {shlex.quote(script)} "
                f"--context {shlex.quote(context_path)}{extra} -- \"$@\"\n"
            )
        os.chmod(path, 0o700)
        paths.append(path)
    return bin_dir, paths[1]


# --------------------------------------------------------------------------------------------------
# The shim itself
# --------------------------------------------------------------------------------------------------
def parse_ssh_args(args: List[str]) -> Tuple[Optional[str], List[str], bool]:
    """(host, remote command words, quiet) from an OpenSSH-style command line."""
    host, command, quiet, _options = _split_ssh_args(args)
    return host, command, quiet


def _split_ssh_args(args: List[str]) -> Tuple[Optional[str], List[str], bool, List[str]]:
    """(host, remote command words, quiet, the options before the destination)."""
    quiet = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        j = 1
        while j < len(arg):
            flag = arg[j]
            if flag in _WITH_ARG:
                value = arg[j + 1 :]
                if not value:
                    i += 1
                    value = args[i] if i < len(args) else ""
                if flag == "o" and value.replace(" ", "").lower() in ("loglevel=error", "loglevel=quiet",
                                                                      "loglevel=fatal"):
                    quiet = True
                break
            if flag == "q":
                quiet = True
            j += 1
        i += 1
    if i >= len(args):
        return None, [], quiet, args
    host = args[i].rsplit("@", 1)[-1]
    return host, args[i + 1 :], quiet, args[:i]


def _current_node(context: Dict, env: Dict[str, str]) -> Dict:
    for node in context["nodes"]:
        if node["env"].get("AZ_BATCHAI_JOB_TEMP") == env.get("AZ_BATCHAI_JOB_TEMP"):
            return node
    return context["nodes"][0]


def resolve_host(context: Dict, host: str, env: Dict[str, str]) -> Optional[Dict]:
    for node in context["nodes"]:
        if host in (node["address"], node["id"]):
            return node
    if host in ("localhost", "127.0.0.1", "::1", socket.gethostname()):
        return _current_node(context, env)
    return None


def _first_contact(known_hosts: str, host: str) -> bool:
    """Record ``host`` in the job's known-hosts list; True if it was not there yet."""
    with open(known_hosts, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        if host in fh.read().split():
            return False
        fh.write(host + "\n")
        return True


def remote_environment(context: Dict, node: Dict, env: Dict[str, str]) -> Dict[str, str]:
    defaults = context.get("runtime_defaults", {})
    result = {
        k: v
        for k, v in env.items()
        if k not in _ROLE_VARIABLES and not k.startswith(("OMPI_", "PMIX_", "OPAL_")) or k in defaults
    }
    result.update(defaults)
    result.update(node["env"])
    return result


# The daemon is the first word of the command or of a ';'-separated part: "[PATH=..; export PATH;] orted"
_ORTED_RE = re.compile(r"(^\s*|;\s*)((?:\S*/)?orted)(?=\s|$)")
_DAEMONIZE_RE = re.compile(r"\s--daemonize(?=\s|$)")
_TMPDIR_RE = re.compile(r"\s-{1,2}mca\s+orte_tmpdir_base\s+(\"[^\"]*\"|'[^']*'|\S+)")


def orted_command(command: str, session_dir: Optional[str]) -> str:
    """Adjust an OpenMPI daemon launch (``... orted --daemonize -mca ...``) for a virtual node.

    * drop ``--daemonize`` so the daemon stays in the launcher's process tree (killable);
    * give it this node's session directory: mpirun copies its own ``orte_tmpdir_base`` onto every
      daemon's command line, and daemons of one machine sharing a directory race on creating it.

    mpirun passes the remote command either as one word or as several (depending on the agent's
    name), so this works on the joined string.
    """
    if not _ORTED_RE.search(command):
        return command
    command = _DAEMONIZE_RE.sub("", command)
    if session_dir:
        command = _TMPDIR_RE.sub("", command)
        command = _ORTED_RE.sub(lambda m: f"{m.group(1)}{m.group(2)} -mca orte_tmpdir_base {shlex.quote(session_dir)}",
                                command, count=1)
    return command


# --------------------------------------------------------------------------------------------------
# Node mode: real machines, real ssh, each node's variables forwarded
# --------------------------------------------------------------------------------------------------
def install_forwarding(private_dir: str, nodes: List[Dict], python: Optional[str] = None) -> Optional[str]:
    """The rsh agent for ``mpirun`` in node mode (one launcher per real machine): the machine's
    ``ssh``, with the target node's own ``AZ_BATCHAI_*`` variables exported in front of the remote
    command, so that ranks (children of the ``orted`` started there) see their node's paths as on
    Batch AI. ``nodes``: ``[{"id", "address", "env"}]`` (no secrets: they travel with
    ``mpirun -x``). Returns the agent's path, or None when this machine has no ssh."""
    python = python or sys.executable
    own = os.path.realpath(private_dir)
    search = os.pathsep.join(d for d in os.environ.get("PATH", os.defpath).split(os.pathsep)
                             if d and not os.path.realpath(d).startswith(own))
    real_ssh = shutil.which("ssh", path=search)
    if real_ssh is None:
        return None
    context_path = os.path.join(private_dir, "ssh-forward.json")
    fd = os.open(context_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"ssh": real_ssh, "nodes": nodes}, fh)
    agent_dir = os.path.join(private_dir, "agent")
    os.makedirs(agent_dir, mode=0o700, exist_ok=True)
    path = os.path.join(agent_dir, "rsh-forward")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("#!/bin/sh\n"
                 f"exec {shlex.quote(python)} -E -s {shlex.quote(os.path.abspath(__file__))} "
                 f"--context {shlex.quote(context_path)} --forward -- \"$@\"\n")
    os.chmod(path, 0o700)
    return path


def forwarded_command(context: Dict, args: List[str]) -> List[str]:
    """The real ssh command line for ``ssh ARGS`` with the target node's variables exported first
    (unchanged when the destination is not a node of the job, or there is no command)."""
    host, command, _quiet, options = _split_ssh_args(args)
    node = next((n for n in context["nodes"] if host in (n["address"], n["id"])), None)
    if host is None or node is None or not command:
        return [context["ssh"], *args]
    exports = "".join(f"export {k}={shlex.quote(str(v))}; " for k, v in sorted(node["env"].items()))
    destination = args[len(options)]
    return [context["ssh"], *options, destination, exports + " ".join(command)]


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    context_path, agent, forward = None, False, False
    while argv and argv[0] != "--":
        opt = argv.pop(0)
        if opt == "--context":
            context_path = argv.pop(0)
        elif opt == "--agent":
            agent = True
        elif opt == "--forward":
            forward = True
    argv = argv[1:]
    with open(context_path or "", encoding="utf-8") as fh:
        context = json.load(fh)
    if forward:
        command = forwarded_command(context, argv)
        os.execv(command[0], command)
    host, command, quiet = parse_ssh_args(argv)
    if host is None:
        sys.stderr.write("usage: ssh [options] destination [command]\n")
        return 255
    env = dict(os.environ)
    node = resolve_host(context, host, env)
    if node is None:
        sys.stderr.write(f"ssh: Could not resolve hostname {host}: Name or service not known\r\n")
        return 255
    if _first_contact(context["known_hosts"], host) and not (agent or quiet):
        sys.stderr.write(WARNING.format(host=host) + "\r\n")
        sys.stderr.flush()
    new_env = remote_environment(context, node, env)
    remote = orted_command(" ".join(command), new_env.get(SESSION_DIR_VARIABLE))
    try:
        os.chdir(node["cwd"])
    except OSError:
        pass
    if command:
        os.execve("/bin/bash", ["bash", "-c", remote], new_env)
    os.execve("/bin/bash", ["bash"], new_env)
    return 255  # not reached


if __name__ == "__main__":
    sys.exit(main())
