"""The node setup task runner: one detached process per joining node with a ``setupTask``.

``python -m batchai_compat.backends.local.nodeprep --home H --node ID``. The node is ``preparing``
(and its cluster ``resizing``) while this runs. It links the cluster-level mounts into
``<node>/mounts`` (``$AZ_BATCHAI_MOUNT_ROOT``, the layout the launcher uses), runs
``setupTask.commandLine`` under ``bash -c`` with the task's environment variables and secrets, and
writes ``<prefix>/<stdOutErrPathSuffix>/stdout-<nodeId>.txt`` / ``stderr-<nodeId>.txt``. Exit 0 makes
the node ``idle``; anything else makes it ``unusable`` and adds a cluster error.

Deviations: the task runs as the current user, not root; besides the task's own variables it sees
``AZ_BATCHAI_MOUNT_ROOT``, ``AZ_BATCHAI_JOB_TEMP_DIR`` and ``AZ_BATCHAI_STDOUTERR_DIR``; no
execution log is written next to the output files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from batchai_compat.backends.errors import BackendError
from batchai_compat.launcher.env import map_service_mount_root

from . import mounts, nodes
from .scheduler import Kill, Options, Scheduler, add_cluster_error
from .store import Store, loads

SETUP_FAILED = ("SetupTaskFailed", "The setup task failed on node {node} with exit code {code}; see {path}")


def _link(link: Path, target: str) -> None:
    Path(target).mkdir(parents=True, exist_ok=True)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        if os.readlink(link) == target:
            return
        link.unlink()
    elif link.exists():
        return
    os.symlink(target, link)


def _environment(root: Path, task: Dict[str, Any], out_dir: Optional[Path]) -> Dict[str, str]:
    env = dict(os.environ)
    env["AZ_BATCHAI_MOUNT_ROOT"] = str(root / "mounts")
    env["AZ_BATCHAI_JOB_TEMP_DIR"] = str(root / "jobs")
    for item in (task.get("environmentVariables") or []) + (task.get("secrets") or []):
        if item.get("value") is not None:
            env[item["name"]] = str(item["value"])
    if out_dir is not None:
        env["AZ_BATCHAI_STDOUTERR_DIR"] = str(out_dir)
    return env


def _expand(text: str, env: Dict[str, str]) -> str:
    """``$VAR`` / ``${VAR}`` expansion against ``env`` (not this process's environment)."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m.group(1) or m.group(2), m.group(0)), text)


class NodePreparer:
    def __init__(self, home: Path, node_id: str, options: Options) -> None:
        self.home = home
        self.node_id = node_id
        self.store = Store.shared(home / "state.db")
        self.scheduler = Scheduler(self.store, home, options)

    def run(self) -> int:
        with self.store.write() as conn:  # waits for the spawning transaction to commit
            node = conn.execute("SELECT * FROM nodes WHERE node_id=?", (self.node_id,)).fetchone()
            if node is None or node["state"] != "preparing":
                return 0
            cluster = conn.execute("SELECT * FROM clusters WHERE key=?", (node["cluster_key"],)).fetchone()
            node_setup = loads(cluster["body"])["properties"].get("nodeSetup") or {}
            try:
                resolved = mounts.resolve(conn, self.home, node_setup.get("mountVolumes"), mount=True)
            except BackendError as exc:
                resolved, failure = None, f"Node {self.node_id}: cannot mount the cluster volumes: {exc.message}"
        if resolved is None:
            return self._report(1, failure)
        root = Path(node["root"])
        for mount in resolved:
            _link(root / "mounts" / mount["relative_mount_path"], mount["source"])
        (root / "jobs").mkdir(parents=True, exist_ok=True)
        return self._run_task(root, node_setup["setupTask"])

    def _run_task(self, root: Path, task: Dict[str, Any]) -> int:
        env = _environment(root, task, None)
        # The service's literal mount root (docs/service-behaviour.md §d.1) means this node's.
        task = {**task, "commandLine": map_service_mount_root(task["commandLine"], env["AZ_BATCHAI_MOUNT_ROOT"]),
                "stdOutErrPathPrefix": map_service_mount_root(task.get("stdOutErrPathPrefix") or "",
                                                              env["AZ_BATCHAI_MOUNT_ROOT"])}
        prefix = _expand(task.get("stdOutErrPathPrefix") or str(root), env)
        if not os.path.isabs(prefix):
            prefix = str(root / prefix)
        out_dir = Path(prefix.rstrip("/") or "/") / task.get("stdOutErrPathSuffix", "")
        out_dir.mkdir(parents=True, exist_ok=True)
        env["AZ_BATCHAI_STDOUTERR_DIR"] = str(out_dir)
        stdout, stderr = out_dir / f"stdout-{self.node_id}.txt", out_dir / f"stderr-{self.node_id}.txt"
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            code = subprocess.call(["/bin/bash", "-c", task["commandLine"]], stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, env=env, cwd=str(root))
        message = SETUP_FAILED[1].format(node=self.node_id, code=code, path=stderr) if code else ""
        return self._report(code, message)

    def _report(self, code: int, message: str) -> int:
        kills: List[Kill] = []
        with self.store.write() as conn:
            node = conn.execute("SELECT * FROM nodes WHERE node_id=?", (self.node_id,)).fetchone()
            if node is not None and node["state"] == "preparing":
                nodes.set_state(conn, [self.node_id], "unusable" if code else "idle")
                if code:
                    add_cluster_error(conn, node["cluster_key"], SETUP_FAILED[0], message)
            self.scheduler.run_pass(conn, kills)
        self.scheduler.deliver(kills)
        return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batchai_compat.backends.local.nodeprep")
    parser.add_argument("--home", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--options", default="{}")
    parser.add_argument("--log", default=None)
    args = parser.parse_args(argv)
    status = NodePreparer(Path(args.home), args.node, Options(**json.loads(args.options))).run()
    if args.log:
        try:
            if os.path.getsize(args.log) == 0:
                os.unlink(args.log)
        except OSError:
            pass
    return status


if __name__ == "__main__":
    sys.exit(main())
