"""Cluster operations of :class:`~.backend.AzureMLBackend`: clusters ↔ AmlCompute
(``docs/azureml-mapping.md`` §1.2, §2.2), and the datastores that Batch AI mounts become. The pure translation
lives in :mod:`.clusters`.

The create/delete operations poll the compute's ARM operation themselves (``_internals.operation_state``, what
the base-class ``ComputeTarget.wait_for_completion`` polls): ``AmlCompute.wait_for_completion`` would also
wait for ``min_nodes`` nodes, which Batch AI's create did not.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from batchai_compat.backends import errors
from batchai_compat.backends.base import Body, ClusterRef, Operation, OperationState, Page, WorkspaceRef, polled

from . import _internals, clusters, translate
from .errors import translated
from .paging import page

logger = logging.getLogger("batchai_compat.azureml")


def warn(message: str) -> None:
    from batchai_compat.exceptions import warn_compat

    warn_compat(message)


class ClusterOperations:
    """Mixin: needs ``workspace()``, ``mapping``, ``_lock`` and the cluster caches set up by the backend."""

    _lock: Any
    mapping: Any
    idle_seconds: Optional[int]
    _cluster_settings: Dict[tuple, Dict[str, Any]]
    _computes: Dict[tuple, Any]
    _vm_sizes: Dict[tuple, Dict[str, Any]]
    _scales: Dict[tuple, Body]
    workspace: Callable[..., Any]  # provided by AzureMLBackend

    def _compute(self, ref: ClusterRef, fresh: bool = True) -> Any:
        """The ``AmlCompute`` of a cluster: a GET, or (``fresh=False``) the object this backend already holds,
        for calls that only need its endpoint or refresh it themselves (update, delete, list_nodes)."""
        from azureml.core.compute import AmlCompute

        if not fresh:
            with self._lock:
                held = self._computes.get(self._cluster_key(ref))
            if held is not None:
                return held
        ws = self.workspace(ref.workspace_ref)
        with translated("Cluster", ref.cluster):
            ct = AmlCompute(ws, translate.compute_name(ref.cluster))
        self._remember_cluster(ref, ct)
        return ct

    def _cluster_key(self, ref: ClusterRef) -> tuple:
        return self.mapping.target(ref.workspace_ref) + (translate.compute_name(ref.cluster),)

    def _remember_cluster(self, ref: ClusterRef, ct: Any) -> None:
        """Keep a cluster's Batch AI settings (from its tags): jobs need its mounts and VM size."""
        with self._lock:
            self._cluster_settings[self._cluster_key(ref)] = translate.decode_tags(ct.tags) or {}
            self._computes[self._cluster_key(ref)] = ct

    def cluster_settings(self, ref: ClusterRef) -> Dict[str, Any]:
        """The Batch AI settings of a cluster (cached; a GET the first time). Raises ClusterNotFound."""
        with self._lock:
            known = self._cluster_settings.get(self._cluster_key(ref))
        if known is None:
            self._compute(ref)
            with self._lock:
                known = self._cluster_settings[self._cluster_key(ref)]
        return known

    def vm_size_gpus(self, ws: Any, vm_size: Optional[str], location: Optional[str]) -> Optional[int]:
        """GPUs of one node of ``vm_size`` as Azure ML reports them (``AmlCompute.supported_vmsizes``: the
        ``gpus`` of the location's ``vmSizes`` list, read once per workspace and location); None when the size is
        not listed or the list cannot be read (the node side then counts the node's GPUs itself)."""
        from azureml.core.compute import AmlCompute

        if not vm_size:
            return None
        key = (ws.subscription_id, ws.resource_group, ws.name, str(location or ws.location or "").lower())
        with self._lock:
            sizes = self._vm_sizes.get(key)
        if sizes is None:
            try:
                listed = AmlCompute.supported_vmsizes(ws, location=location or None)
            except Exception as exc:  # the node side counts them instead
                logger.warning("azureml backend: the VM sizes of %s could not be read (%s); the job's nodes count "
                               "their GPUs themselves", location or ws.location, exc)
                return None
            sizes = {str(s.get("name") or "").lower(): s for s in listed or []}
            with self._lock:
                self._vm_sizes[key] = sizes
        found = sizes.get(vm_size.lower())
        if found is None or found.get("gpus") is None:
            return None
        return int(found["gpus"])

    def create_cluster(self, ref: ClusterRef, body: Body) -> Operation:
        from azureml.core.compute import AmlCompute, ComputeTarget

        props = body.get("properties") or {}
        kwargs, notes = clusters.provisioning_kwargs(props, self.idle_seconds)
        ws = self.workspace(ref.workspace_ref)
        subnet = (props.get("subnet") or {}).get("id")
        if subnet and clusters.subnet_subscription(subnet) not in (None, ws.subscription_id):
            raise errors.NotSupported("CrossSubscriptionSubnetNotSupported",
                                      "Azure ML compute clusters can only join a subnet in the workspace's "
                                      f"subscription ({ws.subscription_id}); {subnet} is in another one")
        for note in notes:
            warn(f"clusters.create {ref.cluster}: {note}")
        self.register_mount_datastores(ws, (props.get("nodeSetup") or {}).get("mountVolumes"))
        name = translate.compute_name(ref.cluster)
        task = (props.get("nodeSetup") or {}).get("setupTask")
        if task:
            import copy
            import uuid

            props = copy.deepcopy(props)
            task = props["nodeSetup"]["setupTask"]
            task["stdOutErrPathSuffix"] = (f"{ref.subscription_id}/{ref.resource_group}/workspaces/{ref.workspace}"
                                           f"/clusters/{ref.cluster}/{uuid.uuid4()}")
            values = {clusters.setup_secret_name(name, i): str(s.get("value") or "")
                      for i, s in enumerate(task.get("secrets") or [])}
            for s in task.get("secrets") or []:
                translate.check_secret_value(f"setupTask.secrets[{s.get('name')}]", str(s.get("value") or ""))
            if any(s.get("valueSecretReference") for s in task.get("secrets") or []):
                raise errors.NotSupported("SecretReferenceNotSupported",
                                          "setupTask secrets with valueSecretReference are not supported by the "
                                          "azureml backend: pass the value (kept in the workspace Key Vault)")
            if values:
                with translated("Cluster", ref.cluster):
                    ws.get_default_keyvault().set_secrets(values)
        kwargs["tags"] = translate.encode_tags(ref.cluster, props)
        with self._lock:
            self._scales.pop(self._cluster_key(ref), None)
        kwargs["description"] = f"Batch AI cluster {ref.cluster} (batchai_compat)"
        with translated("Cluster", ref.cluster):
            config = AmlCompute.provisioning_configuration(**kwargs)
            ct = ComputeTarget.create(ws, name, config)

        def poll() -> OperationState:
            # Batch AI's create LRO ended at provisioning-succeeded: poll the ARM operation only
            # (AmlCompute.wait_for_completion would also wait for min_nodes nodes).
            with translated("Cluster", ref.cluster):
                state, error = _internals.operation_state(ct)
                if state == "Succeeded":
                    ct.refresh_state()
                    self._remember_cluster(ref, ct)
                    return OperationState("Succeeded", self._cluster_body(ref, ct))
            if state in ("Failed", "Canceled"):
                message = (error or {}).get("message") if isinstance(error, dict) else str(error or "")
                return OperationState("Failed", error={"code": "ClusterCreationFailed",
                                                       "message": message or f"provisioning {state.lower()}"})
            return OperationState("InProgress")

        return polled(poll, initial=None, delay=1.0)

    def _cluster_body(self, ref: ClusterRef, ct: Any) -> Body:
        with self._lock:
            requested = self._scales.get(self._cluster_key(ref))
        return clusters.body(ref, ct, requested)

    def get_cluster(self, ref: ClusterRef) -> Body:
        return self._cluster_body(ref, self._compute(ref))

    def update_cluster(self, ref: ClusterRef, body: Body) -> Body:
        scale = (body.get("properties") or {}).get("scaleSettings") or {}
        low, high, notes = translate.aml_scale(scale)
        for note in notes:
            warn(f"clusters.update {ref.cluster}: {note}")
        ct = self._compute(ref, fresh=False)
        with translated("Cluster", ref.cluster):
            ct.update(min_nodes=low, max_nodes=max(high, 1))  # refreshes the object, then PATCHes
        with self._lock:
            self._scales[self._cluster_key(ref)] = dict(scale)
        body = self._cluster_body(ref, ct)
        # ct holds the state read just before the PATCH: a node count outside the new bounds means the
        # cluster is resizing now (what Batch AI's update answered), without another GET.
        props = body["properties"]
        if not low <= props["currentNodeCount"] <= max(high, low):
            props["allocationState"] = "resizing"
            counts = props["nodeStateCounts"]
            leaving = min(counts["idleNodeCount"], max(0, props["currentNodeCount"] - max(high, low)))
            counts["idleNodeCount"] -= leaving  # Azure ML removes idle nodes above the new maximum
            counts["leavingNodeCount"] += leaving
        return body

    def delete_cluster(self, ref: ClusterRef) -> Operation:
        ct = self._compute(ref, fresh=False)
        with translated("Cluster", ref.cluster):
            ct.delete()
        with self._lock:
            self._cluster_settings.pop(self._cluster_key(ref), None)
            self._computes.pop(self._cluster_key(ref), None)
            self._scales.pop(self._cluster_key(ref), None)

        def poll() -> OperationState:
            with translated("Cluster", ref.cluster):
                state, error = _internals.operation_state(ct)
            if state == "Succeeded":
                return OperationState("Succeeded")
            if state in ("Failed", "Canceled"):
                return OperationState("Failed", error={"code": "ClusterDeletionFailed", "message": str(error)})
            return OperationState("InProgress")

        return polled(poll, initial=None, delay=1.0)

    def list_clusters(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        from azureml.core.compute import AmlCompute, ComputeTarget

        ws = self.workspace(ref)
        with translated("Workspace", ref.workspace):
            targets = [c for c in ComputeTarget.list(ws) if isinstance(c, AmlCompute)]
        bodies = []
        for ct in targets:
            name = (ct.tags or {}).get(translate.TAG_CLUSTER_NAME) or ct.name
            bodies.append(self._cluster_body(ClusterRef(*ref, name), ct))
        bodies.sort(key=lambda b: b["name"])
        return page(bodies, max_results, continuation)

    def list_cluster_remote_login_information(self, ref: ClusterRef, continuation: Optional[str]) -> Page:
        ct = self._compute(ref, fresh=False)
        with translated("Cluster", ref.cluster):
            nodes = ct.list_nodes()
        return page(clusters.remote_login(nodes), 1000, continuation)

    # -- datastores for mounts -----------------------------------------------------------------
    def register_mount_datastores(self, ws: Any, volumes: Optional[Body]) -> None:
        """Register (idempotently) a datastore per Azure Files / blob mount, with the given keys."""
        from azureml.core import Datastore

        from .jobs import mounts_of

        for mount in mounts_of(volumes, "any"):
            creds = mount["credentials"] or {}
            key = creds.get("accountKey")
            if not key:
                raise errors.InvalidInput("InvalidMountCredentials",
                                          f"mount {mount['relative_mount_path']}: credentials.accountKey is required "
                                          "by the azureml backend (it registers the storage as a datastore)")
            with translated("Datastore", mount["datastore"]):
                if mount["kind"] == "azure_file_share":
                    Datastore.register_azure_file_share(ws, mount["datastore"], mount["container"],
                                                        mount["account"], account_key=key, overwrite=True,
                                                        skip_validation=True)
                else:
                    Datastore.register_azure_blob_container(ws, mount["datastore"], mount["container"],
                                                            mount["account"], account_key=key, overwrite=True,
                                                            skip_validation=True)
