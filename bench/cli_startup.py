#!/usr/bin/env python
"""Start-up cost of the ``batchai`` command (issue #14 item 5: the measured reason for knack).

A shell loop calling ``batchai job show`` pays the interpreter, the imports and the command table on every
call, so this times whole processes: ``batchai --help``, ``batchai job show`` of a job that exists (local
backend), ``batchai job list`` and ``batchai job list -o table``, against ``python -c pass`` and
``python -c "import batchai_compat"``, and against the original ``az batchai`` (azure-cli-batchai 0.4.10 on
azure-cli-core, the oracle of tests/cli/test_parity.py, built by ``make cli-oracles``) run offline: its help,
and ``job show``, which stops at "Please run 'az login'" before any network call -- after loading and parsing
everything, i.e. the part ``batchai`` pays too. Each process runs N times after one warm-up (azure-cli-core
writes its command index on the first run); prints p50/p90 in ms.

Usage: ``python bench/cli_startup.py [--runs 20]`` (uses a throwaway home and Azure config directory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / ".tools" / "oracles" / "cli-0.4.10" / "bin" / "python"
RG, WS, EXP, JOB = "bench", "ws", "exp", "job1"

# azure-cli's own entry (azure/cli/__main__.py of the azure-cli package) is, for what matters here, this:
AZ_ENTRY = "import sys; from azure.cli.core import get_default_cli; sys.exit(get_default_cli().invoke(sys.argv[1:]))"


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100.0 * (len(ordered) - 1))))]


def batchai_command() -> List[str]:
    """The console script next to this interpreter (what users run), else ``python -m batchai_compat.cli``."""
    script = Path(sys.executable).with_name("batchai")
    return [str(script)] if script.exists() else [sys.executable, "-m", "batchai_compat.cli"]


def time_runs(argv: List[str], env: Dict[str, str], runs: int, ok_codes: Sequence[int] = (0,)) -> List[float]:
    """Wall time of ``runs`` processes (after one warm-up); a run ending with another exit code is an error."""
    samples = []
    for index in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, cwd=str(ROOT), capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok_codes:
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
        if index:
            samples.append(elapsed)
    return samples


def make_job(env: Dict[str, str]) -> None:
    """A workspace, experiment, 1-node cluster and a finished job on the local backend, as the CLI sees them."""
    code = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
import batchai_compat.models as m
from batchai_compat import BatchAIManagementClient
from batchai_compat.cli._core import DEFAULT_SUBSCRIPTION
c = BatchAIManagementClient(object(), DEFAULT_SUBSCRIPTION, backend="local")
c.workspaces.create({RG!r}, {WS!r}, "eastus").result()
c.experiments.create({RG!r}, {WS!r}, {EXP!r}).result()
cluster = c.clusters.create({RG!r}, {WS!r}, "c1", m.ClusterCreateParameters(
    vm_size="STANDARD_D1", user_account_settings=m.UserAccountSettings(admin_user_name="bench"),
    scale_settings=m.ScaleSettings(manual=m.ManualScaleSettings(target_node_count=1)))).result()
c.jobs.create({RG!r}, {WS!r}, {EXP!r}, {JOB!r}, m.JobCreateParameters(
    cluster=m.ResourceId(id=cluster.id), node_count=1, std_out_err_path_prefix="$AZ_BATCHAI_JOB_TEMP",
    custom_toolkit_settings=m.CustomToolkitSettings(command_line="true"))).result()
deadline = time.time() + 120
while c.jobs.get({RG!r}, {WS!r}, {EXP!r}, {JOB!r}).execution_state not in ("succeeded", "failed"):
    if time.time() > deadline:
        raise SystemExit("the job did not finish in 120 s")
    time.sleep(0.2)
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=str(ROOT))


def stop_jobs(env: Dict[str, str]) -> None:
    """Delete the workspace so nothing the bench started outlives it."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
            "from batchai_compat import BatchAIManagementClient\n"
            "from batchai_compat.cli._core import DEFAULT_SUBSCRIPTION\n"
            "c = BatchAIManagementClient(object(), DEFAULT_SUBSCRIPTION, backend='local')\n"
            f"c.workspaces.delete({RG!r}, {WS!r}).result()\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=False, cwd=str(ROOT))


def imports(argv: List[str], env: Dict[str, str]) -> str:
    """Which modules one ``python -m batchai_compat.cli`` process imports (``-X importtime``): how many, and
    whether the heavy ones are among them (a command should not pay for what it does not use)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "batchai_compat.cli", *argv], env=env,
                          cwd=str(ROOT), capture_output=True, text=True)
    names = [line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    names = [n for n in names if n and n != "package"]
    heavy = [top for top in ("msrest", "requests", "azure.core", "azureml", "yaml", "pygments", "jmespath")
             if any(n == top or n.startswith(top + ".") for n in names)]
    return f"{len(names)} modules; of the heavy ones: {', '.join(heavy) or 'none'}"


def row(label: str, samples: Optional[List[float]], note: str = "") -> None:
    if samples is None:
        print(f"{label:58s} {'n/a':>8s} {'':>8s}  {note}")
        return
    print(f"{label:58s} {statistics.median(samples) * 1000:8.1f} {percentile(samples, 90) * 1000:8.1f}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="processes per command (after one warm-up)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "BATCHAI_COMPAT_"))}
        env.update({"BATCHAI_COMPAT_HOME": os.path.join(tmp, "home"), "BATCHAI_COMPAT_BACKEND": "local",
                    "AZURE_CONFIG_DIR": os.path.join(tmp, "azure"), "HOME": tmp,
                    "AZURE_CORE_COLLECT_TELEMETRY": "no", "PYTHONPATH": str(ROOT)})
        os.makedirs(env["AZURE_CONFIG_DIR"])
        make_job(env)
        try:
            batchai = batchai_command()
            address = ["-g", RG, "-w", WS, "-e", EXP]
            print(f"{runs} runs each after a warm-up; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
                  f"batchai = {' '.join(batchai)}")
            print(f"{'command':58s} {'p50 ms':>8s} {'p90 ms':>8s}")
            row("python -c pass", time_runs([sys.executable, "-c", "pass"], env, runs))
            row('python -c "import batchai_compat"',
                time_runs([sys.executable, "-c", "import batchai_compat"], env, runs))
            row("batchai --help", time_runs([*batchai, "--help"], env, runs))
            row("batchai job show --help", time_runs([*batchai, "job", "show", "--help"], env, runs))
            row(f"batchai job show -n {JOB} (local backend)",
                time_runs([*batchai, "job", "show", *address, "-n", JOB], env, runs))
            row("batchai job list (local backend)", time_runs([*batchai, "job", "list", *address], env, runs))
            row("batchai job list -o table (local backend)",
                time_runs([*batchai, "job", "list", *address, "-o", "table"], env, runs))
            print("modules imported per process (python -X importtime):")
            for label, argv in (("--help", ["--help"]), ("job show", ["job", "show", *address, "-n", JOB]),
                                ("job list -o table", ["job", "list", *address, "-o", "table"])):
                print(f"  batchai {label:18s} {imports(argv, env)}")
            if ORACLE.exists():
                az = [str(ORACLE), "-c", AZ_ENTRY]
                row("az batchai --help (0.4.10, azure-cli-core 2.91)", time_runs([*az, "batchai", "--help"], env, runs))
                row("az batchai job show --help", time_runs([*az, "batchai", "job", "show", "--help"], env, runs))
                row("az batchai job show -n ... (stops at 'az login', offline)",
                    time_runs([*az, "batchai", "job", "show", *address, "-n", JOB], env, runs, ok_codes=(1,)))
            else:
                row("az batchai (original)", None, "not built: make cli-oracles")
        finally:
            stop_jobs(env)


if __name__ == "__main__":
    main()
