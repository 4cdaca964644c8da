"""A docker-CLI-compatible fake container runtime for tests.

There is no container engine on the machines that run these tests (no Docker daemon, none can
be installed), so the boundary between the launcher and the engine is faked here and only here:
``install(directory)`` writes an executable script that answers ``info``, ``image inspect``,
``pull``, ``login``, ``run -d``, ``exec`` and ``rm -f`` like the docker CLI does, records every
invocation (argv only) in ``invocations.jsonl`` and keeps per-container state in files. ``exec``
really runs the command, locally, with only the variables named by ``-e NAME`` (values taken
from its own environment, as docker does) plus a container-like base environment
(``FAKE_CONTAINER`` names the container), in the ``-w`` directory. It refuses a working
directory or an ``AZ_BATCHAI_*`` path that is not bind-mounted at the same path, an image that
was neither present nor pulled, and an exec into a container that does not exist (any more).

``configure(runtime, ...)``: images already present, images whose pull fails (or takes long),
``info`` or ``run`` failing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional

SCRIPT = r'''
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
STATE = os.path.join(HERE, "state")
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def log(entry):
    fd = os.open(os.path.join(HERE, "invocations.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, (json.dumps(entry) + "\n").encode())
    os.close(fd)


def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def config():
    try:
        with open(os.path.join(HERE, "config.json")) as fh:
            return json.load(fh)
    except OSError:
        return {}


def image_file(image):
    return os.path.join(STATE, "images", image.replace("/", "_").replace(":", "_"))


def container_file(name):
    return os.path.join(STATE, "containers", name + ".json")


def under(path, mounts):
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)


def parse(args, with_value, flags):
    options, i = [], 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in with_value:
            options.append((args[i], args[i + 1]))
            i += 2
        elif args[i] in flags:
            options.append((args[i], None))
            i += 1
        else:
            fail("unknown flag: " + args[i], 125)
    return options, args[i:]


def main():
    argv = sys.argv[1:]
    log({"argv": argv, "pid": os.getpid()})
    for d in ("images", "containers"):
        os.makedirs(os.path.join(STATE, d), exist_ok=True)
    cfg = config()
    for image in cfg.get("images", []):
        open(image_file(image), "a").close()
    cmd, args = argv[0], argv[1:]
    if cmd == "info":
        if cfg.get("fail_info"):
            fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
        print("Server Version: fake")
    elif cmd == "image" and args[:1] == ["inspect"]:
        if not os.path.exists(image_file(args[1])):
            fail("Error: No such image: " + args[1])
        print("[{}]")
    elif cmd == "pull":
        image = args[-1]
        import time
        time.sleep(cfg.get("pull_seconds", 0))
        if image in cfg.get("fail_pull", []):
            fail("Error response from daemon: pull access denied for " + image
                 + ", repository does not exist or may require 'docker login'")
        open(image_file(image), "a").close()
        print("Status: Downloaded newer image for " + image)
    elif cmd == "login":
        options, rest = parse(args, {"--username", "-u", "--password", "-p"}, {"--password-stdin"})
        if ("--password-stdin", None) not in options:
            fail("the fake runtime only accepts --password-stdin")
        with open(os.path.join(HERE, "login-stdin"), "a") as fh:
            fh.write(sys.stdin.read() + "\n")
        print("Login Succeeded")
    elif cmd == "run":
        options, rest = parse(args, {"--name", "-v", "-w", "--network", "--shm-size", "-e"}, {"-d", "--init"})
        name = dict(options)["--name"]
        if not os.path.exists(image_file(rest[0])):
            fail("Unable to find image '" + rest[0] + "' locally", 125)
        if os.path.exists(container_file(name)):
            fail('Conflict. The container name "/' + name + '" is already in use', 125)
        if cfg.get("fail_run"):
            fail("Error response from daemon: failed to create task for container", 125)
        mounts = [v.split(":")[1] for k, v in options if k == "-v"]
        with open(container_file(name), "w") as fh:
            json.dump({"image": rest[0], "mounts": mounts, "command": rest[1:]}, fh)
        print("f" * 64)
    elif cmd == "exec":
        options, rest = parse(args, {"-e", "-w"}, {"-i", "-t"})
        name, command = rest[0], rest[1:]
        try:
            with open(container_file(name)) as fh:
                state = json.load(fh)
        except OSError:
            fail("Error: No such container: " + name)
        env = {"PATH": CONTAINER_PATH, "HOME": "/root", "HOSTNAME": name[:12], "FAKE_CONTAINER": name}
        for key, value in options:
            if key == "-e":
                if "=" in value:
                    fail("the fake runtime refuses values on the command line: " + value.split("=")[0])
                if value in os.environ:
                    env[value] = os.environ[value]
        cwd = dict(options).get("-w", "/")
        paths = [cwd] + [v for k, v in env.items() if k.startswith("AZ_BATCHAI_") and v.startswith("/")]
        for path in paths:
            if not under(path, state["mounts"]):
                fail("OCI runtime exec failed: " + path + " is not mounted in " + name, 126)
        os.chdir(cwd)
        os.execve(command[0], command, env)
    elif cmd == "rm":
        names = [a for a in args if not a.startswith("-")]
        status = 0
        for name in names:
            try:
                os.unlink(container_file(name))
            except OSError:
                sys.stderr.write("Error: No such container: " + name + "\n")
                status = 1
        sys.exit(status)
    else:
        fail("fake runtime: unsupported command " + cmd)


main()
'''


def install(directory: Path, name: str = "fakedocker") -> Path:
    """Write the fake runtime into ``directory``; returns the executable's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!{sys.executable} -I\n" + SCRIPT)
    path.chmod(0o755)
    return path


def configure(runtime: Path, images: Iterable[str] = (), fail_pull: Iterable[str] = (),
              fail_info: bool = False, fail_run: bool = False, pull_seconds: float = 0) -> None:
    (Path(runtime).parent / "config.json").write_text(json.dumps(
        {"images": list(images), "fail_pull": list(fail_pull), "fail_info": fail_info, "fail_run": fail_run,
         "pull_seconds": pull_seconds}))


def invocations(runtime: Path) -> List[List[str]]:
    path = Path(runtime).parent / "invocations.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["argv"] for line in path.read_text().splitlines()]


def commands(runtime: Path) -> List[str]:
    """The subcommand of every invocation, in order (``image inspect`` as one)."""
    return [" ".join(a[:2]) if a[0] == "image" else a[0] for a in invocations(runtime)]


def containers(runtime: Path) -> List[str]:
    """Containers that exist now."""
    d = Path(runtime).parent / "state" / "containers"
    return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []


def login_stdin(runtime: Path) -> Optional[str]:
    path = Path(runtime).parent / "login-stdin"
    return path.read_text() if path.exists() else None


def exec_env_names(argv: List[str]) -> Dict[str, None]:
    names: Dict[str, None] = {}
    for i, arg in enumerate(argv):
        if arg == "-e":
            names[argv[i + 1]] = None
    return names


def raw_log(runtime: Path) -> str:
    path = Path(runtime).parent / "invocations.jsonl"
    return path.read_text() if path.exists() else ""


__all__ = ["install", "configure", "invocations", "commands", "containers", "login_stdin", "exec_env_names",
           "raw_log"]
