"""In-memory state of the emulated Azure ML service.

Everything lives in one :class:`EmulatorState` guarded by one re-entrant lock; route handlers and the run
executor take ``state.lock`` for every read-modify-write.  Time-driven changes (a cluster finishing a resize,
idle nodes leaving) are applied lazily by :meth:`Compute.refresh`, called before every read, so no
background timer threads are needed.
"""

from __future__ import annotations

import datetime as _dt
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .util import iso, new_id, utcnow

WS_PROVIDER = "Microsoft.MachineLearningServices"


@dataclass
class Node:
    node_id: str
    index: int
    state: str = "preparing"          # preparing | idle | running | leaving
    run_id: Optional[str] = None
    ready_at: float = 0.0              # monotonic time when a preparing node becomes idle
    idle_since: float = 0.0
    port: int = 50000
    address: Optional[str] = None      # loopback address of the emulated node, given when it first runs a run

    def as_dict(self) -> Dict[str, Any]:
        # The address jobs see (AZ_BATCH_HOST_LIST) once the node has run something.
        return {"nodeId": self.node_id, "privateIpAddress": self.address or f"10.0.0.{4 + self.index}",
                "publicIpAddress": "127.0.0.1", "port": self.port + self.index,
                "nodeState": self.state, "runId": self.run_id}


@dataclass
class Compute:
    name: str
    location: str
    compute_type: str = "AmlCompute"
    vm_size: str = "STANDARD_D2_V2"
    vm_priority: str = "Dedicated"
    min_nodes: int = 0
    max_nodes: int = 1
    idle_seconds: float = 1800.0
    tags: Dict[str, str] = field(default_factory=dict)
    description: Optional[str] = None
    admin_username: Optional[str] = None
    remote_login: Optional[str] = None
    subnet: Optional[Dict[str, str]] = None
    identity: Optional[Dict[str, Any]] = None
    provisioning_state: str = "Succeeded"
    created: _dt.datetime = field(default_factory=utcnow)
    modified: _dt.datetime = field(default_factory=utcnow)
    allocation_state: str = "Steady"
    allocation_changed: _dt.datetime = field(default_factory=utcnow)
    nodes: List[Node] = field(default_factory=list)
    next_node_index: int = 0
    extra_properties: Dict[str, Any] = field(default_factory=dict)

    # -- node bookkeeping --------------------------------------------------------------------------
    def _add_nodes(self, count: int, now: float, resize_seconds: float) -> None:
        for _ in range(count):
            idx = self.next_node_index
            self.next_node_index += 1
            self.nodes.append(Node(f"tvmps_{self.name}_{idx:04d}_d", idx, "preparing",
                                   ready_at=now + resize_seconds))

    def refresh(self, now: float, scale_down_after: float) -> None:
        """Apply the state changes due by ``now`` (monotonic seconds)."""
        changed = False
        for node in self.nodes:
            if node.state == "preparing" and node.ready_at <= now:
                node.state = "idle"
                node.idle_since = now
                changed = True
        idle_timeout = min(self.idle_seconds, scale_down_after)
        removable = len(self.nodes) - self.min_nodes
        if removable > 0:
            for node in sorted(self.nodes, key=lambda n: -n.index):
                if removable <= 0:
                    break
                if node.state == "idle" and now - node.idle_since >= idle_timeout:
                    self.nodes.remove(node)
                    removable -= 1
                    changed = True
        resizing = any(n.state in ("preparing", "leaving") for n in self.nodes)
        new_alloc = "Resizing" if resizing else "Steady"
        if new_alloc != self.allocation_state or changed:
            if new_alloc != self.allocation_state:
                self.allocation_changed = utcnow()
            self.allocation_state = new_alloc

    def ensure_min(self, now: float, resize_seconds: float) -> None:
        missing = self.min_nodes - len(self.nodes)
        if missing > 0:
            self._add_nodes(missing, now, resize_seconds)
            self.allocation_state = "Resizing"
            self.allocation_changed = utcnow()
        excess = len(self.nodes) - self.max_nodes
        for node in sorted(self.nodes, key=lambda n: -n.index):
            if excess <= 0:
                break
            if node.state in ("idle", "preparing"):
                self.nodes.remove(node)
                excess -= 1

    def try_allocate(self, run_id: str, count: int, now: float, resize_seconds: float) -> bool:
        """Give ``count`` idle nodes to ``run_id``; grow the cluster (Resizing) when there are too few."""
        idle = [n for n in self.nodes if n.state == "idle"]
        if len(idle) >= count:
            for node in sorted(idle, key=lambda n: n.index)[:count]:
                node.state = "running"
                node.run_id = run_id
            return True
        preparing = sum(1 for n in self.nodes if n.state == "preparing")
        grow = min(count - len(idle) - preparing, self.max_nodes - len(self.nodes))
        if grow > 0:
            self._add_nodes(grow, now, resize_seconds)
            self.allocation_state = "Resizing"
            self.allocation_changed = utcnow()
        return False

    def release(self, run_id: str, now: float) -> None:
        for node in self.nodes:
            if node.run_id == run_id:
                node.run_id = None
                node.state = "idle"
                node.idle_since = now

    def counts(self) -> Dict[str, int]:
        by_state = {"idle": 0, "running": 0, "preparing": 0, "leaving": 0}
        for node in self.nodes:
            by_state[node.state] = by_state.get(node.state, 0) + 1
        return {"idleNodeCount": by_state["idle"], "runningNodeCount": by_state["running"],
                "preparingNodeCount": by_state["preparing"], "leavingNodeCount": by_state["leaving"],
                "preemptedNodeCount": 0, "unusableNodeCount": 0}


@dataclass
class Experiment:
    name: str
    experiment_id: str = field(default_factory=new_id)
    created: _dt.datetime = field(default_factory=utcnow)
    description: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)
    archived_time: Optional[_dt.datetime] = None

    def as_dict(self) -> Dict[str, Any]:
        return {"experimentId": self.experiment_id, "name": self.name, "description": self.description,
                "createdUtc": iso(self.created), "archivedTime": iso(self.archived_time), "tags": self.tags}


@dataclass
class Run:
    run_id: str
    run_number: int
    experiment: Experiment
    target: str = "local"
    status: str = "NotStarted"
    created: _dt.datetime = field(default_factory=utcnow)
    start: Optional[_dt.datetime] = None
    end: Optional[_dt.datetime] = None
    tags: Dict[str, Optional[str]] = field(default_factory=dict)
    properties: Dict[str, str] = field(default_factory=dict)
    configuration: Dict[str, Any] = field(default_factory=dict)
    definition: Dict[str, Any] = field(default_factory=dict)
    error: Optional[Dict[str, Any]] = None
    parent_run_id: Optional[str] = None
    description: Optional[str] = None
    display_name: Optional[str] = None
    run_type: Optional[str] = None
    hidden: bool = False
    snapshot_id: Optional[str] = None
    source_zip: Optional[bytes] = None
    executed: bool = False             # True for runs the emulator executes (startrun/snapshotrun/localrun)
    run_dir: Optional[str] = None
    work_dir: Optional[str] = None     # node 0's working directory
    node_work_dirs: List[str] = field(default_factory=list)   # every node's working directory, node order
    node_ids: List[str] = field(default_factory=list)         # the run's nodes, node order
    node_addresses: List[str] = field(default_factory=list)   # their loopback addresses, node order
    cancel_requested: bool = False
    process_ended: bool = False
    exit_codes: List[Optional[int]] = field(default_factory=list)
    node_count: int = 1
    env: Dict[str, str] = field(default_factory=dict)
    status_history: List[str] = field(default_factory=list)
    uploaded: Dict[str, bytes] = field(default_factory=dict)   # artifacts uploaded through the API

    def set_status(self, status: str) -> None:
        if status == "Finalizing" and self.executed and len(self.node_work_dirs) > 1:
            # Finalizing uploads every node's ./outputs and ./logs. Azure ML refuses to create an artifact
            # that exists (the artifact service's batch create answers a per-path error, which azureml-core
            # raises: azureml/_restclient/artifacts_client.py, create_empty_artifacts, "if res.errors"), and
            # distributed runs whose nodes write the same output name fail with "UserError: Resource Conflict:
            # ArtifactId ExperimentRun/dcid.<run>/<path> already exists" (e.g.
            # https://github.com/lightly-ai/lightly-train/issues/256). The emulator fails such a run alike.
            clashes = duplicate_node_artifacts(self.node_work_dirs)
            if clashes:
                from .history import run_error

                message = f"Resource Conflict: ArtifactId ExperimentRun/{self.container}/{clashes[0]} already exists."
                if len(clashes) > 1:
                    message += f" ({len(clashes)} names were written on several nodes.)"
                self.error = run_error(message, "UserError")
                status = "Failed"
        if status == "Completed" and self.status == "Failed" and self.error is not None:
            return  # the upload failed while finalizing (above)
        if status != self.status:
            self.status = status
            self.status_history.append(status)

    @property
    def container(self) -> str:
        return "dcid." + self.run_id

    @property
    def terminal(self) -> bool:
        return self.status in ("Completed", "Failed", "Canceled")


def duplicate_node_artifacts(work_dirs: List[str]) -> List[str]:
    """Artifact names (``outputs/...``, ``logs/...``) that more than one node's working directory holds."""
    import os

    seen: Dict[str, int] = {}
    for work_dir in work_dirs:
        names = set()
        for top in ("outputs", "logs"):
            root = os.path.join(work_dir, top)
            for dirpath, _dirs, files in os.walk(root):
                for name in files:
                    rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                    names.add(f"{top}/{rel}")
        for name in names:
            seen[name] = seen.get(name, 0) + 1
    return sorted(name for name, count in seen.items() if count > 1)


@dataclass
class Datastore:
    name: str
    payload: Dict[str, Any]


@dataclass
class Workspace:
    subscription_id: str
    resource_group: str
    name: str
    location: str = "eastus"
    workspace_id: str = field(default_factory=new_id)
    tags: Dict[str, str] = field(default_factory=dict)
    description: str = ""
    friendly_name: str = ""
    created: _dt.datetime = field(default_factory=utcnow)
    sku: str = "Basic"
    computes: Dict[str, Compute] = field(default_factory=dict)
    experiments: Dict[str, Experiment] = field(default_factory=dict)   # by lower-cased name
    runs: Dict[str, Run] = field(default_factory=dict)
    datastores: Dict[str, Datastore] = field(default_factory=dict)
    default_datastore: str = "workspaceblobstore"
    snapshots: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    run_counter: int = 0
    secrets: Dict[str, str] = field(default_factory=dict)

    @property
    def arm_id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/{WS_PROVIDER}/workspaces/{self.name}")

    def storage_account_name(self) -> str:
        return "emu" + self.workspace_id.replace("-", "")[:18]

    def resource_id(self, kind: str, name: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/{kind}/{name}"

    def experiment_by_id(self, experiment_id: str) -> Optional[Experiment]:
        for exp in self.experiments.values():
            if exp.experiment_id == experiment_id:
                return exp
        return None


@dataclass
class Operation:
    """An ARM long-running operation answered through an ``Azure-AsyncOperation`` URL."""
    op_id: str
    status: str = "Succeeded"
    error: Optional[Dict[str, Any]] = None
    polls: int = 0


class EmulatorState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.workspaces: Dict[tuple, Workspace] = {}
        self.operations: Dict[str, Operation] = {}
        self.resource_groups: Dict[tuple, Dict[str, Any]] = {}
        self.deployments: Dict[tuple, Dict[str, Any]] = {}

    @staticmethod
    def key(sub: str, rg: str, name: str) -> tuple:
        return (sub.lower(), rg.lower(), name.lower())

    def find_workspace(self, sub: str, rg: str, name: str) -> Optional[Workspace]:
        return self.workspaces.get(self.key(sub, rg, name))

    def workspace_by_run(self, run_id: str) -> Optional[Workspace]:
        for ws in self.workspaces.values():
            if run_id in ws.runs:
                return ws
        return None

    def all_runs(self) -> List[Run]:
        return [run for ws in self.workspaces.values() for run in ws.runs.values()]
