"""Absurd sizes never wedge the home: node counts, quotas and wall-clock limits are refused with the
service's errors before the write lock is taken, and valid large clusters grow in bounded batches.

The limits (``batchai_compat/backends/local/usages.py``): node counts are int32 (the 2018-05-01
OpenAPI description's ``format: int32``) and at most ``max_cluster_nodes`` (local, default 1000);
the service's default quotas per location (``ListUsages.json``: 20 clusters, 600 dedicated and 150
low-priority vCPUs) give ``ClusterQuotaReached`` / ``ClusterCoreQuotaReached``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from typing import Any, Callable, List

import pytest
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models
from batchai_compat import BatchAIManagementClient
from batchai_compat.backends.local import LocalBackend

SUB = "00000000-0000-0000-0000-000000000000"
RG, WS, EXP, LOCATION = "rg", "ws", "exp", "eastus"


@pytest.fixture
def home(tmp_path: Any, monkeypatch: Any) -> Any:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(path))
    return path


def _client(home: Any, **options: Any) -> Any:
    client = BatchAIManagementClient(object(), SUB, backend=LocalBackend(home=home, leave_seconds=0.1, **options))
    client.workspaces.create(RG, WS, LOCATION).result()
    client.experiments.create(RG, WS, EXP).result()
    return client


@pytest.fixture
def client(home: Any) -> Any:
    client = _client(home)
    yield client
    client.workspaces.delete(RG, WS).result()
    client.close()


def manual(target: int) -> models.ScaleSettings:
    return models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=target))


def auto(low: int, high: int, initial: int = 0) -> models.ScaleSettings:
    return models.ScaleSettings(auto_scale=models.AutoScaleSettings(minimum_node_count=low, maximum_node_count=high,
                                                                    initial_node_count=initial))


def cluster_params(scale: models.ScaleSettings, vm_size: str = "STANDARD_D1",
                   priority: str = "dedicated") -> models.ClusterCreateParameters:
    return models.ClusterCreateParameters(
        vm_size=vm_size, vm_priority=priority, scale_settings=scale,
        user_account_settings=models.UserAccountSettings(admin_user_name="u", admin_user_password="p"))


def job_params(cluster_id: str, node_count: int = 1, wall_clock: Any = None) -> models.JobCreateParameters:
    return models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster_id), node_count=node_count, std_out_err_path_prefix="/tmp",
        custom_toolkit_settings=models.CustomToolkitSettings(command_line="true"),
        constraints=models.JobBasePropertiesConstraints(max_wall_clock_time=wall_clock) if wall_clock else None)


@contextlib.contextmanager
def write_lock_held(home: Any):
    """Another process holds the database's write lock (as a busy process would)."""
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(home / "state.db")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()


def call_within(seconds: float, call: Callable[[], Any]) -> Any:
    """Run ``call`` in a thread; fail if it has not returned (or raised) within ``seconds``."""
    outcome: List[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", call()))
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome.append(("error", exc))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"the call did not return within {seconds} s"
    return outcome[0]


def cloud_error(outcome: Any) -> CloudError:
    kind, value = outcome
    assert kind == "error" and isinstance(value, CloudError), outcome
    return value


ABSURD = [
    ("targetNodeCount 100000", manual(100000), "InvalidScaleSettings"),
    ("targetNodeCount 2**63", manual(2 ** 63), "InvalidScaleSettings"),
    ("targetNodeCount 2**31", manual(2 ** 31), "InvalidScaleSettings"),
    ("auto-scale initialNodeCount 10**6", auto(0, 10 ** 6, 10 ** 6), "InvalidScaleSettings"),
    ("auto-scale minimumNodeCount 10**6", auto(10 ** 6, 10 ** 6), "InvalidScaleSettings"),
    ("600 dedicated nodes of 6 vCPUs", manual(600), "ClusterCoreQuotaReached"),
    ("700 dedicated vCPUs", manual(700), "ClusterCoreQuotaReached"),
]


@pytest.mark.parametrize("label,scale,code", ABSURD, ids=[a[0] for a in ABSURD])
def test_absurd_cluster_sizes_are_refused_without_taking_the_write_lock(client, home, label, scale, code):
    vm_size = "STANDARD_NC6" if "6 vCPUs" in label else "STANDARD_D1"
    with write_lock_held(home):  # a create that needed the lock would wait for it (busy timeout 60 s)
        error = cloud_error(call_within(5, lambda: client.clusters.create(RG, WS, "big",
                                                                          cluster_params(scale, vm_size)).result()))
    assert error.status_code == 400 and error.error.error == code, error
    if code == "ClusterCoreQuotaReached":
        assert "Operation results in exceeding quota limits of" in error.message and "Maximum allowed: 600" in \
            error.message
    assert [c.name for c in client.clusters.list_by_workspace(RG, WS)] == []  # nothing half-created
    # and the home is not wedged: a scheduling pass in this process still answers at once
    assert call_within(5, lambda: list(client.clusters.list_by_workspace(RG, WS)))[0] == "ok"


def test_a_huge_initial_node_count_is_clamped_to_the_maximum(client):
    client.clusters.create(RG, WS, "auto", cluster_params(auto(0, 10, 10 ** 6))).result()
    cluster = client.clusters.get(RG, WS, "auto")
    assert cluster.current_node_count <= 10 and cluster.scale_settings.auto_scale.initial_node_count == 10 ** 6


def test_absurd_resizes_are_refused_and_leave_the_cluster_as_it_was(client, home):
    client.clusters.create(RG, WS, "c", cluster_params(manual(1))).result()
    for scale, code in [(manual(10 ** 5), "InvalidScaleSettings"), (manual(2 ** 63), "InvalidScaleSettings"),
                        (auto(0, 10 ** 6, 0), "InvalidScaleSettings"), (manual(601), "ClusterCoreQuotaReached")]:
        with write_lock_held(home):
            error = cloud_error(call_within(5, lambda s=scale: client.clusters.update(RG, WS, "c", scale_settings=s)))
        assert error.status_code == 400 and error.error.error == code, (scale, error)
    cluster = client.clusters.get(RG, WS, "c")
    assert cluster.scale_settings.manual.target_node_count == 1 and cluster.current_node_count == 1


def test_the_vcpu_quota_counts_every_cluster_of_the_location(client):
    client.clusters.create(RG, WS, "a", cluster_params(manual(50), "STANDARD_NC6")).result()  # 300 vCPUs
    client.clusters.create(RG, WS, "b", cluster_params(manual(300))).result()  # 300 more: the limit exactly
    with pytest.raises(CloudError) as info:
        client.clusters.create(RG, WS, "c", cluster_params(manual(1))).result()
    assert info.value.error.error == "ClusterCoreQuotaReached"
    assert "Current in use: 600" in info.value.message
    # low-priority vCPUs have their own quota (150)
    client.clusters.create(RG, WS, "lp", cluster_params(manual(150), priority="lowpriority")).result()
    with pytest.raises(CloudError) as info:
        client.clusters.update(RG, WS, "lp", scale_settings=manual(151))
    assert info.value.error.error == "ClusterCoreQuotaReached" and "LowPriority" in info.value.message
    usage = {u.name.value: (u.current_value, u.limit) for u in client.usages.list(LOCATION)}
    assert usage["Clusters"][1] == 20 and usage["Total Cluster Dedicated Regional vCPUs"][1] == 600


def test_the_cluster_quota_gives_the_services_error(home):
    client = _client(home, quotas={"clusters": 3})
    try:
        for name in ("c1", "c2", "c3"):
            client.clusters.create(RG, WS, name, cluster_params(manual(0))).result()
        with pytest.raises(CloudError) as info:
            client.clusters.create(RG, WS, "c4", cluster_params(manual(0))).result()
        assert info.value.status_code == 400 and info.value.error.error == "ClusterQuotaReached"
        assert info.value.message.startswith("Operation results in exceeding quota limits of "
                                             "Microsoft.BatchAI/clusters. Maximum allowed: 3, Current in use: 3.")
        client.clusters.create(RG, WS, "c1", cluster_params(manual(0))).result()  # an identical PUT still works
        assert {u.name.value: u.limit for u in client.usages.list(LOCATION)}["Clusters"] == 3
    finally:
        client.workspaces.delete(RG, WS).result()


def test_a_large_valid_cluster_grows_in_bounded_batches_and_never_holds_the_lock_long(home):
    backend = LocalBackend(home=home, leave_seconds=0.1)
    held: List[float] = []
    original = backend.store.write

    @contextlib.contextmanager
    def timed_write():  # measures every write transaction of this client (the real one, unchanged)
        with original() as conn:
            began = time.monotonic()
            yield conn
            held.append(time.monotonic() - began)
    backend.store.write = timed_write  # type: ignore[method-assign]
    client = BatchAIManagementClient(object(), SUB, backend=backend)
    client.workspaces.create(RG, WS, LOCATION).result()
    try:
        started = time.monotonic()
        created = client.clusters.create(RG, WS, "big", cluster_params(manual(600))).result()
        assert time.monotonic() - started < 5
        assert created.current_node_count < 600 and created.allocation_state == "resizing"
        deadline = time.monotonic() + 60
        while True:
            cluster = client.clusters.get(RG, WS, "big")
            if cluster.allocation_state == "steady":
                break
            assert time.monotonic() < deadline, "the cluster never finished growing"
        assert cluster.current_node_count == 600 and cluster.node_state_counts.idle_node_count == 600
        assert len({n.port for n in client.clusters.list_remote_login_information(RG, WS, "big")}) == 600
        assert max(held) < 1.0, f"a write transaction held the lock for {max(held):.2f} s"
    finally:
        client.workspaces.delete(RG, WS).result()


def test_auto_scale_growth_stops_at_the_quota_with_a_cluster_error(client):
    cluster = client.clusters.create(RG, WS, "auto", cluster_params(auto(0, 200), priority="lowpriority")).result()
    client.jobs.create(RG, WS, EXP, "wide", job_params(cluster.id, node_count=200)).result()
    deadline = time.monotonic() + 30
    while True:
        cluster = client.clusters.get(RG, WS, "auto")
        if cluster.current_node_count == 150 and cluster.allocation_state == "steady":
            break
        assert time.monotonic() < deadline, cluster.current_node_count
    assert [e.code for e in cluster.errors or []] == ["ClusterCoreQuotaReached"]
    assert client.jobs.get(RG, WS, EXP, "wide").execution_state == "queued"  # never half-started
    client.jobs.delete(RG, WS, EXP, "wide").result()


@pytest.mark.parametrize("node_count", [2 ** 31, 2 ** 63])
def test_job_node_counts_beyond_int32_are_refused(client, node_count):
    cluster = client.clusters.create(RG, WS, "c", cluster_params(manual(1))).result()
    with pytest.raises(CloudError) as info:
        client.jobs.create(RG, WS, EXP, "j", job_params(cluster.id, node_count=node_count)).result()
    assert info.value.status_code == 400 and info.value.error.error == "InvalidNodeCount"
    assert list(client.jobs.list_by_experiment(RG, WS, EXP)) == []


@pytest.mark.parametrize("wall_clock", ["-P1D", "PT0S", "P10000Y"])
def test_impossible_wall_clock_limits_are_refused(client, wall_clock):
    cluster = client.clusters.create(RG, WS, "c", cluster_params(manual(1))).result()
    with pytest.raises(CloudError) as info:
        client.jobs.create(RG, WS, EXP, "j", job_params(cluster.id, wall_clock=wall_clock)).result()
    assert info.value.status_code == 400 and info.value.error.error == "InvalidConstraints"
    assert list(client.jobs.list_by_experiment(RG, WS, EXP)) == []


def test_a_cluster_being_deleted_reserves_no_vcpus(home):
    client = _client(home, delete_seconds=5.0)
    try:
        client.clusters.create(RG, WS, "a", cluster_params(manual(600))).result()
        client.clusters.delete(RG, WS, "a")  # no .result(): "a" stays visible as deleting for 5 s
        assert client.clusters.get(RG, WS, "a").provisioning_state == "deleting"
        client.clusters.create(RG, WS, "b", cluster_params(manual(600))).result()
    finally:
        client.workspaces.delete(RG, WS).result()
