"""Clusters ↔ AmlCompute (``docs/azureml-mapping.md`` §1.2, §1.6, §2.2).

``provisioning_kwargs`` is the pure translation of ``ClusterCreateParameters.properties`` into the
keyword arguments of ``AmlCompute.provisioning_configuration``; the rest drives azureml-core.

Deviations (each warned once per call with a ``BatchAICompatWarning``):

* ``nodeDeallocationOption`` (requeue/terminate) and ``autoScale.initialNodeCount``: no equivalent;
* ``virtualMachineConfiguration.imageReference`` (marketplace): ignored, jobs run in containers;
  a custom ``virtualMachineImageId`` is refused (``NotSupported``);
* ``nodeSetup.setupTask``: Azure ML has no node start task; it runs in each job's container, on every
  node of the job, before the job (``nodeside``), as the container user;
* ``nodeSetup.performanceCountersSettings``: ignored (Azure ML has its own metrics);
* file-server and unmanaged mounts: refused; Azure Files / blob mounts are kept on the cluster and
  added to every job as data references.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from batchai_compat.backends import errors
from batchai_compat.backends.base import Body, ClusterRef

from . import translate

FILE_SERVER_HINT = ("Azure ML has no managed NFS file server. Put the data on an Azure Files share (NFS or SMB) "
                    "or an Azure NetApp Files volume and mount it as azureFileShares, or register it as an "
                    "Azure ML datastore.")


def check_mount_volumes(volumes: Optional[Body], where: str) -> None:
    volumes = volumes or {}
    if volumes.get("fileServers"):
        raise errors.NotSupported("FileServersNotSupported",
                                  f"{where}: mounting Batch AI file servers is not supported by the azureml "
                                  f"backend. {FILE_SERVER_HINT}")
    if volumes.get("unmanagedFileSystems"):
        raise errors.NotSupported("UnmanagedFileSystemsNotSupported",
                                  f"{where}: unmanagedFileSystems (arbitrary mount commands) are not supported by "
                                  "the azureml backend: Azure ML nodes only mount datastores. Register the storage "
                                  "as an Azure ML datastore (Azure Files or blob) and mount it as azureFileShares "
                                  "or azureBlobFileSystems.")


def provisioning_kwargs(props: Body, idle_seconds: Optional[int] = None) -> Tuple[Dict[str, Any], List[str]]:
    """Keyword arguments for ``AmlCompute.provisioning_configuration`` and the degradation notes.

    Raises :class:`~batchai_compat.backends.errors.NotSupported` for what cannot be expressed at all.
    """
    notes: List[str] = []
    scale = props.get("scaleSettings") or {"manual": {"targetNodeCount": 0}}
    min_nodes, max_nodes, scale_notes = translate.aml_scale(scale)
    notes.extend(scale_notes)
    if max_nodes < 1:
        # AmlCompute needs max_nodes >= 1; a Batch AI cluster could be created with 0 nodes.
        max_nodes = 1
        notes.append("a cluster of 0 nodes is created as an Azure ML cluster with min 0 / max 1 node "
                     "(Azure ML requires max_nodes >= 1): it reports targetNodeCount 0, but a job submitted to it "
                     "makes Azure ML add one node instead of waiting in the queue as on Batch AI")
    kwargs: Dict[str, Any] = {
        "vm_size": props.get("vmSize") or "",
        "vm_priority": (props.get("vmPriority") or "dedicated").lower(),
        "min_nodes": min_nodes,
        "max_nodes": max_nodes,
    }
    if idle_seconds is not None:
        kwargs["idle_seconds_before_scaledown"] = int(idle_seconds)
    user = props.get("userAccountSettings") or {}
    if user.get("adminUserName"):
        kwargs["admin_username"] = user["adminUserName"]
        if user.get("adminUserPassword"):
            kwargs["admin_user_password"] = user["adminUserPassword"]
        if user.get("adminUserSshPublicKey"):
            kwargs["admin_user_ssh_key"] = user["adminUserSshPublicKey"]
        # Batch AI nodes were always reachable over SSH.
        kwargs["remote_login_port_public_access"] = "Enabled"
    subnet = (props.get("subnet") or {}).get("id")
    if subnet:
        kwargs.update(_subnet(subnet))
    vm = props.get("virtualMachineConfiguration") or {}
    image = vm.get("imageReference") or {}
    if image.get("virtualMachineImageId"):
        raise errors.NotSupported("CustomImageNotSupported",
                                  "Custom VM images (imageReference.virtualMachineImageId) are not supported by "
                                  "Azure ML compute clusters. Build a Docker image with the software instead and "
                                  "pass it as the job's containerSettings.")
    if image and {k: image.get(k) for k in translate.DEFAULT_IMAGE} != translate.DEFAULT_IMAGE:
        notes.append(f"virtualMachineConfiguration.imageReference {image.get('offer')}/{image.get('sku')} is "
                     "ignored: Azure ML chooses the node OS and runs every job in a container "
                     "(use containerSettings)")
    setup = props.get("nodeSetup") or {}
    check_mount_volumes(setup.get("mountVolumes"), "nodeSetup.mountVolumes")
    if setup.get("setupTask"):
        notes.append("nodeSetup.setupTask: Azure ML has no node start task, so it runs inside every job's "
                     "container on each of the job's nodes before the job starts (as the container user, not as "
                     "root on the host); a failure fails that job (SetupTaskFailed) instead of making the node "
                     "unusable. Software it installs is best baked into the job's Docker image")
    if setup.get("performanceCountersSettings"):
        notes.append("nodeSetup.performanceCountersSettings is ignored: Azure ML collects node metrics itself "
                     "(see the run's Monitoring tab / Application Insights of the workspace)")
    if setup.get("mountVolumes") and _has_mounts(setup["mountVolumes"]):
        notes.append("cluster-level mount volumes are mounted per job (as Azure ML data references) rather than "
                     "on the nodes: they appear under $AZ_BATCHAI_MOUNT_ROOT only while a job runs")
    return kwargs, notes


def setup_secret_name(compute: str, index: int) -> str:
    """Key Vault name of a setup task secret (the values never go into compute tags): compute names are 2-16
    letters, digits and ``-``, so the name is valid for Key Vault (1-127 of ``[0-9A-Za-z-]``) and unique."""
    import re

    name = re.sub(r"[^A-Za-z0-9-]", "-", f"batchai-setup-{compute}-{index}")
    if not translate.KEYVAULT_NAME_RE.match(name):  # not a valid compute name: keep it unique and short
        import hashlib

        name = f"batchai-setup-{hashlib.sha256(compute.encode('utf-8')).hexdigest()[:48]}-{index}"
    return name


def _has_mounts(volumes: Body) -> bool:
    return bool(volumes.get("azureFileShares") or volumes.get("azureBlobFileSystems"))


def _subnet(subnet_id: str) -> Dict[str, str]:
    parts = [p for p in subnet_id.split("/") if p]
    lower = [p.lower() for p in parts]
    try:
        return {"vnet_resourcegroup_name": parts[lower.index("resourcegroups") + 1],
                "vnet_name": parts[lower.index("virtualnetworks") + 1],
                "subnet_name": parts[lower.index("subnets") + 1]}
    except (ValueError, IndexError) as exc:
        raise errors.InvalidInput("InvalidSubnet", f"subnet.id {subnet_id!r} is not a subnet resource id") from exc


def subnet_subscription(subnet_id: str) -> Optional[str]:
    parts = [p for p in subnet_id.split("/") if p]
    lower = [p.lower() for p in parts]
    try:
        return parts[lower.index("subscriptions") + 1]
    except (ValueError, IndexError):
        return None


def compute_facts(ct: Any) -> Dict[str, Any]:
    """Plain values of an ``AmlCompute`` for :func:`translate.cluster_body`."""
    scale = getattr(ct, "scale_settings", None)
    status = getattr(ct, "status", None)
    status_dict = None
    if status is not None:
        counts = getattr(status, "node_state_counts", None)
        status_dict = {
            "allocation_state": getattr(status, "allocation_state", None),
            "allocation_state_transition_time": getattr(status, "allocation_state_transition_time", None),
            "creation_time": getattr(status, "creation_time", None),
            "current_node_count": getattr(status, "current_node_count", None),
            "errors": getattr(status, "errors", None),
            "provisioning_state_transition_time": getattr(status, "provisioning_state_transition_time", None),
            "node_state_counts": None if counts is None else {
                k: getattr(counts, k, 0) for k in ("idle_node_count", "leaving_node_count", "preempted_node_count",
                                                   "preparing_node_count", "running_node_count",
                                                   "unusable_node_count")},
        }
    return {
        "provisioning_state": getattr(ct, "provisioning_state", None),
        "provisioning_errors": getattr(ct, "provisioning_errors", None),
        "created_on": getattr(ct, "created_on", None),
        "vm_size": getattr(ct, "vm_size", None),
        "vm_priority": getattr(ct, "vm_priority", None),
        "min_nodes": getattr(scale, "minimum_node_count", None),
        "max_nodes": getattr(scale, "maximum_node_count", None),
        "admin_username": getattr(ct, "admin_username", None),
        "tags": getattr(ct, "tags", None),
        "status": status_dict,
    }


def body(ref: ClusterRef, ct: Any, requested_scale: Optional[Body] = None) -> Body:
    return translate.cluster_body(ref, compute_facts(ct), requested_scale)


def remote_login(nodes: List[Dict[str, Any]], run_id: Optional[str] = None) -> List[Body]:
    """``RemoteLoginInformation`` bodies from ``AmlCompute.list_nodes()`` (optionally one run's nodes).

    ``port`` of an ``AmlComputeNodeInformation`` is the SSH port on the node's *public* address (the load
    balancer's NAT port), so it is paired with ``publicIpAddress`` only. A node without a public address
    (``enable_node_public_ip=False``) is reached on its private address, within the virtual network, on
    the SSH port 22.
    """
    result = []
    for node in nodes:
        if run_id is not None and node.get("runId") != run_id:
            continue
        public, private = node.get("publicIpAddress"), node.get("privateIpAddress")
        if public:
            address, port = public, int(node.get("port") or 22)
        elif private:
            address, port = private, 22
        else:
            continue
        result.append({"nodeId": str(node.get("nodeId")), "ipAddress": str(address), "port": port})
    return result
