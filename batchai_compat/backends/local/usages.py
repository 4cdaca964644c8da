"""``usages.list(location)``: Batch AI-like quota entries whose current values come from the store.

Names and limits follow the service's answer (``ListUsages.json``); ``currentValue`` counts this
home's clusters and the vCPUs of their live nodes in workspaces of that location (case and spaces
ignored). vCPUs per VM size come from a small table; unknown sizes count as 1 vCPU. Limits are the
service's default quotas and are not enforced (deviation).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Dict, List, Tuple

from batchai_compat.backends.base import Body

from .store import loads

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
_LIMITS = {"dedicated": 600, "lowpriority": 150}


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


def compute(conn: sqlite3.Connection, subscription_id: str, location: str) -> List[Body]:
    workspaces = {row["key"] for row in conn.execute("SELECT key, body FROM workspaces WHERE sub=?",
                                                     (subscription_id.lower(),))
                  if _normalize(loads(row["body"]).get("location") or "") == _normalize(location)}
    clusters = 0
    vcpus: Dict[Tuple[str, str], int] = {}
    for row in conn.execute("SELECT key, ws_key, body FROM clusters"):
        if row["ws_key"] not in workspaces:
            continue
        clusters += 1
        props = loads(row["body"])["properties"]
        count = conn.execute("SELECT COUNT(*) FROM nodes WHERE cluster_key=?", (row["key"],)).fetchone()[0]
        priority = (props.get("vmPriority") or "dedicated").lower()
        key = (priority, family(props.get("vmSize") or ""))
        vcpus[key] = vcpus.get(key, 0) + count * _VCPUS.get((props.get("vmSize") or "").lower(), 1)
    result = [usage("Clusters", "Clusters", clusters, 20)]
    kinds = (("dedicated", "Dedicated", "Dedicated"), ("lowpriority", "Low Priority", "LowPriority"))
    for priority, label, tag in kinds:
        total = sum(v for (p, _), v in vcpus.items() if p == priority)
        result.append(usage(f"Total Cluster {tag} Regional vCPUs", f"Total Cluster {label} Regional vCPUs",
                            total, _LIMITS[priority]))
        for fam in _FAMILIES:
            result.append(usage(f"{fam} Family Cluster {tag} vCPUs", f"{fam} Family Cluster {label} vCPUs",
                                vcpus.get((priority, fam), 0), _LIMITS[priority]))
    return result
