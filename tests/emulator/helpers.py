"""Helpers for the emulator tests: a small source tree (with a gate file) and polling.

A gate file (``GATE_FILE``) must lie where the run's processes see it: under the emulator's root
(:func:`gate_path`), which image environments bind into every run; a path under ``tmp_path`` is outside the
job's image, so the run fails instead of silently waiting 30 s."""

from __future__ import annotations

import os
import textwrap
import time
from typing import Callable


def gate_path(emu, name: str = "gate") -> str:
    """A gate file path the test creates and the run's processes see (the emulator's root is bound into every
    image environment, like a share both sides mount)."""
    os.makedirs(os.path.join(emu.root, "gates"), exist_ok=True)
    return os.path.join(emu.root, "gates", name)


TRAIN_PY = textwrap.dedent('''
    import json, os, sys, time
    gate = os.environ.get("GATE_FILE")
    deadline = time.time() + 30
    while gate and not os.path.exists(gate) and time.time() < deadline:
        time.sleep(0.02)
    if gate and not os.path.exists(gate):
        sys.exit("the gate file %s never appeared (is it where the run's processes can see it?)" % gate)
    rank = os.environ.get("OMPI_COMM_WORLD_RANK", "0")
    size = os.environ.get("OMPI_COMM_WORLD_SIZE", "1")
    os.makedirs("outputs", exist_ok=True)
    os.makedirs("logs", exist_ok=True)
    with open(os.path.join("outputs", "result_%s.txt" % rank), "w") as fh:
        fh.write("rank %s of %s MY_VAR=%s args=%s\\n" % (rank, size, os.environ.get("MY_VAR"), sys.argv[1:]))
    with open(os.path.join("logs", "train_%s.log" % rank), "w") as fh:
        prefixes = ("AZUREML_", "OMPI_", "TF_", "RANK", "WORLD", "AZ_BATCH", "TMPDIR", "MY_VAR")
        fh.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith(prefixes)}))
    print("training rank", rank, "done")
''')

WORKER_PY = textwrap.dedent('''
    import json, os, sys, time
    os.makedirs("outputs", exist_ok=True)
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "sleep":
        with open(os.path.join("outputs", "pid"), "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(120)
    if mode == "fail":
        print("about to fail", file=sys.stderr)
        sys.exit(3)
    tf = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = tf.get("task") or {}
    ps_hosts = tf.get("cluster", {}).get("ps") or []
    me = tf["cluster"][task["type"]][task["index"]] if task else ""
    if task.get("type") in ("chief", "worker") and ps_hosts and ps_hosts[0].split(":")[0] == me.split(":")[0]:
        # Let the parameter server on this node start before the workers end (nodes have their own
        # directories: only a worker on ps 0's node sees its file).
        deadline = time.time() + 20
        while not os.path.exists(os.path.join("outputs", "ps_0.json")) and time.time() < deadline:
            time.sleep(0.02)
    name = "%s_%s" % (task["type"], task["index"]) if task else "rank_%s" % os.environ.get("RANK", "x")
    with open(os.path.join("outputs", name + ".json"), "w") as fh:
        json.dump({"TF_CONFIG": tf, "RANK": os.environ.get("RANK"), "WORLD_SIZE": os.environ.get("WORLD_SIZE"),
                   "LOCAL_RANK": os.environ.get("LOCAL_RANK"), "MASTER_ADDR": os.environ.get("MASTER_ADDR"),
                   "MASTER_PORT": os.environ.get("MASTER_PORT")}, fh)
    if task.get("type") == "ps":
        time.sleep(120)          # parameter servers never exit on their own
''')


def make_source(directory: str) -> str:
    os.makedirs(directory, exist_ok=True)
    for name, text in (("train.py", TRAIN_PY), ("worker.py", WORKER_PY)):
        with open(os.path.join(directory, name), "w") as fh:
            fh.write(text)
    return directory


def read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def wait_until(predicate: Callable[[], object], timeout: float = 60.0, interval: float = 0.02) -> object:
    """Poll ``predicate`` until it is truthy. The timeout is generous: CI machines are small and loaded, and
    a condition that holds returns at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie waiting for its reaper)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
        return stat[stat.rfind(")") + 2:].split()[0] in ("Z", "X")
    except OSError:
        return True
