"""Batch AI REST bodies ↔ Azure ML objects: ids, names, secret stripping, states (``docs/azureml-mapping.md`` §1.8, §2).

Pure functions over dicts and plain attributes; nothing here imports azureml, so every rule can be
tested without a server.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from batchai_compat.backends.base import Body, ClusterRef, ExperimentRef, JobRef, WorkspaceRef

PROVIDER = "Microsoft.BatchAI"
TYPE_WORKSPACE = "Microsoft.BatchAI/workspaces"
TYPE_EXPERIMENT = "Microsoft.BatchAI/workspaces/experiments"
TYPE_JOB = "Microsoft.BatchAI/workspaces/experiments/jobs"
TYPE_CLUSTER = "Microsoft.BatchAI/workspaces/clusters"

DEFAULT_IMAGE = {"publisher": "Canonical", "offer": "UbuntuServer", "sku": "16.04-LTS", "version": "latest"}

# Tags and properties the backend owns on AML objects.
PROP_JOB = "batchai.job_name"
TAG_DELETED = "batchai.deleted"
TAG_CLUSTER_NAME = "batchai.name"
TAG_CLUSTER_SPEC = "batchai.cluster"  # chunked: batchai.cluster.0, .1, ... (ARM tag values <= 256 chars)
PROP_SPEC = "batchai.spec"
PROP_DIGEST = "batchai.request_digest"
PROP_TOOL = "batchai.tool_type"
PROP_SEGMENT = "batchai.output_segment"
PROP_CREATED = "batchai.creation_time"
# Set on every run this backend submits, with this value; only such runs are ever read, canceled or tagged.
PROP_OWNER = "batchai.backend"
OWNER = "batchai_compat"
PROP_SPEC_CHUNKS = "batchai.spec.chunks"  # the spec is split over batchai.spec.0, .1, ... (see spec_properties)

# Azure ML run limits, "Service limits in Azure Machine Learning", Runs table
# (https://learn.microsoft.com/azure/machine-learning/resource-limits-capacity): 50 properties and 50 tags per
# run, keys of at most 100 characters, values of at most 1,000 characters; RunId at most 256 characters.
RUN_MAX_PROPERTIES = 50
RUN_MAX_TAGS = 50
RUN_KEY_MAX = 100
RUN_VALUE_MAX = 1000
RUN_ID_MAX = 256
# Properties azureml-core adds to a ScriptRunConfig run on its own (_azureml.ComputeTargetType,
# ContentSnapshotId, ProcessInfoFile, ProcessStatusFile, azureml.git.* / mlflow.source.git.* when the source
# directory is in a git repository...): the job spec may use what is left.
AZUREML_OWN_PROPERTIES = 20
# Key Vault object names: "a 1-127 character string, containing only 0-9, a-z, A-Z, and -"
# (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates, "Object identifiers");
# a secret value is at most 25k bytes (https://learn.microsoft.com/azure/key-vault/secrets/about-secrets).
KEYVAULT_NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")
KEYVAULT_VALUE_MAX = 25 * 1024
TAG_CHUNK = 250
MAX_TAG_CHUNKS = 40

TOOLKITS = [
    ("customToolkitSettings", "custom"),
    ("customMpiSettings", "mpi"),
    ("horovodSettings", "horovod"),
    ("tensorFlowSettings", "tensorflow"),
    ("pyTorchSettings", "pytorch"),
    ("caffe2Settings", "caffe2"),
    ("cntkSettings", "cntk"),
    ("caffeSettings", "caffe"),
    ("chainerSettings", "chainer"),
]
_PROCESS_COUNT_TOOLKITS = ("cntkSettings", "chainerSettings", "horovodSettings", "pyTorchSettings",
                           "customMpiSettings", "caffeSettings")


# -- ids -------------------------------------------------------------------------------------------
def workspace_id(ref: WorkspaceRef) -> str:
    return (f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}"
            f"/providers/{PROVIDER}/workspaces/{ref.workspace}")


def experiment_id(ref: ExperimentRef) -> str:
    return f"{workspace_id(ref.workspace_ref)}/experiments/{ref.experiment}"


def job_id(ref: JobRef) -> str:
    return f"{experiment_id(ref.experiment_ref)}/jobs/{ref.job}"


def cluster_id(ref: ClusterRef) -> str:
    return f"{workspace_id(ref.workspace_ref)}/clusters/{ref.cluster}"


def parse_cluster_id(arm_id: str) -> Tuple[Optional[str], Optional[str], Optional[str], str]:
    """``(subscription, resource group, workspace, cluster)`` of a Batch AI cluster id (parts may be None)."""
    parts = [p for p in str(arm_id or "").split("/") if p]
    lower = [p.lower() for p in parts]

    def after(word: str) -> Optional[str]:
        try:
            return parts[lower.index(word) + 1]
        except (ValueError, IndexError):
            return None

    return after("subscriptions"), after("resourcegroups"), after("workspaces"), (parts[-1] if parts else "")


# -- names -----------------------------------------------------------------------------------------
_AML_COMPUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,15}$")
RESERVED_COMPUTE_NAMES = {"amlcompute", "local", "containerinstance"}


def compute_name(cluster: str) -> str:
    """The AmlCompute name for a Batch AI cluster name (2-16 chars of letters, digits, ``-``).

    Valid names are kept; others are derived deterministically (so lookups need no side table):
    lower-cased, invalid characters → ``-``, cut to 11 chars, plus ``-`` and 4 hex digits of a hash.
    """
    if _AML_COMPUTE_NAME.match(cluster) and cluster.lower() not in RESERVED_COMPUTE_NAMES \
            and not cluster.endswith("-"):
        return cluster
    digest = hashlib.sha256(cluster.encode("utf-8")).hexdigest()[:4]
    stem = re.sub(r"[^a-z0-9-]", "-", cluster.lower())
    stem = stem.lstrip("-0123456789") or "c"
    return f"{stem[:11].rstrip('-')}-{digest}"


def new_run_id(experiment: str, job: str, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", f"{experiment}_{job}")[:200]
    return f"{stem}_{suffix}"


def secret_name(run_id: str, index: int) -> str:
    """Key Vault name of a job's ``index``-th secret: unique per run and index, valid for Key Vault whatever the
    run id's length (a digest of the run id, never a cut: cut names of long runs collided)."""
    name = f"batchai-{hashlib.sha256(run_id.encode('utf-8')).hexdigest()[:48]}-{index}"
    assert KEYVAULT_NAME_RE.match(name), name
    return name


def check_secret_value(where: str, value: str) -> None:
    """Refuse a secret Key Vault would refuse, before anything is written or started."""
    if len(value.encode("utf-8")) > KEYVAULT_VALUE_MAX:
        from batchai_compat.backends import errors

        raise errors.InvalidInput("SecretTooLarge", f"{where}: the value is {len(value.encode('utf-8'))} bytes; the "
                                  f"azureml backend keeps secrets in the workspace Key Vault, whose secret values "
                                  f"are at most {KEYVAULT_VALUE_MAX} bytes")


# -- run properties (Azure ML limits, checked before a run is submitted) ---------------------------
def spec_properties(spec_text: str, fixed: Dict[str, str]) -> Dict[str, str]:
    """The run properties of a job: ``fixed`` plus the spec split into chunks of at most 1,000 characters.

    Raises ``InvalidInput`` (before anything is submitted) when the properties would break a documented
    Azure ML limit: a run cannot be made to accept them later, and a job whose properties were refused after
    its run started would run unseen by Batch AI calls.
    """
    from batchai_compat.backends import errors

    chunks = [spec_text[i:i + RUN_VALUE_MAX] for i in range(0, len(spec_text), RUN_VALUE_MAX)] or [""]
    props = dict(fixed)
    props[PROP_SPEC_CHUNKS] = str(len(chunks))
    props.update({f"{PROP_SPEC}.{i}": chunk for i, chunk in enumerate(chunks)})
    budget = RUN_MAX_PROPERTIES - AZUREML_OWN_PROPERTIES
    if len(props) > budget:
        raise errors.InvalidInput(
            "JobSpecificationTooLarge",
            f"The job's definition is {len(spec_text)} characters once secrets are removed; the azureml backend "
            f"keeps it in run properties (Azure ML: at most {RUN_MAX_PROPERTIES} properties of at most "
            f"{RUN_VALUE_MAX} characters per run, some used by Azure ML itself), so it can hold at most "
            f"{(budget - len(fixed) - 1) * RUN_VALUE_MAX} characters. Shorten command lines or move long "
            "environment variable values into a file on a mounted share")
    check_run_properties(props)
    return props


def check_run_properties(props: Dict[str, str]) -> None:
    from batchai_compat.backends import errors

    for key, value in props.items():
        if len(key) > RUN_KEY_MAX or len(str(value)) > RUN_VALUE_MAX:
            raise errors.InvalidInput("RunPropertyTooLong",
                                      f"run property {key[:40]!r}... breaks an Azure ML limit (keys at most "
                                      f"{RUN_KEY_MAX}, values at most {RUN_VALUE_MAX} characters)")


def spec_from_properties(props: Dict[str, Any]) -> Optional[str]:
    """The spec text kept by :func:`spec_properties` (or, for older runs, in the single ``batchai.spec``)."""
    count = props.get(PROP_SPEC_CHUNKS)
    if count is None:
        return props.get(PROP_SPEC)
    try:
        n = int(count)
    except ValueError:
        return None
    parts = [props.get(f"{PROP_SPEC}.{i}") for i in range(n)]
    if any(p is None for p in parts):
        return None
    return "".join(str(p) for p in parts)


def is_ours(run_properties: Optional[Dict[str, Any]], job: Optional[str] = None) -> bool:
    """Whether a run returned by a query is one this backend submitted (for ``job``, when given): a server
    that ignored the query's filter must not make another run pass for a job."""
    props = run_properties or {}
    if props.get(PROP_OWNER) != OWNER or not props.get(PROP_JOB):
        return False
    return job is None or props.get(PROP_JOB) == job


# -- secrets ---------------------------------------------------------------------------------------
def strip_credentials(credentials: Any) -> Dict[str, Any]:
    """Mount ``credentials`` come back as ``{}`` (keys and key-vault references are both dropped)."""
    return {}


def strip_mount_volumes(volumes: Optional[Body]) -> Optional[Body]:
    if not volumes:
        return volumes
    volumes = copy.deepcopy(volumes)
    for key in ("azureFileShares", "azureBlobFileSystems"):
        for item in volumes.get(key) or []:
            if "credentials" in item:
                item["credentials"] = strip_credentials(item["credentials"])
    return volumes


def strip_job_secrets(props: Body) -> Body:
    """A copy of job properties without secret values (``secrets[].value``, registry passwords, keys)."""
    props = copy.deepcopy(props)
    if props.get("secrets") is not None:
        props["secrets"] = [{k: v for k, v in s.items() if k != "value"} for s in props["secrets"]]
    registry = ((props.get("containerSettings") or {}).get("imageSourceRegistry") or {})
    creds = registry.get("credentials")
    if isinstance(creds, dict):
        creds.pop("password", None)
    if props.get("mountVolumes"):
        props["mountVolumes"] = strip_mount_volumes(props["mountVolumes"])
    return props


def strip_cluster_secrets(props: Body) -> Body:
    props = copy.deepcopy(props)
    user = props.get("userAccountSettings")
    if isinstance(user, dict):
        user.pop("adminUserPassword", None)
    setup = props.get("nodeSetup") or {}
    if setup.get("mountVolumes"):
        setup["mountVolumes"] = strip_mount_volumes(setup["mountVolumes"])
    task = setup.get("setupTask") or {}
    if task.get("secrets") is not None:
        task["secrets"] = [{k: v for k, v in s.items() if k != "value"} for s in task["secrets"]]
    perf = (setup.get("performanceCountersSettings") or {}).get("appInsightsReference") or {}
    perf.pop("instrumentationKey", None)
    return props


def request_digest(body: Body) -> str:
    """Digest of a create request, to recognise a repeated PUT. Computed without the secret values, so the
    stored digest cannot be used to guess them."""
    stripped = dict(body)
    if isinstance(body.get("properties"), dict):
        stripped["properties"] = strip_job_secrets(body["properties"])
    canonical = json.dumps(stripped, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- compute tags (chunked JSON) -------------------------------------------------------------------
def encode_tags(cluster_name: str, props: Body) -> Dict[str, str]:
    """Compute tags holding the original Batch AI name and settings (secrets stripped), chunked."""
    text = json.dumps(strip_cluster_secrets(props), separators=(",", ":"), sort_keys=True)
    chunks = [text[i:i + TAG_CHUNK] for i in range(0, len(text), TAG_CHUNK)] or [""]
    if len(chunks) > MAX_TAG_CHUNKS:
        # Too large for ARM tags: keep what the GET view needs most.
        slim = {k: props.get(k) for k in ("vmSize", "vmPriority", "scaleSettings") if props.get(k) is not None}
        text = json.dumps(slim, separators=(",", ":"), sort_keys=True)
        chunks = [text[i:i + TAG_CHUNK] for i in range(0, len(text), TAG_CHUNK)]
    tags = {TAG_CLUSTER_NAME: cluster_name}
    tags.update({f"{TAG_CLUSTER_SPEC}.{i}": chunk for i, chunk in enumerate(chunks)})
    return tags


def decode_tags(tags: Optional[Dict[str, str]]) -> Optional[Body]:
    tags = tags or {}
    chunks = []
    i = 0
    while f"{TAG_CLUSTER_SPEC}.{i}" in tags:
        chunks.append(tags[f"{TAG_CLUSTER_SPEC}.{i}"])
        i += 1
    if not chunks:
        return None
    try:
        value = json.loads("".join(chunks))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# -- times -----------------------------------------------------------------------------------------
def iso(value: Any) -> Optional[str]:
    """ISO 8601 UTC with milliseconds (``2018-06-12T10:11:12.345Z``) from a datetime or a string."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return str(value)


def now_iso() -> str:
    return iso(datetime.now(timezone.utc)) or ""


# -- workspaces and experiments --------------------------------------------------------------------
def workspace_body(ref: WorkspaceRef, location: Optional[str], tags: Optional[Dict[str, str]],
                   created: Optional[str]) -> Body:
    created = created or now_iso()
    body: Body = {"id": workspace_id(ref), "name": ref.workspace, "type": TYPE_WORKSPACE, "location": location,
                  "properties": {"creationTime": created, "provisioningState": "succeeded",
                                 "provisioningStateTransitionTime": created}}
    if tags:
        body["tags"] = dict(tags)
    return body


def experiment_body(ref: ExperimentRef, created: Optional[str]) -> Body:
    created = created or now_iso()
    return {"id": experiment_id(ref), "name": ref.experiment, "type": TYPE_EXPERIMENT,
            "properties": {"creationTime": created, "provisioningState": "succeeded",
                           "provisioningStateTransitionTime": created}}


# -- clusters (``docs/azureml-mapping.md`` §2.2) ---------------------------------------------------
PROVISIONING = {"creating": "creating", "unknown": "creating", "succeeded": "succeeded", "updating": "succeeded",
                "failed": "failed", "canceled": "failed", "deleting": "deleting"}


def aml_scale(scale: Body) -> Tuple[int, int, List[str]]:
    """``(min_nodes, max_nodes, notes)`` for Batch AI ``scaleSettings``; notes name what has no equivalent."""
    notes: List[str] = []
    manual, auto = scale.get("manual"), scale.get("autoScale")
    if manual:
        n = int(manual.get("targetNodeCount") or 0)
        option = (manual.get("nodeDeallocationOption") or "requeue").lower()
        if option != "waitforjobcompletion":
            notes.append(f"nodeDeallocationOption={option!r} has no Azure ML equivalent: AmlCompute only removes "
                         "idle nodes, which behaves like 'waitforjobcompletion'")
        return n, n, notes
    auto = auto or {}
    low, high = int(auto.get("minimumNodeCount") or 0), int(auto.get("maximumNodeCount") or 0)
    initial = auto.get("initialNodeCount")
    if initial not in (None, 0, low):
        notes.append(f"autoScale.initialNodeCount={initial} has no Azure ML equivalent: the cluster starts with "
                     f"minimumNodeCount={low} nodes and grows when jobs are queued")
    return low, high, notes


def batchai_scale(min_nodes: Optional[int], max_nodes: Optional[int]) -> Body:
    low, high = int(min_nodes or 0), int(max_nodes or 0)
    if low == high:
        return {"manual": {"targetNodeCount": low, "nodeDeallocationOption": "requeue"}}
    return {"autoScale": {"minimumNodeCount": low, "maximumNodeCount": high, "initialNodeCount": low}}


def _scale_matches(stored: Optional[Body], min_nodes: Optional[int], max_nodes: Optional[int]) -> bool:
    if not stored:
        return False
    low, high, _ = aml_scale(stored)
    return (low, max(high, 1)) == (int(min_nodes or 0), max(int(max_nodes or 0), 1))


def cluster_body(ref: ClusterRef, compute: Dict[str, Any], requested_scale: Optional[Body] = None) -> Body:
    """The Batch AI ``Cluster`` body for an AmlCompute described by ``compute``.

    ``compute`` holds plain values read from the azureml object: ``provisioning_state``, ``created_on``,
    ``vm_size``, ``vm_priority``, ``min_nodes``, ``max_nodes``, ``admin_username``, ``tags``,
    ``provisioning_errors`` and ``status`` (``None`` or a dict of ``AmlComputeStatus`` fields).
    """
    stored = decode_tags(compute.get("tags")) or {}
    props: Body = copy.deepcopy(stored)
    created = iso(compute.get("created_on")) or iso((compute.get("status") or {}).get("creation_time")) \
        or now_iso()
    status = compute.get("status") or {}
    min_nodes, max_nodes = compute.get("min_nodes"), compute.get("max_nodes")
    # The settings last asked for (this process), else the original ones (tags), when the live min/max still
    # match them; otherwise derived from the live min/max.
    scale = None
    for candidate in (requested_scale, stored.get("scaleSettings")):
        if _scale_matches(candidate, min_nodes, max_nodes):
            scale = copy.deepcopy(candidate)
            break
    if scale is None:
        scale = batchai_scale(min_nodes, max_nodes)
    if scale.get("autoScale") is not None and scale["autoScale"].get("initialNodeCount") is None:
        scale["autoScale"]["initialNodeCount"] = 0
    counts = status.get("node_state_counts") or {}
    node_counts = {
        "idleNodeCount": int(counts.get("idle_node_count") or 0),
        "runningNodeCount": int(counts.get("running_node_count") or 0),
        "preparingNodeCount": int(counts.get("preparing_node_count") or 0),
        "unusableNodeCount": int(counts.get("unusable_node_count") or 0)
        + int(counts.get("preempted_node_count") or 0),
        "leavingNodeCount": int(counts.get("leaving_node_count") or 0),
    }
    allocation = str(status.get("allocation_state") or "steady").lower()
    provisioning = PROVISIONING.get(str(compute.get("provisioning_state") or "creating").lower(), "creating")
    props.update({
        "vmSize": compute.get("vm_size") or stored.get("vmSize"),
        "vmPriority": (compute.get("vm_priority") or stored.get("vmPriority") or "dedicated").lower(),
        "scaleSettings": scale,
        "creationTime": created,
        "provisioningState": provisioning,
        "provisioningStateTransitionTime": iso(status.get("provisioning_state_transition_time")) or created,
        "allocationState": "resizing" if allocation == "resizing" else "steady",
        "allocationStateTransitionTime": iso(status.get("allocation_state_transition_time")) or created,
        # Batch AI: currentNodeCount is the sum of the five counts (AML leaves preparing nodes out).
        "currentNodeCount": max(int(status.get("current_node_count") or 0), sum(node_counts.values())),
        "nodeStateCounts": node_counts,
    })
    props.setdefault("virtualMachineConfiguration", {"imageReference": dict(DEFAULT_IMAGE)})
    if compute.get("admin_username") and not props.get("userAccountSettings"):
        props["userAccountSettings"] = {"adminUserName": compute["admin_username"]}
    errors = list(compute.get("provisioning_errors") or []) + list(status.get("errors") or [])
    props["errors"] = [_error_body(e) for e in errors] or None
    if props["errors"] is None:
        del props["errors"]
    return {"id": cluster_id(ref), "name": ref.cluster, "type": TYPE_CLUSTER,
            "properties": strip_cluster_secrets(props)}


def _error_body(error: Any) -> Body:
    if isinstance(error, dict):
        nested = error.get("error")
        inner: Dict[str, Any] = nested if isinstance(nested, dict) else error
        return {"code": str(inner.get("code") or "ClusterError"), "message": str(inner.get("message") or "")}
    return {"code": str(getattr(error, "code", None) or "ClusterError"),
            "message": str(getattr(error, "message", None) or error)}


# -- jobs (``docs/azureml-mapping.md`` §1.7, §2.1) -------------------------------------------------
def toolkit(props: Body) -> Tuple[str, Optional[str]]:
    for key, tool in TOOLKITS:
        if props.get(key) is not None:
            return tool, key
    return "custom", None


def normalize_job(ref: JobRef, props: Body, segment_uid: str) -> Body:
    """Server-filled defaults of a new job (``docs/service-behaviour.md`` §b.5), secrets still included."""
    props = copy.deepcopy(props)
    tool, key = toolkit(props)
    node_count = int(props.get("nodeCount") or 1)
    props["nodeCount"] = node_count
    if key in _PROCESS_COUNT_TOOLKITS and props[key].get("processCount") is None:
        props[key]["processCount"] = node_count
    if key == "tensorFlowSettings":
        tf = props[key]
        if node_count > 1 or tf.get("workerCount") is not None or tf.get("parameterServerCount") is not None:
            if tf.get("workerCount") is None:
                tf["workerCount"] = node_count
            if tf.get("parameterServerCount") is None:
                tf["parameterServerCount"] = 1
    if key == "cntkSettings" and not props[key].get("languageType"):
        props[key]["languageType"] = "Python" if props[key].get("pythonScriptFilePath") else "BrainScript"
    props.setdefault("schedulingPriority", "normal")
    constraints = props.get("constraints") or {}
    constraints.setdefault("maxWallClockTime", "P7D")
    props["constraints"] = constraints
    props["toolType"] = tool
    props["jobOutputDirectoryPathSegment"] = (
        f"{ref.subscription_id}/{ref.resource_group}/workspaces/{ref.workspace}/experiments/{ref.experiment}"
        f"/jobs/{ref.job}/{segment_uid}")
    return props


EXECUTION_STATES = {
    "notstarted": "queued", "starting": "queued", "provisioning": "queued", "preparing": "queued",
    "queued": "queued", "unapproved": "queued", "pausing": "queued", "paused": "queued",
    "running": "running", "finalizing": "running", "notresponding": "running",
    "cancelrequested": "terminating", "completed": "succeeded", "failed": "failed", "canceled": "failed",
}
TERMINAL_STATUSES = ("completed", "failed", "canceled")
_WALL_CLOCK_RE = re.compile(r"maximum duration|maxRunDurationSeconds|max_run_duration", re.IGNORECASE)
_EXIT_RE = re.compile(r"exited with (?:status )?code (-?\d+)", re.IGNORECASE)
MESSAGES = {
    "JobFailed": "Job failed with non-zero exit code",
    "JobPreparationFailed": "Job preparation task failed with non-zero exit code",
    "JobTerminated": "The specified job has been terminated by the user",
}


def execution_state(status: Optional[str]) -> str:
    return EXECUTION_STATES.get(str(status or "").lower(), "running")


def exit_code_from(message: Optional[str]) -> Optional[int]:
    match = _EXIT_RE.search(message or "")
    return int(match.group(1)) if match else None


def execution_info(status: str, run: Dict[str, Any], result: Optional[Dict[str, Any]]) -> Optional[Body]:
    """``executionInfo`` for a run (``run``: ``start``, ``end``, ``created``, ``error`` message/code).

    ``result`` is the launcher's ``LaunchResult`` when it could be read from the run's logs.
    """
    state = execution_state(status)
    start, end = iso(run.get("start")), iso(run.get("end"))
    if state == "queued":
        return None
    if state in ("running", "terminating"):
        return {"startTime": start or iso(run.get("created"))}
    info: Body = {"startTime": start or end or iso(run.get("created")), "endTime": end or now_iso()}
    lower = str(status).lower()
    if lower == "completed":
        info["exitCode"] = 0
        return info
    if _WALL_CLOCK_RE.search(run.get("error_message") or ""):
        info["errors"] = [{"code": "MaxWallClockTimeExceeded",
                           "message": "The job exceeded its maximum wall clock time (constraints.maxWallClockTime)"}]
        return info
    if lower == "canceled" or (result or {}).get("error_code") == "JobTerminated":
        info["errors"] = [{"code": "JobTerminated", "message": MESSAGES["JobTerminated"]}]
        return info
    code = (result or {}).get("error_code") or "JobFailed"
    message = (result or {}).get("error_message") or MESSAGES.get(code)
    if result and not result.get("error_code") and run.get("error_message"):
        # The job itself succeeded, then Azure ML failed the run (e.g. an output name written on two nodes:
        # "Resource Conflict: ArtifactId ... already exists"): say what Azure ML said.
        message = str(run["error_message"])
    exit_code = (result or {}).get("exit_code")
    if exit_code is None and not result:
        exit_code = exit_code_from(run.get("error_message"))
    if not message:
        message = run.get("error_message") or MESSAGES["JobFailed"]
    error: Body = {"code": code, "message": message}
    if not result and run.get("error_message"):
        error["details"] = [{"name": "AzureMLError", "value": str(run["error_message"])[:1024]}]
    info["errors"] = [error]
    if exit_code is not None:
        info["exitCode"] = int(exit_code)
    return info


def job_body(ref: JobRef, spec: Body, run: Dict[str, Any], result: Optional[Dict[str, Any]] = None) -> Body:
    """The Batch AI ``Job`` body from the stored spec (secrets already blanked) and the run's live state."""
    props = strip_job_secrets(spec)
    status = str(run.get("status") or "NotStarted")
    state = execution_state(status)
    created = props.get("creationTime") or iso(run.get("created")) or now_iso()
    if state == "queued":
        transition = created
    elif state in ("running", "terminating"):
        transition = iso(run.get("start")) or created
    else:
        transition = iso(run.get("end")) or iso(run.get("start")) or created
    props.update({
        "creationTime": created,
        "provisioningState": "deleting" if run.get("deleted") else "succeeded",
        "provisioningStateTransitionTime": created,
        "executionState": state,
        "executionStateTransitionTime": transition,
        "experimentName": ref.experiment,
    })
    info = execution_info(status, run, result)
    if info is None:
        props.pop("executionInfo", None)
    else:
        props["executionInfo"] = info
    return {"id": job_id(ref), "name": ref.job, "type": TYPE_JOB, "properties": props}
