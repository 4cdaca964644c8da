"""The long versions of the adversarial suites (``tests/reliability/``), with their figures.

1. concurrency: ``--threads`` threads (default 30) submit ``--jobs`` jobs (default 300) to one 2-node
   cluster through ``--clients`` clients in this one process (default 6; threads share them
   round-robin); every job appends its name to one file. Counts jobs lost (created but missing or
   never run), run more than once, exceptions by type, and processes left after the workspace is
   deleted.
2. fuzz: ``tests/reliability/test_fuzz.py`` with ``BATCHAI_COMPAT_LONG=1`` (its long example count),
   through pytest, when that suite exists.
3. faults: ``--rounds`` kill -9 rounds (default 100) of ``tests/reliability/test_faults.py``.

Usage: ``python bench/reliability.py [--threads 30] [--jobs 300] [--clients 6] [--rounds 100]
[--seed N] [--skip-fuzz]``. Uses throwaway homes; exits non-zero when anything was lost, duplicated
or leaked. Takes several minutes.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import batchai_compat.models as models  # noqa: E402
from batchai_compat import BatchAIManagementClient  # noqa: E402
from batchai_compat.backends.local import LocalBackend  # noqa: E402
from tests.reliability.test_faults import leftovers, run_fault_rounds  # noqa: E402

SUB = "00000000-0000-0000-0000-000000000000"
RG, WS, EXP = "bench", "ws", "exp"


def concurrency(threads: int, jobs: int, clients: int) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bai-rel-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir(mode=0o700)
        os.environ["BATCHAI_COMPAT_HOME"] = str(home)  # children carry it: the leak scan finds them
        ran = Path(tmp) / "ran.txt"
        pool = [BatchAIManagementClient(object(), SUB, backend=LocalBackend(home=home, leave_seconds=0.1))
                for _ in range(clients)]
        pool[0].workspaces.create(RG, WS, "eastus").result()
        pool[0].experiments.create(RG, WS, EXP).result()
        cluster = pool[0].clusters.create(RG, WS, "cluster", models.ClusterCreateParameters(
            vm_size="STANDARD_D1", user_account_settings=models.UserAccountSettings(admin_user_name="bench"),
            scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=2)))).result()
        names = [f"t{t:02d}_{i:04d}" for t in range(threads) for i in range(jobs // threads)]
        created: List[str] = []
        errors: collections.Counter = collections.Counter()
        lock = threading.Lock()

        def submit(thread: int) -> None:
            client = pool[thread % clients]
            for name in names[thread::threads]:
                params = models.JobCreateParameters(
                    cluster=models.ResourceId(id=cluster.id), node_count=1, std_out_err_path_prefix=tmp,
                    custom_toolkit_settings=models.CustomToolkitSettings(command_line=f"echo {name} >> {ran}"))
                try:
                    client.jobs.create(RG, WS, EXP, name, params).result()
                except Exception as exc:  # noqa: BLE001 - counted by type
                    with lock:
                        errors[type(exc).__name__] += 1
                    continue
                with lock:
                    created.append(name)

        started = time.monotonic()
        workers = [threading.Thread(target=submit, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        submitted = time.monotonic() - started
        deadline = time.monotonic() + 600
        while True:
            listed = {j.name: j.execution_state for j in pool[1 % clients].jobs.list_by_experiment(RG, WS, EXP)}
            if all(s in ("succeeded", "failed") for s in listed.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        finished = time.monotonic() - started
        lines = ran.read_text().split() if ran.exists() else []
        counts = collections.Counter(lines)
        lost = [n for n in created if n not in listed or listed[n] != "succeeded" or counts[n] == 0]
        duplicated = [n for n, c in counts.items() if c > 1]
        pool[0].workspaces.delete(RG, WS).result()
        for client in pool:
            client.close()
        leaked = leftovers(str(home), 15.0)
    return {"jobs": len(names), "created": len(created), "lost": len(lost), "duplicated": len(duplicated),
            "exceptions": dict(errors), "leaked": len(leaked), "submit_s": round(submitted, 1),
            "total_s": round(finished, 1)}


def fuzz() -> Dict[str, Any]:
    suite = ROOT / "tests" / "reliability" / "test_fuzz.py"
    if not suite.exists():
        return {"skipped": "tests/reliability/test_fuzz.py does not exist"}
    env = dict(os.environ, BATCHAI_COMPAT_LONG="1")
    env.pop("BATCHAI_COMPAT_HOME", None)
    started = time.monotonic()
    try:
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(suite)],
                             cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        return {"exit": -1, "summary": "timed out after 3600 s", "counts": [],
                "total_s": round(time.monotonic() - started, 1)}
    tail = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-300:]
    counts = [line for line in out.stdout.splitlines() if re.match(r"^\s*\[?fuzz\b", line)]
    return {"exit": out.returncode, "summary": tail, "counts": counts, "total_s": round(time.monotonic() - started, 1)}


def faults(rounds: int, seed: int) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bai-faults-") as tmp:
        os.environ["BATCHAI_COMPAT_HOME"] = str(Path(tmp) / "home")
        result = run_fault_rounds(Path(tmp), rounds, seed)
    return {"rounds": result["rounds"], "kills": result["kills"], "jobs": result["jobs"], "lost": len(result["lost"]),
            "run_twice": len(result["twice"]), "wrong_state": len(result["wrong"]) + len(result["never_ended"]),
            "leaked": len(result["leaked"]) + len(result["setup_leaks"]), "seed": seed, "total_s": result["seconds"],
            "details": {k: result[k] for k in ("lost", "twice", "wrong", "never_ended", "leaked", "setup_leaks")
                        if result[k]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--skip-fuzz", action="store_true")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    started = time.monotonic()
    bad = 0

    result = concurrency(args.threads, args.jobs, args.clients)
    print(f"[reliability] concurrency: {result['jobs']} jobs from {args.threads} threads through {args.clients} "
          f"clients in one process: {result['created']} created, {result['lost']} lost, {result['duplicated']} "
          f"run twice, exceptions {result['exceptions'] or 'none'}, {result['leaked']} processes leaked; "
          f"submitted in {result['submit_s']} s, all done in {result['total_s']} s", flush=True)
    bad += result["lost"] + result["duplicated"] + result["leaked"] + sum(result["exceptions"].values())

    if not args.skip_fuzz:
        result = fuzz()
        if "skipped" in result:
            print(f"[reliability] fuzz: skipped ({result['skipped']})", flush=True)
        else:
            print(f"[reliability] fuzz (BATCHAI_COMPAT_LONG=1): {result['summary']} in {result['total_s']} s; "
                  f"exit {result['exit']}", flush=True)
            for line in result["counts"]:
                print(f"[reliability]   {line.strip()}")
            bad += int(result["exit"] != 0)

    result = faults(args.rounds, seed)
    print(f"[reliability] faults: {result['rounds']} kill -9 rounds {result['kills']} (seed {seed}), "
          f"{result['jobs']} jobs: {result['lost']} lost, {result['run_twice']} run twice, {result['wrong_state']} "
          f"in a wrong state, {result['leaked']} processes leaked; {result['total_s']} s", flush=True)
    if result["details"]:
        print(f"[reliability]   {result['details']}")
    bad += result["lost"] + result["run_twice"] + result["wrong_state"] + result["leaked"]

    print(f"[reliability] total {time.monotonic() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
