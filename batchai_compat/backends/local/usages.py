"""``usages.list(location)`` and the quotas and size limits every cluster is checked against.

Names and limits follow the service's answer (``specs/batchai-2018-05-01/examples/ListUsages.json``:
20 clusters, 600 dedicated and 150 low-priority vCPUs per location); ``currentValue`` counts this
home's clusters and the vCPUs of their live nodes in workspaces of that location (case and spaces
ignored). vCPUs per VM size come from a small table; unknown sizes count as 1 vCPU.

Enforcement (``check_scale`` / ``check_quota``, called by ``cluster_ops.py`` before the write lock is
taken, and again inside it; ``headroom`` by the scheduler before it adds nodes):

* node counts are 32-bit integers, as the 2018-05-01 OpenAPI description declares them
  (``format: int32``); anything else is refused with ``InvalidScaleSettings``;
* a local-machine limit, ``max_cluster_nodes`` (``LocalBackend`` option, default 1000), bounds every
  node count of a cluster (manual target, auto-scale minimum and maximum; ``initialNodeCount`` need
  only be an int32: it is used clamped to minimum..maximum), because
  every local node is a directory, a loopback address and a row scanned by each scheduling pass;
* quotas (``quotas`` option, default the service's: ``{"clusters": 20, "dedicated": 600,
  "lowpriority": 150}``): creating a cluster beyond the cluster quota, or a cluster (or resize) whose
  nodes would take the location's vCPUs of that priority, in total or in the VM family, beyond the
  limit, fails with HTTP 400 ``ClusterQuotaReached`` / ``ClusterCoreQuotaReached``. The cluster-count
  error is the one the service answered (its code and wording as a user reported them in October 2018,
  github.com/MicrosoftDocs/azure-docs issue 17809: "ClusterQuotaReached : Operation results in
  exceeding quota limits of Microsoft.BatchAI/clusters. Maximum allowed: 0, Current in use: 0. Please
  contact support ..."). ``ClusterCoreQuotaReached`` is this backend's code, worded the same way: the
  service's answer for vCPUs was never recorded (the HTTP status of both is not known either; 400 is
  assumed). Deviation: for vCPUs the
  service documented that "the actual number of nodes can be less than the specified value if the
  subscription has not enough quota" (OpenAPI ``AutoScaleSettings.minimumNodeCount``); locally a
  manual target or auto-scale minimum that does not fit is refused at once with the same wording,
  and only auto-scale growth above the minimum stops at the quota (a ``ClusterCoreQuotaReached``
  entry in ``cluster.errors``), as the service's did. A cluster counts against the quota with
  ``max(live nodes, manual target or auto-scale minimum)`` nodes, so nodes that are still being
  added are reserved.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Dict, List, Optional, Set, Tuple

from batchai_compat.backends.base import Body
from batchai_compat.backends.errors import InvalidInput

from .store import loads

INT32_MAX = 2 ** 31 - 1
DEFAULT_QUOTAS = {"clusters": 20, "dedicated": 600, "lowpriority": 150}
DEFAULT_MAX_CLUSTER_NODES = 1000

_VCPUS = {
    "standard_a1": 1, "standard_a2": 2, "standard_a3": 4, "standard_a4": 8,
    "standard_d1": 1, "standard_d2": 2, "standard_d3": 4, "standard_d4": 8, "standard_d11": 2,
    "standard_d1_v2": 1, "standard_d2_v2": 2, "standard_d3_v2": 4, "standard_d4_v2": 8, "standard_d5_v2": 16,
    "standard_nc6": 6, "standard_nc12": 12, "standard_nc24": 24, "standard_nc24r": 24,
    "standard_nc6s_v2": 6, "standard_nc12s_v2": 12, "standard_nc24s_v2": 24,
    "standard_nc6s_v3": 6, "standard_nc12s_v3": 12, "standard_nc24s_v3": 24,
    "standard_nd6s": 6, "standard_nd12s": 12, "standard_nd24s": 24,
    "standard_nv6": 6, "standard_nv12": 12, "standard_nv24": 24,
    "standard_h16": 16, "standard_h16r": 16, "standard_f2": 2, "standard_f4": 4, "standard_f8": 8,
}
_FAMILIES = ("Standard D", "Standard Dv2", "Standard NC", "Standard NCv2", "Standard NCv3", "Standard ND",
             "Standard NV")


def family(vm_size: str) -> str:
    size = vm_size.lower()
    match = re.match(r"standard_([a-z]+)\d+[a-z]*(?:_(v\d))?", size)
    if not match:
        return "Other"
    letters, version = match.group(1).upper(), (match.group(2) or "")
    return f"Standard {letters}{version}"


def _normalize(location: str) -> str:
    return location.replace(" ", "").lower()


def usage(name: str, localized: str, current: int, limit: int) -> Body:
    return {"unit": "Count", "currentValue": current, "limit": limit,
            "name": {"value": name, "localizedValue": localized}}


def quotas(configured: Optional[Dict[str, int]] = None) -> Dict[str, int]:
    """The service's default quotas, overridden by the ``quotas`` option."""
    result = dict(DEFAULT_QUOTAS)
    result.update({k.lower(): int(v) for k, v in (configured or {}).items()})
    return result


def vcpus(vm_size: Optional[str]) -> int:
    return _VCPUS.get((vm_size or "").lower(), 1)


def _priority(props: Body) -> str:
    return (props.get("vmPriority") or "dedicated").lower()


def _location_workspaces(conn: sqlite3.Connection, subscription_id: str, location: str) -> Set[str]:
    return {row["key"] for row in conn.execute("SELECT key, body FROM workspaces WHERE sub=?",
                                               (subscription_id.lower(),))
            if _normalize(loads(row["body"]).get("location") or "") == _normalize(location)}


# -- limits ----------------------------------------------------------------------------------------
def _count(value: Any, name: str, max_nodes: Optional[int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("InvalidScaleSettings", f"{name} must be an integer, not {value!r}")
    if not 0 <= value <= INT32_MAX:
        raise InvalidInput("InvalidScaleSettings", f"{name} must be between 0 and {INT32_MAX} (a 32-bit "
                           f"integer), not {value}")
    if max_nodes is not None and value > max_nodes:
        raise InvalidInput("InvalidScaleSettings", f"{name} {value} exceeds the local backend's limit of "
                           f"{max_nodes} nodes per cluster (LocalBackend option max_cluster_nodes)")
    return value


def check_scale(scale: Body, max_nodes: int) -> None:
    """Every node count of normalized ``scaleSettings`` is an int32 within the local per-cluster limit."""
    if "manual" in scale:
        _count(scale["manual"].get("targetNodeCount"), "targetNodeCount", max_nodes)
        return
    auto = scale["autoScale"]
    for name in ("minimumNodeCount", "maximumNodeCount"):
        _count(auto.get(name), name, max_nodes)
    _count(auto.get("initialNodeCount"), "initialNodeCount", None)  # int32; used clamped to min..max


def reserved_nodes(scale: Body) -> int:
    """The nodes a cluster is entitled to keep: the manual target, or the auto-scale minimum."""
    if "manual" in scale:
        return int(scale["manual"]["targetNodeCount"])
    return int(scale["autoScale"]["minimumNodeCount"])


def initial_nodes(scale: Body) -> int:
    """The nodes a new cluster asks for at once (auto-scale: ``initialNodeCount`` within min..max)."""
    if "manual" in scale:
        return int(scale["manual"]["targetNodeCount"])
    auto = scale["autoScale"]
    return max(int(auto["minimumNodeCount"]), min(int(auto["maximumNodeCount"]), int(auto["initialNodeCount"])))


def _usage_by_cluster(conn: sqlite3.Connection, workspaces: Set[str]) -> List[Tuple[str, Body, int]]:
    """``(cluster key, properties, live node count)`` of every cluster in ``workspaces``."""
    counts = {row[0]: row[1] for row in conn.execute(
        "SELECT cluster_key, COUNT(*) FROM nodes WHERE state<>'leaving' GROUP BY cluster_key")}
    return [(row["key"], loads(row["body"])["properties"], counts.get(row["key"], 0))
            for row in conn.execute("SELECT key, ws_key, body FROM clusters") if row["ws_key"] in workspaces]


def _ws_location(conn: sqlite3.Connection, ws_key: str) -> Tuple[str, str]:
    row = conn.execute("SELECT sub, body FROM workspaces WHERE key=?", (ws_key,)).fetchone()
    if row is None:
        return "", ""
    return row["sub"], loads(row["body"]).get("location") or ""


def _used_vcpus(conn: sqlite3.Connection, ws_key: str, exclude: str, priority: str,
                fam: str) -> Tuple[int, int, int]:
    """(clusters, vCPUs of the priority, vCPUs of the priority in family ``fam``) reserved in the
    location of workspace ``ws_key``, not counting cluster ``exclude``."""
    sub, location = _ws_location(conn, ws_key)
    clusters = total = in_family = 0
    for key, props, live in _usage_by_cluster(conn, _location_workspaces(conn, sub, location)):
        if key == exclude:
            continue
        clusters += 1
        if _priority(props) != priority:
            continue
        reserved = 0 if props.get("provisioningState") == "deleting" else reserved_nodes(props["scaleSettings"])
        used = max(live, reserved) * vcpus(props.get("vmSize"))
        total += used
        if family(props.get("vmSize") or "") == fam:
            in_family += used
    return clusters, total, in_family


def _quota_error(code: str, what: str, limit: int, used: int, requested: Optional[int] = None) -> InvalidInput:
    extra = f", Additional requested: {requested}" if requested is not None else ""
    return InvalidInput(code, f"Operation results in exceeding quota limits of {what}. Maximum allowed: {limit}, "
                        f"Current in use: {used}{extra}. Please contact support to increase the quota for resource "
                        f"type {what} (local backend: LocalBackend option quotas)")


def check_quota(conn: sqlite3.Connection, ws_key: str, cluster_key: str, props: Body, new_cluster: bool,
                configured: Optional[Dict[str, int]] = None) -> None:
    """Refuse a cluster (``props``: its normalized properties) that does not fit the location's quotas."""
    limits = quotas(configured)
    priority, fam = _priority(props), family(props.get("vmSize") or "")
    clusters, total, in_family = _used_vcpus(conn, ws_key, cluster_key, priority, fam)
    if new_cluster and clusters + 1 > limits["clusters"]:
        raise _quota_error("ClusterQuotaReached", "Microsoft.BatchAI/clusters", limits["clusters"], clusters)
    requested = reserved_nodes(props["scaleSettings"]) * vcpus(props.get("vmSize"))
    limit = limits.get(priority, limits["dedicated"])
    tag = "LowPriority" if priority == "lowpriority" else "Dedicated"
    if total + requested > limit:
        raise _quota_error("ClusterCoreQuotaReached", f"Total Cluster {tag} Regional vCPUs", limit, total, requested)
    if in_family + requested > limit:
        raise _quota_error("ClusterCoreQuotaReached", f"{fam} Family Cluster {tag} vCPUs", limit, in_family,
                           requested)


def headroom(conn: sqlite3.Connection, cluster: sqlite3.Row, live: int,
             configured: Optional[Dict[str, int]] = None) -> int:
    """How many nodes ``cluster`` (with ``live`` nodes now) may add without leaving the vCPU quotas."""
    props = loads(cluster["body"])["properties"]
    limits = quotas(configured)
    priority = _priority(props)
    _clusters, total, in_family = _used_vcpus(conn, cluster["ws_key"], cluster["key"], priority,
                                              family(props.get("vmSize") or ""))
    room = limits.get(priority, limits["dedicated"]) - max(total, in_family) - live * vcpus(props.get("vmSize"))
    return max(0, room // vcpus(props.get("vmSize")))


def compute(conn: sqlite3.Connection, subscription_id: str, location: str,
            configured: Optional[Dict[str, int]] = None) -> List[Body]:
    limits = quotas(configured)
    workspaces = _location_workspaces(conn, subscription_id, location)
    clusters = 0
    used: Dict[Tuple[str, str], int] = {}
    for row in conn.execute("SELECT key, ws_key, body FROM clusters"):
        if row["ws_key"] not in workspaces:
            continue
        clusters += 1
        props = loads(row["body"])["properties"]
        count = conn.execute("SELECT COUNT(*) FROM nodes WHERE cluster_key=?", (row["key"],)).fetchone()[0]
        priority = (props.get("vmPriority") or "dedicated").lower()
        key = (priority, family(props.get("vmSize") or ""))
        used[key] = used.get(key, 0) + count * vcpus(props.get("vmSize"))
    result = [usage("Clusters", "Clusters", clusters, limits["clusters"])]
    kinds = (("dedicated", "Dedicated", "Dedicated"), ("lowpriority", "Low Priority", "LowPriority"))
    for priority, label, tag in kinds:
        total = sum(v for (p, _), v in used.items() if p == priority)
        result.append(usage(f"Total Cluster {tag} Regional vCPUs", f"Total Cluster {label} Regional vCPUs",
                            total, limits[priority]))
        for fam in _FAMILIES:
            result.append(usage(f"{fam} Family Cluster {tag} vCPUs", f"{fam} Family Cluster {label} vCPUs",
                                used.get((priority, fam), 0), limits[priority]))
    return result
