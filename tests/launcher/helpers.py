"""Build launch specs on a temp directory and run the real launcher as a subprocess."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from batchai_compat.launcher.spec import LaunchResult, LaunchSpec, MountSpec, NodeSpec

REPO = Path(__file__).resolve().parents[2]
SEGMENT = "00000000-0000-0000-0000-000000000000/rg/workspaces/workspace/experiments/experiment/jobs/{job}/{uid}"
# A per-process /16 of loopback addresses, so parallel test runs never share TensorFlow ports.
_NET = f"127.{random.randint(20, 250)}"
_counter = itertools.count(1)


def node_addresses(count: int) -> List[str]:
    block = next(_counter) % 250 + 1
    return [f"{_NET}.{block}.{i + 2}" for i in range(count)]


@dataclass
class Job:
    spec: LaunchSpec
    spec_path: Path
    storage: Path  # the emulated Azure File share mounted at $AZ_BATCHAI_MOUNT_ROOT/azfiles
    stdouterr: Path
    tmp: Path

    def output(self, prefix_dir: Path, suffix: str = "") -> Path:
        return prefix_dir / self.segment / "outputs" / suffix if suffix else prefix_dir / self.segment / "outputs"

    @property
    def segment(self) -> str:
        return self.spec.job["properties"]["jobOutputDirectoryPathSegment"]


def make_job(tmp: Path, node_count: int = 1, job_mounts: Optional[Dict[str, Path]] = None,
             name: str = "job", **properties) -> Job:
    uid = f"{next(_counter):08d}-1111-2222-3333-444444444444"
    storage = tmp / "storage" / "share"
    storage.mkdir(parents=True, exist_ok=True)
    segment = SEGMENT.format(job=name, uid=uid)
    props = {
        "nodeCount": node_count,
        "stdOutErrPathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles",
        "jobOutputDirectoryPathSegment": segment,
        **properties,
    }
    addresses = node_addresses(node_count)
    nodes = [
        NodeSpec(id=f"tvm-1234567890_{i + 1}-20260101t000000z", address=addresses[i], root=str(tmp / f"node{i}"))
        for i in range(node_count)
    ]
    spec = LaunchSpec(
        job={"id": f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                   f"Microsoft.BatchAI/workspaces/workspace/experiments/experiment/jobs/{name}",
             "name": name, "properties": props},
        nodes=nodes,
        shared_job_temp=str(tmp / "shared" / uid),
        job_uid=uid,
        cluster_mounts=[MountSpec("azfiles", str(storage), "azure_file_share")],
        job_mounts=[MountSpec(rel, str(src), "azure_file_share") for rel, src in (job_mounts or {}).items()],
        result_path=str(tmp / f"result-{uid}.json"),
        python=sys.executable,
    )
    spec_path = spec.write(tmp / f"spec-{uid}.json")
    return Job(spec, spec_path, storage, storage / segment / "stdouterr", tmp)


def start(job: Job, *extra_args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "batchai_compat.launcher", "--spec", str(job.spec_path), *extra_args],
        env=env, cwd=str(job.tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


@dataclass
class Outcome:
    returncode: int
    result: LaunchResult
    files: Dict[str, str]  # stdouterr: name -> content (execution logs included)
    stderr: str

    def without_logs(self) -> Dict[str, str]:
        return {k: v for k, v in self.files.items() if not (k.startswith("execution") and k.endswith(".log"))}

    def logs(self) -> Dict[str, str]:
        return {k: v for k, v in self.files.items() if k.startswith("execution") and k.endswith(".log")}


def finish(job: Job, proc: subprocess.Popen, timeout: float = 30) -> Outcome:
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        tree = subprocess.run(["ps", "-s", str(proc.pid), "-o", "pid,ppid,stat,args"], capture_output=True,
                              text=True).stdout
        os.killpg(proc.pid, signal.SIGKILL)
        _out, err = proc.communicate()
        raise AssertionError(f"launcher did not finish in {timeout}s; processes:\n{tree}\n"
                             f"stderr:\n{err.decode()}\nfiles: {_stdouterr(job)}") from None
    result = LaunchResult.from_json(Path(job.spec.result_path).read_text())
    return Outcome(proc.returncode, result, _stdouterr(job), err.decode())


def _stdouterr(job: Job) -> Dict[str, str]:
    files = {}
    if job.stdouterr.is_dir():
        for p in sorted(job.stdouterr.iterdir()):
            files[p.name] = p.read_text() if p.is_file() else "<dir>"
    return files


def run(job: Job, timeout: float = 30) -> Outcome:
    return finish(job, start(job), timeout)


def processes_mentioning(text: str) -> List[int]:
    """Living processes whose command line or environment contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            blob = b""
            for part in ("cmdline", "environ"):
                with open(f"/proc/{entry}/{part}", "rb") as fh:
                    blob += fh.read()
        except OSError:
            continue
        if text.encode() in blob:
            found.append(int(entry))
    return found


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def dump(obj) -> str:
    return json.dumps(obj, indent=1)
