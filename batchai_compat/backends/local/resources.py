"""Builders for the REST bodies the 2018-05-01 service returned, and secret stripping.

Stored bodies keep everything the caller sent (secrets included: the launcher needs them); every
body leaving the backend goes through a ``*_view`` function, which adds the dynamic fields and
strips secrets exactly as the service did (``docs/service-behaviour.md`` §b):

* ``secrets[].value`` removed (``valueSecretReference`` kept: it names a vault, it is not a secret);
* every mount ``credentials`` object returned as ``{}``;
* ``adminUserPassword`` removed (clusters and file servers);
* container registry ``password`` removed;
* deviation: ``performanceCountersSettings.appInsightsReference.instrumentationKey`` is removed as
  well (the service's behaviour was not recorded; a key is treated as a secret).
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional

import isodate

from batchai_compat.backends.base import Body, ClusterRef, ExperimentRef, FileServerRef, JobRef, WorkspaceRef
from batchai_compat.backends.errors import InvalidInput, NotSupported

from . import _util

TYPE_WORKSPACE = "Microsoft.BatchAI/workspaces"
TYPE_EXPERIMENT = "Microsoft.BatchAI/workspaces/experiments"
TYPE_JOB = "Microsoft.BatchAI/workspaces/experiments/jobs"
TYPE_CLUSTER = "Microsoft.BatchAI/workspaces/clusters"
TYPE_FILE_SERVER = "Microsoft.BatchAI/workspaces/fileservers"

DEFAULT_IMAGE = {"publisher": "Canonical", "offer": "UbuntuServer", "sku": "16.04-LTS", "version": "latest"}
DEFAULT_WALL_CLOCK = "P7D"
PRIORITIES = {"low": 0, "normal": 1, "high": 2}

# toolkit settings key -> server toolType
TOOLKITS = {
    "cntkSettings": "cntk",
    "pyTorchSettings": "pytorch",
    "tensorFlowSettings": "tensorflow",
    "caffeSettings": "caffe",
    "caffe2Settings": "caffe2",
    "chainerSettings": "chainer",
    "customToolkitSettings": "custom",
    "customMpiSettings": "mpi",
    "horovodSettings": "horovod",
}
_PROCESS_COUNT_TOOLKITS = ("cntkSettings", "chainerSettings", "horovodSettings", "pyTorchSettings",
                           "customMpiSettings", "caffeSettings")
_JOB_SERVER_FIELDS = ("toolType", "jobOutputDirectoryPathSegment", "creationTime", "provisioningState",
                      "provisioningStateTransitionTime", "executionState", "executionStateTransitionTime",
                      "executionInfo", "experimentName")


# -- workspaces and experiments --------------------------------------------------------------------
def workspace_body(ref: WorkspaceRef, location: str, tags: Optional[Dict[str, str]], created: str) -> Body:
    body: Body = {
        "id": _util.workspace_id(ref),
        "name": ref.workspace,
        "type": TYPE_WORKSPACE,
        "location": location,
        "properties": {"creationTime": created, "provisioningState": "succeeded",
                       "provisioningStateTransitionTime": created},
    }
    if tags is not None:
        body["tags"] = dict(tags)
    return body


def experiment_body(ref: ExperimentRef, created: str) -> Body:
    return {
        "id": _util.experiment_id(ref),
        "name": ref.experiment,
        "type": TYPE_EXPERIMENT,
        "properties": {"creationTime": created, "provisioningState": "succeeded",
                       "provisioningStateTransitionTime": created},
    }


# -- file servers ----------------------------------------------------------------------------------
def file_server_body(ref: FileServerRef, params: Body, created: str, address: str) -> Body:
    """A file server is a directory on this machine; its "IPs" are a loopback address.

    Deviations: ``provisioningState`` is ``succeeded`` at once (the service took minutes);
    ``mountSettings.mountPoint`` is ``/data`` and both IPs are the same loopback address; no
    ``subnet`` is invented when none was given.
    """
    props = copy.deepcopy(params.get("properties") or {})
    disks = props.get("dataDisks")
    if isinstance(disks, dict):
        disks.setdefault("cachingType", "none")
    props.update({
        "mountSettings": {"mountPoint": "/data", "fileServerPublicIP": address, "fileServerInternalIP": address},
        "creationTime": created,
        "provisioningState": "succeeded",
        "provisioningStateTransitionTime": created,
    })
    return {"id": _util.file_server_id(ref), "name": ref.file_server, "type": TYPE_FILE_SERVER, "properties": props}


def file_server_view(stored: Body) -> Body:
    body = copy.deepcopy(stored)
    body.pop(_util.DIGEST_KEY, None)
    ssh = body["properties"].get("sshConfiguration") or {}
    _strip_user_account(ssh.get("userAccountSettings"))
    return body


# -- clusters --------------------------------------------------------------------------------------
def normalize_scale_settings(scale: Optional[Body]) -> Body:
    """Fill the defaults the SDK/service filled; exactly one of manual / autoScale."""
    scale = copy.deepcopy(scale) if scale else {"manual": {"targetNodeCount": 0}}
    manual: Body = scale.get("manual") or {}
    auto: Body = scale.get("autoScale") or {}
    if bool(manual) == bool(auto):
        raise InvalidInput("InvalidScaleSettings", "Exactly one of scaleSettings.manual and "
                           "scaleSettings.autoScale must be specified")
    if manual:
        manual.setdefault("targetNodeCount", 0)
        manual.setdefault("nodeDeallocationOption", "requeue")
        if manual["targetNodeCount"] < 0:
            raise InvalidInput("InvalidScaleSettings", "targetNodeCount must not be negative")
        return {"manual": manual}
    auto.setdefault("initialNodeCount", 0)
    if not 0 <= auto["minimumNodeCount"] <= auto["maximumNodeCount"]:
        raise InvalidInput("InvalidScaleSettings",
                           "autoScale requires 0 <= minimumNodeCount <= maximumNodeCount")
    return {"autoScale": auto}


def cluster_body(ref: ClusterRef, params: Body, created: str) -> Body:
    """The stored cluster body (secrets kept); dynamic fields are added by :func:`cluster_view`."""
    props = copy.deepcopy(params.get("properties") or {})
    props.setdefault("vmPriority", "dedicated")
    props["scaleSettings"] = normalize_scale_settings(props.get("scaleSettings"))
    vm_config = props.get("virtualMachineConfiguration") or {}
    if not vm_config.get("imageReference"):
        vm_config["imageReference"] = dict(DEFAULT_IMAGE)
    props["virtualMachineConfiguration"] = vm_config
    setup = (props.get("nodeSetup") or {}).get("setupTask")
    if setup:
        setup["stdOutErrPathSuffix"] = (f"{ref.subscription_id}/{ref.resource_group}/workspaces/{ref.workspace}"
                                        f"/clusters/{ref.cluster}/{uuid.uuid4()}")
    check_mount_volumes((props.get("nodeSetup") or {}).get("mountVolumes"), "nodeSetup.mountVolumes")
    props.update({"creationTime": created, "provisioningState": "succeeded",
                  "provisioningStateTransitionTime": created})
    return {"id": _util.cluster_id(ref), "name": ref.cluster, "type": TYPE_CLUSTER, "properties": props}


def cluster_view(stored: Body, alloc_state: str, alloc_time: str, errors: Optional[List[Body]],
                 counts: Dict[str, int]) -> Body:
    body = copy.deepcopy(stored)
    body.pop(_util.DIGEST_KEY, None)
    props = body["properties"]
    _strip_user_account(props.get("userAccountSettings"))
    node_setup = props.get("nodeSetup") or {}
    setup = node_setup.get("setupTask")
    if setup:
        _strip_secret_values(setup.get("secrets"))
    _strip_mount_credentials(node_setup.get("mountVolumes"))
    perf = (node_setup.get("performanceCountersSettings") or {}).get("appInsightsReference")
    if isinstance(perf, dict):
        perf.pop("instrumentationKey", None)
    props["allocationState"] = alloc_state
    props["allocationStateTransitionTime"] = alloc_time
    props["currentNodeCount"] = sum(counts.values())
    props["nodeStateCounts"] = {
        "idleNodeCount": counts.get("idle", 0),
        "runningNodeCount": counts.get("running", 0),
        "preparingNodeCount": counts.get("preparing", 0),
        "unusableNodeCount": counts.get("unusable", 0),
        "leavingNodeCount": counts.get("leaving", 0),
    }
    if errors:
        props["errors"] = copy.deepcopy(errors)
    else:
        props.pop("errors", None)
    return body


def check_mount_volumes(volumes: Optional[Body], where: str) -> None:
    """Unmanaged file systems need a real ``mount``; the local backend refuses them loudly."""
    if volumes and volumes.get("unmanagedFileSystems"):
        raise NotSupported(message=(
            f"{where}.unmanagedFileSystems is not supported by the local backend: it would run "
            "'mountCommand' as root on this machine. Mount the file system yourself and use an "
            "Azure File share, blob container or file server mount (local directories) instead."))


# -- jobs ------------------------------------------------------------------------------------------
def tool_type(props: Body) -> str:
    present = [name for name in TOOLKITS if props.get(name) is not None]
    if len(present) != 1:
        raise InvalidInput("InvalidToolkitSettings", "A job must specify exactly one toolkit settings "
                           f"object (customToolkitSettings, tensorFlowSettings, ...); got {present or 'none'}")
    return TOOLKITS[present[0]]


def wall_clock_seconds(props: Body) -> float:
    """``maxWallClockTime`` in seconds: a positive duration Python's ``timedelta`` can hold (at most
    999999999 days, what the SDK's ``timedelta`` can send); anything else is ``InvalidConstraints``."""
    text = (props.get("constraints") or {}).get("maxWallClockTime") or DEFAULT_WALL_CLOCK
    try:
        value = isodate.parse_duration(text)
        if not isinstance(value, timedelta):  # years/months: approximate
            value = value.totimedelta(start=datetime.now(timezone.utc))
    except (isodate.ISO8601Error, ValueError, OverflowError, TypeError) as exc:
        raise InvalidInput("InvalidConstraints", f"maxWallClockTime {text!r} is not an ISO 8601 duration of at "
                           "most 999999999 days") from exc
    if value <= timedelta(0):
        raise InvalidInput("InvalidConstraints", f"maxWallClockTime {text!r} must be a positive duration")
    return value.total_seconds()


def _fill_toolkit_defaults(props: Body, node_count: int) -> None:
    for name in _PROCESS_COUNT_TOOLKITS:
        settings = props.get(name)
        if settings is not None and settings.get("processCount") is None:
            settings["processCount"] = node_count
    cntk = props.get("cntkSettings")
    if cntk is not None and not cntk.get("languageType"):
        cntk["languageType"] = "Python" if cntk.get("pythonScriptFilePath") else "BrainScript"
    tf = props.get("tensorFlowSettings")
    if tf is not None:
        counts_given = tf.get("workerCount") is not None or tf.get("parameterServerCount") is not None
        if node_count > 1 or counts_given:
            if tf.get("workerCount") is None:
                tf["workerCount"] = node_count
            if tf.get("parameterServerCount") is None:
                tf["parameterServerCount"] = 1


def job_body(ref: JobRef, params: Body, created: str, job_uid: str) -> Body:
    """The stored job body (secrets kept), with every server-filled static field
    (``docs/service-behaviour.md`` §b.5)."""
    props = {k: copy.deepcopy(v) for k, v in (params.get("properties") or {}).items()
             if k not in _JOB_SERVER_FIELDS}
    node_count = props.get("nodeCount")
    if isinstance(node_count, bool) or not isinstance(node_count, int) or not 1 <= node_count <= 2 ** 31 - 1:
        raise InvalidInput("InvalidNodeCount", "nodeCount must be a positive 32-bit integer (1..2147483647)")
    props["toolType"] = tool_type(props)
    props.setdefault("schedulingPriority", "normal")
    if props["schedulingPriority"] not in PRIORITIES:
        raise InvalidInput("InvalidSchedulingPriority",
                           f"schedulingPriority must be one of low, normal, high, not {props['schedulingPriority']!r}")
    constraints = props.get("constraints") or {}
    constraints.setdefault("maxWallClockTime", DEFAULT_WALL_CLOCK)
    if constraints.get("maxWallClockTime") is None:
        constraints["maxWallClockTime"] = DEFAULT_WALL_CLOCK
    props["constraints"] = constraints
    wall_clock_seconds(props)  # validate now, fail at create like the service
    check_mount_volumes(props.get("mountVolumes"), "mountVolumes")
    _fill_toolkit_defaults(props, node_count)
    props["jobOutputDirectoryPathSegment"] = (
        f"{ref.subscription_id}/{ref.resource_group}/workspaces/{ref.workspace}/experiments/{ref.experiment}"
        f"/jobs/{ref.job}/{job_uid}")
    props.update({"creationTime": created, "provisioningState": "succeeded",
                  "provisioningStateTransitionTime": created, "experimentName": ref.experiment})
    return {"id": _util.job_id(ref), "name": ref.job, "type": TYPE_JOB, "properties": props}


def job_view(stored: Body, state: str, state_time: str, exec_info: Optional[Body]) -> Body:
    body = copy.deepcopy(stored)
    body.pop(_util.DIGEST_KEY, None)
    body.pop(_util.CONTAINER_RUNTIME_KEY, None)
    props = body["properties"]
    _strip_secret_values(props.get("secrets"))
    _strip_mount_credentials(props.get("mountVolumes"))
    registry = (props.get("containerSettings") or {}).get("imageSourceRegistry") or {}
    if isinstance(registry.get("credentials"), dict):
        registry["credentials"].pop("password", None)
    props["executionState"] = state
    props["executionStateTransitionTime"] = state_time
    if exec_info:
        props["executionInfo"] = copy.deepcopy(exec_info)
    else:
        props.pop("executionInfo", None)
    return body


# -- secret stripping ------------------------------------------------------------------------------
def _strip_secret_values(secrets: Optional[List[Body]]) -> None:
    for item in secrets or ():
        item.pop("value", None)


def _strip_mount_credentials(volumes: Optional[Body]) -> None:
    for kind in ("azureFileShares", "azureBlobFileSystems"):
        for mount in (volumes or {}).get(kind) or ():
            if "credentials" in mount:
                mount["credentials"] = {}


def _strip_user_account(account: Optional[Body]) -> None:
    if isinstance(account, dict):
        account.pop("adminUserPassword", None)
