"""Jobs in containers (``docs/service-behaviour.md`` §c.1 step 2) through a docker-CLI-compatible runtime.

With ``LaunchSpec.container_runtime`` set (``docker``, ``podman``, ``nerdctl`` or a path to one) and
``containerSettings`` present, every process of the job on a virtual node runs inside one
long-lived container per node:

* ``<rt> image inspect <image>``; when missing, ``<rt> login --username U --password-stdin [server]``
  (private registries only; the password goes through stdin, never argv or logs) and
  ``<rt> pull <image>``;
* ``<rt> run -d --name batchai-<job_uid>-<node index> --network host --init [--shm-size S]
  -v <dir>:<dir> ... -w <job temp> <image> sleep infinity``: every host directory the job needs is
  bind-mounted at the *same* path, so ``$AZ_BATCHAI_*`` paths are valid inside and outside;
* one ``<rt> exec -e NAME ... -w <cwd> <container> /bin/bash -c ...`` per process (job preparation,
  toolkit processes, remote commands of ``ssh``/the MPI rsh agent). Variables travel as
  ``-e NAME`` with the value in the runtime client's environment: secrets never appear on a
  command line;
* ``<rt> rm -f <containers>`` when the job ends (success, failure, terminate).

``ssh`` between containers: the images need no Python. A ``/bin/sh`` client (``ssh`` on the
containers' PATH, and the rsh agent of ``mpirun``) drops a request (arguments, environment, two
FIFOs) into a directory shared with the launcher; the launcher's relay thread runs the remote
command with ``<rt> exec`` in the target node's container and streams its output back through the
FIFOs. Remote commands get no stdin.

A pull, login or start failure is ``FailedStartingContainer`` with the runtime's message.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Callable, Dict, Iterable, List, Optional, Set

from . import env as envmod
from . import ssh as sshmod
from .processes import track

ERROR_CODE = "FailedStartingContainer"
PULL_TIMEOUT = 3600.0
COMMAND_TIMEOUT = 300.0
# Variables of the caller that never cross into a container (the container has its own).
NOT_EXPORTED = {"PATH", "HOME", "HOSTNAME", "PWD", "OLDPWD", "SHLVL", "_", "TERM", "USER", "LOGNAME", "SHELL"}


class ContainerError(Exception):
    """The container could not be pulled or started: ``FailedStartingContainer``."""


def container_name(job_uid: str, index: int) -> str:
    safe = re.sub(r"[^a-zA-Z0-9_.-]", "-", job_uid)
    return f"batchai-{safe}-{index}"


def image_reference(registry: Dict) -> str:
    """``image``, prefixed with the registry host of ``serverUrl`` when it does not name one yet."""
    image = str(registry.get("image") or "")
    server = registry.get("serverUrl")
    if not server:
        return image
    host = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", str(server)).strip("/")
    if not host or image.startswith(host + "/"):
        return image
    return f"{host}/{image}"


def resolve_runtime(runtime: str) -> Optional[str]:
    """Absolute path of the runtime executable (a name on PATH or a path), or None."""
    if os.sep in runtime:
        return runtime if os.path.isfile(runtime) and os.access(runtime, os.X_OK) else None
    return shutil.which(runtime)


class Runtime:
    """Runs ``<runtime> ...`` commands; ``check`` is called while waiting (raises to abort)."""

    def __init__(self, executable: str, check: Callable[[], None] = lambda: None) -> None:
        self.executable = executable
        self.check = check

    def call(self, args: List[str], stdin: Optional[bytes] = None, timeout: float = COMMAND_TIMEOUT):
        """(exit status, stdout, stderr) of ``<runtime> args``."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen([self.executable, *args], stdin=subprocess.PIPE if stdin is not None
                                        else subprocess.DEVNULL, stdout=out, stderr=err, close_fds=True)
            except OSError as exc:
                return 127, "", f"cannot run {self.executable}: {exc}"
            track(proc.pid)  # its status is ours to collect, not reap_orphans'
            if stdin is not None:
                try:
                    proc.stdin.write(stdin)  # type: ignore[union-attr]
                    proc.stdin.close()  # type: ignore[union-attr]
                except OSError:
                    pass
            deadline = time.monotonic() + timeout
            try:
                while proc.poll() is None:
                    self.check()
                    if time.monotonic() > deadline:
                        proc.kill()
                        proc.wait()
                        return 124, "", f"{os.path.basename(self.executable)} {args[0]} timed out after {timeout:.0f}s"
                    time.sleep(0.02)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            self.check()  # a signal to the whole group (terminate) also ends the runtime command
            out.seek(0)
            err.seek(0)
            return (proc.returncode, out.read().decode("utf-8", "replace"),
                    err.read().decode("utf-8", "replace"))


def _mount_paths(paths: Iterable[str]) -> List[str]:
    """Distinct absolute directories, without those already inside another one."""
    result: List[str] = []
    for path in sorted({os.path.abspath(p) for p in paths if p}, key=len):
        if not any(path == r or path.startswith(r.rstrip("/") + "/") for r in result):
            result.append(path)
    return sorted(result)


class JobContainers:
    """The containers of one job on this launcher's nodes. ``log(node, message, level)``."""

    def __init__(self, ctx, runtime: Runtime, log: Callable[..., None]) -> None:
        self.ctx = ctx
        self.spec = ctx.spec
        self.runtime = runtime
        self.log = log
        settings = ctx.props.get("containerSettings") or {}
        self.registry = settings.get("imageSourceRegistry") or {}
        self.shm_size = settings.get("shmSize")
        self.image = image_reference(self.registry)
        self.names = {i: container_name(self.spec.job_uid, i) for i in ctx.local_nodes}
        self.created: List[str] = []
        self.job_names: Set[str] = {*envmod.user_variables(self.spec), *envmod.secret_variables(self.spec),
                                    *(self.spec.extra_env or {})}
        self.relay: Optional[Relay] = None
        self.shim_dir = os.path.join(ctx.private_dir, "cbin")

    # -- start -----------------------------------------------------------------------------------
    def mounts(self) -> List[str]:
        ctx, spec = self.ctx, self.spec
        paths = [ctx.private_dir, spec.shared_job_temp, ctx.stdouterr]
        for p in ctx.paths:
            paths += [p.node.root, os.path.realpath(p.node.root)]
        for m in [*spec.cluster_mounts, *spec.job_mounts]:
            paths += [m.source, os.path.realpath(m.source)]
        for i in ctx.local_nodes:
            for key, value in ctx.envs[i].items():
                if key.startswith(("AZ_BATCHAI_OUTPUT_", "AZ_BATCHAI_INPUT_")) and os.path.isdir(value):
                    paths += [value, os.path.realpath(value)]
        paths = [p for p in paths if os.path.isdir(p)]
        return _mount_paths(paths)

    def start(self) -> None:
        if not self.registry.get("image"):
            raise ContainerError("containerSettings.imageSourceRegistry.image is empty")
        self._install_shims()
        self._ensure_image()
        mounts = self.mounts()
        for bad in [m for m in mounts if ":" in m or "," in m]:
            raise ContainerError(f"cannot bind-mount {bad!r} into a container (':' or ',' in the path)")
        volume_args: List[str] = []
        for m in mounts:
            volume_args += ["-v", f"{m}:{m}"]
        for i, name in self.names.items():
            args = ["run", "-d", "--name", name, "--network", "host", "--init"]
            if self.shm_size:
                args += ["--shm-size", str(self.shm_size)]
            args += [*volume_args, "-w", self.ctx.paths[i].job_temp, self.image, "sleep", "infinity"]
            self.log(i, f"Starting container {name} from image {self.image}")
            self.created.append(name)
            code, _out, err = self.runtime.call(args)
            if code != 0:
                raise ContainerError(self._message("start", err, code))
            self.log(i, f"Container {name} started ({len(mounts)} bind mounts)")
        if os.path.exists(os.path.join(self.ctx.private_dir, "ssh-context.json")):  # virtual nodes
            self.relay = Relay(self)
            self.relay.start()

    def _ensure_image(self) -> None:
        code, _out, _err = self.runtime.call(["image", "inspect", self.image])
        if code == 0:
            self.log(None, f"Image {self.image} is present")
            return
        credentials = self.registry.get("credentials") or {}
        if credentials:
            self._login(credentials)
        self.log(None, f"Pulling image {self.image}")
        code, _out, err = self.runtime.call(["pull", self.image], timeout=PULL_TIMEOUT)
        if code != 0:
            raise ContainerError(self._message("pull", err, code))
        self.log(None, f"Pulled image {self.image}")

    def _login(self, credentials: Dict) -> None:
        username, password = credentials.get("username"), credentials.get("password")
        if password is None:
            raise ContainerError("the registry password is given as a Key Vault reference "
                                 "(passwordSecretReference), which the local launcher cannot resolve")
        args = ["login", "--username", str(username or ""), "--password-stdin"]
        server = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", str(self.registry.get("serverUrl") or "")).strip("/")
        if server:
            args.append(server)
        self.log(None, f"Logging in to {server or 'the default registry'} as {username}")
        code, _out, err = self.runtime.call(args, stdin=str(password).encode("utf-8"))
        if code != 0:
            raise ContainerError(self._message("login", err.replace(str(password), "******"), code))

    def _message(self, what: str, err: str, code: int) -> str:
        detail = " ".join(err.split()) or f"exit status {code}"
        return (f"unable to start container: {os.path.basename(self.runtime.executable)} {what} failed for "
                f"image {self.image}: {detail}")

    def _install_shims(self) -> None:
        """``ssh`` and the rsh agent inside containers: /bin/sh clients of the relay (virtual nodes
        only: in node mode the machine's real ssh stays)."""
        if not os.path.exists(os.path.join(self.ctx.private_dir, "ssh-context.json")):
            return
        relay_dir = os.path.join(self.ctx.private_dir, "relay")
        os.makedirs(relay_dir, mode=0o700, exist_ok=True)
        os.makedirs(self.shim_dir, mode=0o700, exist_ok=True)
        for name, mode in (("ssh", "ssh"), ("rsh-agent", "agent")):
            path = os.path.join(self.shim_dir, name)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(RELAY_CLIENT.replace("@RELAY@", shlex.quote(relay_dir)).replace("@MODE@", mode))
            os.chmod(path, 0o755)
        agent = os.path.join(self.shim_dir, "rsh-agent")
        # mpirun inside the containers (the toolkits' and a user's own) starts daemons through it.
        host_agent = self.ctx.rsh_agent
        self.ctx.rsh_agent = agent
        for env in self.ctx.envs:
            if env.get("OMPI_MCA_plm_rsh_agent") in (host_agent, os.path.join(self.ctx.private_dir, "bin", "ssh")):
                env["OMPI_MCA_plm_rsh_agent"] = agent

    # -- processes ---------------------------------------------------------------------------------
    def exec_argv(self, node: int, argv: List[str], names: Iterable[str], cwd: str) -> List[str]:
        args = [self.runtime.executable, "exec"]
        for name in sorted(set(names)):
            args += ["-e", name]
        wrapper = f'PATH={shlex.quote(self.shim_dir)}:"$PATH"; export PATH; exec "$@"'
        return [*args, "-w", cwd, self.names[node], "/bin/bash", "-c", wrapper, "bash", *argv]

    def exported(self, env: Dict[str, str]) -> List[str]:
        """The job's own variables of a process environment (not the launcher's inherited ones)."""
        host = os.environ
        return [k for k, v in env.items() if k not in NOT_EXPORTED and (
            k.startswith(envmod.PREFIX) or k in envmod.ROLE_VARIABLES or k in self.job_names
            or host.get(k) != v)]

    def wrap(self, task) -> None:
        """Make ``task`` run in its node's container (its env stays the runtime client's)."""
        task.argv = self.exec_argv(task.node, task.argv, self.exported(task.env), task.cwd)

    # -- end ----------------------------------------------------------------------------------------
    def remove(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        if not self.created:
            return
        runtime = Runtime(self.runtime.executable)  # never interrupted: containers must go
        code, _out, err = runtime.call(["rm", "-f", *self.created], timeout=120)
        if code == 0:
            self.log(None, f"Removed container(s) {', '.join(self.created)}")
        else:
            self.log(None, f"Removing containers {', '.join(self.created)} failed: {' '.join(err.split())}", "WARN")
        self.created = []


# --------------------------------------------------------------------------------------------------
# ssh between containers
# --------------------------------------------------------------------------------------------------
RELAY_CLIENT = r"""#!/bin/sh
# batchai_compat: ssh between the containers of a job (@MODE@). Written by the node launcher.
umask 022
r=@RELAY@
d=$(mktemp -d "$r/.new.XXXXXXXX") || exit 255
chmod 755 "$d"
echo @MODE@ > "$d/mode"
for a in "$@"; do printf '%s\0' "$a"; done > "$d/args"
env -0 > "$d/env"
mkfifo -m 666 "$d/out" "$d/err" || exit 255
id=${d##*.}
n="$r/req.$id"
mv "$d" "$n" || exit 255
cat "$n/out" & o=$!
cat "$n/err" >&2 & e=$!
wait $o
wait $e
while [ ! -f "$r/rc.$id" ]; do sleep 0.02; done
rc=$(cat "$r/rc.$id")
rm -rf "$n" "$r/rc.$id"
exit "${rc:-255}"
"""


class Relay(threading.Thread):
    """Serves the containers' ``ssh`` requests (see ``RELAY_CLIENT``) with ``<runtime> exec``."""

    def __init__(self, containers: JobContainers) -> None:
        super().__init__(name="batchai-container-relay", daemon=True)
        self.containers = containers
        self.dir = os.path.join(containers.ctx.private_dir, "relay")
        self.stopping = threading.Event()
        self.seen: Set[str] = set()
        self.procs: List[subprocess.Popen] = []
        with open(os.path.join(containers.ctx.private_dir, "ssh-context.json"), encoding="utf-8") as fh:
            self.context = json.load(fh)
        defaults = self.context.setdefault("runtime_defaults", {})
        if "OMPI_MCA_plm_rsh_agent" in defaults:
            defaults["OMPI_MCA_plm_rsh_agent"] = os.path.join(containers.shim_dir, "rsh-agent")

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                entries = os.listdir(self.dir)
            except OSError:
                return
            for entry in entries:
                if entry.startswith("req.") and entry not in self.seen:
                    self.seen.add(entry)
                    threading.Thread(target=self._serve, args=(entry,), daemon=True).start()
            self.stopping.wait(0.01)

    def stop(self) -> None:
        self.stopping.set()
        for proc in list(self.procs):
            if proc.poll() is None:
                proc.kill()

    def _serve(self, entry: str) -> None:
        request = os.path.join(self.dir, entry)
        ident = entry[len("req."):]
        code = 255
        out = err = None
        try:
            with open(os.path.join(request, "args"), "rb") as fh:
                args = [a.decode("utf-8", "surrogateescape") for a in fh.read().split(b"\0")[:-1]]
            with open(os.path.join(request, "env"), "rb") as fh:
                env = dict(item.decode("utf-8", "surrogateescape").split("=", 1)
                           for item in fh.read().split(b"\0") if b"=" in item)
            with open(os.path.join(request, "mode"), encoding="utf-8") as fh:
                agent = fh.read().strip() == "agent"
            out = _open_fifo(os.path.join(request, "out"))
            err = _open_fifo(os.path.join(request, "err"))
            if out is None or err is None:
                return
            code = self._execute(args, env, agent, out, err)
        except Exception as exc:  # the client must get an answer whatever happens
            if err is not None:
                try:
                    os.write(err, f"ssh: relay error: {exc}\n".encode())
                except OSError:
                    pass
        finally:
            for fd in (out, err):
                if fd is not None:
                    os.close(fd)
            tmp = os.path.join(self.dir, f".rc.{ident}")
            try:
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write(str(code))
                os.replace(tmp, os.path.join(self.dir, f"rc.{ident}"))
            except OSError:
                pass

    def _execute(self, args: List[str], env: Dict[str, str], agent: bool, out: int, err: int) -> int:
        host, command, quiet = sshmod.parse_ssh_args(args)
        if host is None:
            os.write(err, b"usage: ssh [options] destination [command]\n")
            return 255
        node = sshmod.resolve_host(self.context, host, env)
        index = None if node is None else self.context["nodes"].index(node)
        if node is None or index is None or index not in self.containers.names:
            os.write(err, f"ssh: Could not resolve hostname {host}: Name or service not known\r\n".encode())
            return 255
        if sshmod._first_contact(self.context["known_hosts"], host) and not (agent or quiet):
            os.write(err, (sshmod.WARNING.format(host=host) + "\r\n").encode())
        new_env = sshmod.remote_environment(self.context, node, env)
        remote = sshmod.orted_command(" ".join(command), new_env.get(sshmod.SESSION_DIR_VARIABLE))
        # The job's variables, the target node's and the MPI defaults; not the caller container's own.
        wanted = {*self.containers.job_names, *self.context.get("runtime_defaults", {}), *node["env"]}
        names = [k for k in new_env if k not in NOT_EXPORTED and (k in wanted or k.startswith(envmod.PREFIX))]
        argv = self.containers.exec_argv(index, ["/bin/bash", "-c", remote] if command else ["/bin/bash"],
                                         names, node["cwd"])
        client_env = {**os.environ, **{k: new_env[k] for k in names}}
        proc = subprocess.Popen(argv, env=client_env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                close_fds=True)
        track(proc.pid)
        self.procs.append(proc)
        try:
            return proc.wait()
        finally:
            self.procs.remove(proc)


def _open_fifo(path: str, timeout: float = 30.0) -> Optional[int]:
    """Open a FIFO for writing once its reader (the client's ``cat``) has it open."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if time.monotonic() > deadline:
                return None
            time.sleep(0.005)
            continue
        os.set_blocking(fd, True)
        return fd
