"""kill -9 at random moments: nothing lost, nothing run twice, no process left behind.

Victims: the client process (while it creates jobs), a job's supervisor, its node launcher, the job's
own process, and a node's setup-task runner. Moments and victims come from a seeded RNG (the seed is
printed; ``BATCHAI_COMPAT_FAULT_SEED`` replays one). Afterwards a fresh process checks that every
job is in a terminal state the ``docs/service-behaviour.md`` §f.1 state machine allows for what was
killed (``JobSupervisorDied``, ``LauncherFailed``, ``JobFailed``...), every job a client saw created
exists, no job ran twice (each run appends a line to its own marker file), and no process carrying
the test's home in its command line or environment is left once everything is deleted.

Bounded in ``make test`` (``scale(short, long)``); ``BATCHAI_COMPAT_LONG=1`` runs the long variant,
``bench/reliability.py`` the 100-round one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import batchai_compat.models as models
from batchai_compat import BatchAIManagementClient
from batchai_compat.backends.local import LocalBackend
from tests.contract.helpers import wait_for

from .conftest import scale

SUB = "00000000-0000-0000-0000-000000000000"
RG, WS, EXP, LOCATION = "rg", "ws", "exp", "eastus"
REPO = Path(__file__).resolve().parents[2]
FINAL = ("succeeded", "failed")
OPTIONS = {"leave_seconds": 0.1, "linger_seconds": 0.5, "kill_grace_seconds": 2.0}


# -- processes -------------------------------------------------------------------------------------
def _proc_read(pid: int, name: str) -> bytes:
    with open(f"/proc/{pid}/{name}", "rb") as fh:
        return fh.read()


def processes_with(token: str) -> Iterator[Tuple[int, str]]:
    """Live processes (never this one, never zombies) with ``token`` in their command line or environment."""
    needle = token.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            stat = _proc_read(pid, "stat")
            if stat[stat.rindex(b")") + 2:].split()[0] in (b"Z", b"X"):
                continue
            cmdline = _proc_read(pid, "cmdline")
            environ = _proc_read(pid, "environ")
        except (OSError, ValueError):
            continue
        if needle in cmdline or needle in environ:
            yield pid, cmdline.replace(b"\0", b" ").decode("utf-8", "replace")[:160]


def wait_until(predicate: Callable[[], Any], timeout: float, message: str) -> Any:
    return wait_for(predicate, timeout=timeout, interval=0.02, message=message)


def kill9(pid: Optional[int]) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def leftovers(token: str, timeout: float) -> List[Tuple[int, str]]:
    """Processes carrying ``token`` still alive after ``timeout`` seconds (standbys linger briefly)."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(processes_with(token))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


# -- models ----------------------------------------------------------------------------------------
def cluster_params(target: int, setup: Optional[str] = None, mark: str = "") -> models.ClusterCreateParameters:
    task = None
    if setup is not None:
        task = models.SetupTask(command_line=setup, std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT",
                                environment_variables=[models.EnvironmentVariable(name="FAULT_MARK", value=mark)])
    return models.ClusterCreateParameters(
        vm_size="STANDARD_D1", vm_priority="lowpriority",
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=target)),
        user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="p"),
        node_setup=models.NodeSetup(setup_task=task) if task else None)


def job_params(cluster_id: str, markers: Path, name: str, seconds: float) -> models.JobCreateParameters:
    """A job that appends one line to its marker file per run, then sleeps."""
    return models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster_id), node_count=1, std_out_err_path_prefix=str(markers.parent / "out"),
        environment_variables=[models.EnvironmentVariable(name="FAULT_MARK", value=f"job-{name}")],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line=f"echo run >> {markers / name}; sleep {seconds}"))


def runs(markers: Path, name: str) -> int:
    try:
        return len((markers / name).read_text().split())
    except FileNotFoundError:
        return 0


# -- the fresh process -----------------------------------------------------------------------------
CHECKER = """
import json, sys, time
import batchai_compat
client = batchai_compat.BatchAIManagementClient(object(), {sub!r})
deadline = time.monotonic() + {timeout}
while True:
    jobs = list(client.jobs.list_by_experiment({rg!r}, {ws!r}, {exp!r}))
    if all(j.execution_state in ("succeeded", "failed") for j in jobs) or time.monotonic() > deadline:
        break
    time.sleep(0.1)
report = {{"jobs": {{j.name: [j.execution_state, [e.code for e in (j.execution_info.errors or [])]
                              if j.execution_info else [], j.execution_info.exit_code if j.execution_info else None]
                    for j in jobs}},
          "clusters": {{c.name: [c.allocation_state, c.current_node_count, c.node_state_counts.idle_node_count,
                                c.node_state_counts.running_node_count]
                        for c in client.clusters.list_by_workspace({rg!r}, {ws!r})}}}}
if {delete}:
    client.workspaces.delete({rg!r}, {ws!r}).result()
print(json.dumps(report))
"""


def fresh_process_report(home: Path, delete: bool, timeout: float = 90.0) -> Dict[str, Any]:
    code = CHECKER.format(sub=SUB, rg=RG, ws=WS, exp=EXP, timeout=timeout, delete=delete)
    env = dict(os.environ, BATCHAI_COMPAT_HOME=str(home),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout + 60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


CLIENT = """
import sys, batchai_compat, batchai_compat.models as models
client = batchai_compat.BatchAIManagementClient(object(), {sub!r})
for name in sys.argv[1:]:
    params = models.JobCreateParameters(cluster=models.ResourceId(id={cluster!r}), node_count=1,
        std_out_err_path_prefix={out!r},
        environment_variables=[models.EnvironmentVariable(name="FAULT_MARK", value="job-" + name)],
        custom_toolkit_settings=models.CustomToolkitSettings(
            command_line="echo run >> {markers}/" + name + "; sleep 0.2"))
    client.jobs.create({rg!r}, {ws!r}, {exp!r}, name, params).result()
    print("created", name, flush=True)
"""


# -- the fault rounds ------------------------------------------------------------------------------
class Faults:
    """One home, a 3-node pool and a bystander stream; each round kills one victim at a random moment."""

    def __init__(self, home: Path, rng: random.Random) -> None:
        self.home = home
        self.rng = rng
        self.markers = home.parent / "markers"
        self.markers.mkdir()
        (home.parent / "out").mkdir()
        self.backend = LocalBackend(home=home, **OPTIONS)
        self.client = BatchAIManagementClient(object(), SUB, backend=self.backend)
        self.client.workspaces.create(RG, WS, LOCATION).result()
        self.client.experiments.create(RG, WS, EXP).result()
        self.pool = self.client.clusters.create(RG, WS, "pool", cluster_params(3)).result()
        self.expected: Dict[str, Tuple[str, ...]] = {}  # job -> allowed "state/code" outcomes
        self.must_exist: List[str] = []  # jobs a client saw created
        self.may_exist: List[str] = []  # jobs whose create a kill interrupted
        self.kills: Dict[str, int] = {}
        self.setup_leaks: List[str] = []
        self.seq = 0

    def name(self, kind: str) -> str:
        self.seq += 1
        return f"{kind}{self.seq:03d}"

    def row(self, job: str) -> Any:
        with self.backend.store.read() as conn:
            return conn.execute("SELECT * FROM jobs WHERE key LIKE ?", (f"%/jobs/{job}",)).fetchone()

    def submit(self, kind: str, seconds: float, allowed: Tuple[str, ...]) -> str:
        name = self.name(kind)
        self.client.jobs.create(RG, WS, EXP, name, job_params(self.pool.id, self.markers, name, seconds)).result()
        self.must_exist.append(name)
        self.expected[name] = allowed
        return name

    def bystanders(self) -> None:
        for _ in range(2):
            self.submit("by", self.rng.uniform(0.0, 0.3), ("succeeded/",))

    def round(self, victim: str) -> None:
        self.bystanders()
        getattr(self, f"kill_{victim}")()
        self.kills[victim] = self.kills.get(victim, 0) + 1

    # each victim -----------------------------------------------------------------------------------
    def kill_supervisor(self) -> None:
        job = self.submit("sup", 5, ("failed/JobSupervisorDied",))
        row = wait_until(lambda: (lambda r: r if r is not None and r["sup_pid"] else None)(self.row(job)), 20,
                         f"{job}'s supervisor")
        time.sleep(self.rng.uniform(0.0, 0.6))  # before, during or after the launcher starts
        assert kill9(row["sup_pid"])

    def kill_launcher(self) -> None:
        job = self.submit("lau", 5, ("failed/LauncherFailed", "failed/JobFailed"))
        row = wait_until(lambda: (lambda r: r if r is not None and r["run_pid"] else None)(self.row(job)), 20,
                         f"{job}'s launcher")
        time.sleep(self.rng.uniform(0.0, 0.4))
        assert kill9(row["run_pid"])

    def kill_job(self) -> None:
        job = self.submit("job", 5, ("failed/JobFailed",))
        pids = wait_until(lambda: [pid for pid, _ in processes_with(f"FAULT_MARK=job-{job}\0")], 20,
                          f"{job}'s processes")
        time.sleep(self.rng.uniform(0.0, 0.3))
        assert kill9(self.rng.choice(sorted(pids)))

    def kill_client(self) -> None:
        names = [self.name("cli") for _ in range(3)]
        code = CLIENT.format(sub=SUB, rg=RG, ws=WS, exp=EXP, cluster=self.pool.id, markers=self.markers,
                             out=str(self.home.parent / "out"))
        env = dict(os.environ, BATCHAI_COMPAT_HOME=str(self.home),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        proc = subprocess.Popen([sys.executable, "-c", code, *names], env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(self.rng.uniform(0.2, 1.5))  # interpreter start, imports, the creates themselves
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        created = [line.split()[1] for line in out.splitlines() if line.startswith("created ")]
        self.must_exist.extend(created)
        self.may_exist.extend(n for n in names if n not in created)
        for name in names:
            self.expected[name] = ("succeeded/",)

    def kill_setup(self) -> None:
        """kill -9 of the setup-task runner: the node turns unusable and its setup task dies with it."""
        name, mark = self.name("prep"), f"setup-{uuid.uuid4().hex}"
        self.client.clusters.create(RG, WS, name, cluster_params(1, "sleep 60", mark)).result()
        wait_until(lambda: list(processes_with(f"FAULT_MARK={mark}\0")), 20, "the setup task")
        time.sleep(self.rng.uniform(0.0, 0.3))
        with self.backend.store.read() as conn:
            (pid,) = conn.execute("SELECT prep_pid FROM nodes WHERE cluster_key LIKE ?", (f"%/clusters/{name}",)
                                  ).fetchone()
        assert kill9(pid)
        wait_until(lambda: self.client.clusters.get(RG, WS, name).node_state_counts.unusable_node_count == 1, 20,
                   f"{name}'s node to be unusable")
        if leftovers(f"FAULT_MARK={mark}\0", 1.0):
            self.setup_leaks.append(name)
        self.client.clusters.delete(RG, WS, name).result()


VICTIMS = ("client", "supervisor", "launcher", "job", "setup")


def run_fault_rounds(tmp_path: Path, rounds: int, seed: int) -> Dict[str, Any]:
    """Run ``rounds`` kill rounds in a fresh home; return the counts (also used by bench/reliability.py)."""
    rng = random.Random(seed)
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    faults = Faults(home, rng)
    started = time.monotonic()
    victims = [VICTIMS[i % len(VICTIMS)] for i in range(rounds)]
    rng.shuffle(victims)
    for victim in victims:
        faults.round(victim)
    faults.client.close()
    report = fresh_process_report(home, delete=False)
    jobs = report["jobs"]
    lost = sorted(n for n in faults.must_exist if n not in jobs)
    twice = sorted(n for n in jobs if runs(faults.markers, n) > 1)
    never_ended = sorted(n for n, (state, _codes, _exit) in jobs.items() if state not in FINAL)
    wrong = {}
    for name, (state, codes, _exit) in jobs.items():
        outcome = f"{state}/{codes[0] if codes else ''}"
        allowed = faults.expected.get(name, ())
        if outcome not in allowed:
            wrong[name] = outcome
        if state == "succeeded" and runs(faults.markers, name) != 1:
            wrong[name] = f"succeeded after {runs(faults.markers, name)} runs"
    unknown = sorted(n for n in jobs if n not in faults.must_exist and n not in faults.may_exist)
    pool = report["clusters"]["pool"]
    fresh_process_report(home, delete=True)  # and delete everything, from yet another process
    leaked = leftovers(str(home), 15.0)
    specs = sorted(str(path) for path in home.glob("run/jobs/*/spec.json"))  # launch specs hold secrets
    return {"specs_left": specs,
            "seed": seed, "rounds": rounds, "kills": faults.kills, "jobs": len(jobs), "lost": lost, "twice": twice,
            "never_ended": never_ended, "wrong": wrong, "unknown": unknown, "pool": pool,
            "setup_leaks": faults.setup_leaks, "leaked": leaked, "seconds": round(time.monotonic() - started, 1)}


def test_kill_9_at_random_moments(tmp_path, monkeypatch):
    seed = int(os.environ.get("BATCHAI_COMPAT_FAULT_SEED") or random.SystemRandom().randrange(2 ** 32))
    print(f"[faults] seed {seed} (BATCHAI_COMPAT_FAULT_SEED={seed} replays it)")
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))  # every child carries it: the leak scan
    result = run_fault_rounds(tmp_path, scale(10, 40), seed)
    print(f"[faults] {result['rounds']} kill rounds {result['kills']}, {result['jobs']} jobs in "
          f"{result['seconds']} s: {len(result['lost'])} lost, {len(result['twice'])} run twice, "
          f"{len(result['leaked']) + len(result['setup_leaks'])} leaked")
    assert result["lost"] == [] and result["twice"] == [] and result["unknown"] == [], result
    assert result["never_ended"] == [] and result["wrong"] == {}, result
    assert result["setup_leaks"] == [] and result["leaked"] == [] and result["specs_left"] == [], result
    state, current, idle, running = result["pool"]
    assert (state, current, idle, running) == ("steady", 3, 3, 0), result["pool"]


# -- issue 11 item 5, on its own -------------------------------------------------------------------
@pytest.fixture
def faults(tmp_path, monkeypatch):
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    faults = Faults(home, random.Random(0))
    yield faults
    faults.client.workspaces.delete(RG, WS).result()
    faults.client.close()


def _setup_cluster(faults: Faults, command: str) -> Tuple[str, str, int]:
    name, mark = faults.name("prep"), f"setup-{uuid.uuid4().hex}"
    faults.client.clusters.create(RG, WS, name, cluster_params(1, command, mark)).result()
    wait_until(lambda: list(processes_with(f"FAULT_MARK={mark}\0")), 20, "the setup task")
    with faults.backend.store.read() as conn:
        (pid,) = conn.execute("SELECT prep_pid FROM nodes WHERE cluster_key LIKE ?", (f"%/clusters/{name}",)
                              ).fetchone()
    return name, mark, pid


def test_a_killed_setup_task_runner_takes_its_setup_task_with_it(faults):
    name, mark, runner = _setup_cluster(faults, "sleep 120 & sleep 120; wait")
    assert kill9(runner)
    cluster = wait_until(lambda: (lambda c: c if c.node_state_counts.unusable_node_count == 1 else None)(
        faults.client.clusters.get(RG, WS, name)), 20, "the node to be unusable")
    assert [e.code for e in cluster.errors] == ["NodeSetupFailed"]
    # by the time the node is reported unusable the setup task's processes have been sent SIGKILL
    assert leftovers(f"FAULT_MARK={mark}\0", 1.0) == []


def test_cluster_delete_stops_what_a_dead_runners_setup_task_left(faults):
    name, mark, runner = _setup_cluster(faults, "sleep 120")
    assert kill9(runner)
    faults.client.clusters.delete(RG, WS, name).result()  # no pass in between noticed the dead runner
    assert leftovers(f"FAULT_MARK={mark}\0", 1.0) == []


def _gone(pid: int) -> bool:
    try:
        stat = _proc_read(pid, "stat")
    except OSError:
        return True
    return stat[stat.rindex(b")") + 2:].split()[0] in (b"Z", b"X")


def test_cluster_delete_stops_the_background_processes_of_a_finished_setup_task(faults):
    name, mark, runner = _setup_cluster(faults, "sleep 120 > /dev/null 2>&1 & exit 0")
    wait_until(lambda: faults.client.clusters.get(RG, WS, name).node_state_counts.idle_node_count == 1, 20,
               "the node to be idle")
    wait_until(lambda: _gone(runner), 20, "the setup-task runner to exit")
    assert list(processes_with(f"FAULT_MARK={mark}\0"))  # the daemon lives on while the node exists
    faults.client.clusters.delete(RG, WS, name).result()
    assert leftovers(f"FAULT_MARK={mark}\0", 1.0) == []


def test_a_scale_down_stops_the_background_processes_of_the_removed_node(faults):
    name, mark, _runner = _setup_cluster(faults, "sleep 120 > /dev/null 2>&1 & exit 0")
    wait_until(lambda: faults.client.clusters.get(RG, WS, name).node_state_counts.idle_node_count == 1, 20,
               "the node to be idle")
    faults.client.clusters.update(RG, WS, name, scale_settings=models.ScaleSettings(
        manual=models.ManualScaleSettings(target_node_count=0)))
    wait_until(lambda: faults.client.clusters.get(RG, WS, name).current_node_count == 0, 20, "the node to leave")
    assert leftovers(f"FAULT_MARK={mark}\0", 1.0) == []


def test_cluster_delete_stops_setup_task_processes_that_left_their_process_group(faults):
    name, mark, runner = _setup_cluster(faults, "setsid sleep 120 > /dev/null 2>&1 < /dev/null & exit 0")
    wait_until(lambda: faults.client.clusters.get(RG, WS, name).node_state_counts.idle_node_count == 1, 20,
               "the node to be idle")
    wait_until(lambda: _gone(runner), 20, "the setup-task runner to exit")
    (escaped, _cmd), = processes_with(f"FAULT_MARK={mark}\0")
    assert os.getpgid(escaped) != runner  # it is in a session of its own
    faults.client.clusters.delete(RG, WS, name).result()
    assert leftovers(f"FAULT_MARK={mark}\0", 1.0) == []
