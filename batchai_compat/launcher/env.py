"""The job environment (``docs/service-behaviour.md`` §c.1, §d.1).

Job preparation and every job process on a node see the same variables: the ``AZ_BATCHAI_*``
table of §d.1, the user's ``environmentVariables`` and ``secrets`` (values from the spec), plus
per-role variables added by the toolkit (task index, TensorFlow/PyTorch settings).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Mapping

from .layout import NodePaths
from .spec import LaunchSpec

PREFIX = "AZ_BATCHAI_"
# Variables a role sets for itself; never inherited from the launcher's own environment.
ROLE_VARIABLES = (
    "AZ_BATCHAI_TASK_INDEX",
    "AZ_BATCHAI_PS_HOSTS",
    "AZ_BATCHAI_WORKER_HOSTS",
    "TF_CONFIG",
    "AZ_BATCHAI_PYTORCH_INIT_METHOD",
    "AZ_BATCHAI_PYTORCH_BACKEND",
)

_VAR_RE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")

# The service's own value of $AZ_BATCHAI_MOUNT_ROOT (``docs/service-behaviour.md`` §d.1). Real job
# configurations name it literally (``/mnt/batch/tasks/shared/LS_root/mounts/afs/...``), as written by
# hand or copied from an expanded variable; a node here has its own mount root instead.
SERVICE_MOUNT_ROOT = "/mnt/batch/tasks/shared/LS_root/mounts"
# The literal root as a whole path: not inside a longer path (``/x/mnt/batch/...``), not a prefix of
# another name (``.../mounts2``).
_SERVICE_ROOT_RE = re.compile(r"(?<![\w.\-/])" + re.escape(SERVICE_MOUNT_ROOT) + r"(?![\w.\-])")
# Job properties whose values are paths the launcher expands itself (per node, with $VARS).
_PATH_FIELDS = (("outputDirectories", "pathPrefix"), ("inputDirectories", "path"))


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand ``$NAME`` and ``${NAME}`` from ``env``; unknown names are left untouched."""

    def substitute(match: "re.Match[str]") -> str:
        name = match.group("braced") or match.group("plain")
        return env.get(name, match.group(0))

    return _VAR_RE.sub(substitute, text or "")


def map_service_mount_root(text: str, replacement: str) -> str:
    """``text`` with every literal service mount root replaced by ``replacement``."""
    if not isinstance(text, str) or SERVICE_MOUNT_ROOT not in text:
        return text
    return _SERVICE_ROOT_RE.sub(lambda _m: replacement, text)


def map_service_paths(props: Dict[str, Any], mount_root: str) -> Dict[str, Any]:
    """A copy of the job's ``properties`` in which the service's literal mount root points at this
    node's mount root (issue: a job naming ``/mnt/batch/tasks/shared/LS_root/mounts/<name>`` must
    reach mount ``<name>``, not the host's real ``/mnt/batch``, and stay listable).

    * Path fields the launcher expands itself (``stdOutErrPathPrefix``, output directories'
      ``pathPrefix``, input directories' ``path``): the literal root becomes ``$AZ_BATCHAI_MOUNT_ROOT``,
      so every node gets its own value, exactly as if the variable had been written.
    * Every other string (command lines, job preparation, script paths and arguments, environment
      variable values): the literal root becomes ``mount_root`` (the first node this launcher runs).
      All nodes' mount roots link to the same storage, so that path works on every node.

    Deviation (documented in docs/compatibility.md): only the job's own definition is rewritten;
    a literal ``/mnt/batch/...`` path inside a script file or a data file is not, and there it still
    names the host's real ``/mnt/batch``. Secret values are never touched.
    """
    if SERVICE_MOUNT_ROOT not in json.dumps(props):
        return props
    result = _map_strings({k: v for k, v in props.items() if k != "secrets"}, mount_root)
    if "secrets" in props:
        result["secrets"] = props["secrets"]
    variable = "$" + "AZ_BATCHAI_MOUNT_ROOT"
    if isinstance(props.get("stdOutErrPathPrefix"), str):
        result["stdOutErrPathPrefix"] = map_service_mount_root(props["stdOutErrPathPrefix"], variable)
    for list_name, field_name in _PATH_FIELDS:
        for mapped, original in zip(result.get(list_name) or [], props.get(list_name) or []):
            if isinstance(mapped, dict) and isinstance(original, dict) and isinstance(original.get(field_name), str):
                mapped[field_name] = map_service_mount_root(original[field_name], variable)
    return result


def _map_strings(value: Any, mount_root: str) -> Any:
    if isinstance(value, str):
        return map_service_mount_root(value, mount_root)
    if isinstance(value, list):
        return [_map_strings(v, mount_root) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, mount_root) for k, v in value.items()}
    return value


def user_variables(spec: LaunchSpec) -> Dict[str, str]:
    props = spec.job.get("properties") or {}
    return {str(v["name"]): str(v.get("value") or "") for v in props.get("environmentVariables") or []}


def secret_variables(spec: LaunchSpec) -> Dict[str, str]:
    props = spec.job.get("properties") or {}
    return {str(v["name"]): str(v.get("value") or "") for v in props.get("secrets") or []}


def base_environment(spec: LaunchSpec) -> Dict[str, str]:
    """The launcher's environment without stale Batch AI variables, plus the engine's extras."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX) and k != "TF_CONFIG"}
    env.update(spec.extra_env or {})
    return env


def node_path_variables(spec: LaunchSpec, paths: NodePaths) -> Dict[str, str]:
    """The ``docs/service-behaviour.md`` §d.1 variables that only depend on the node (usable in path prefixes)."""
    return {
        "AZ_BATCHAI_MOUNT_ROOT": paths.mount_root,
        "AZ_BATCHAI_JOB_MOUNT_ROOT": paths.job_mount_root,
        "AZ_BATCHAI_JOB_TEMP_DIR": paths.job_temp_dir,
        "AZ_BATCHAI_JOB_TEMP": paths.job_temp,
        "AZ_BATCHAI_SHARED_JOB_TEMP": os.path.abspath(spec.shared_job_temp),
        "AZ_BATCHAI_MPI_HOST_FILE": paths.hostfile,
        "AZ_BATCHAI_NUM_GPUS": str(int(spec.gpus_per_node or 0)),
    }


def input_variables(spec: LaunchSpec, expansion_env: Mapping[str, str]) -> Dict[str, str]:
    props = spec.job.get("properties") or {}
    return {
        f"AZ_BATCHAI_INPUT_{d['id']}": expand(str(d.get("path") or ""), expansion_env)
        for d in props.get("inputDirectories") or []
    }


def node_environment(
    base: Mapping[str, str],
    spec: LaunchSpec,
    batchai_vars: Mapping[str, str],
    runtime_defaults: Mapping[str, str],
    path_prepend: List[str],
) -> Dict[str, str]:
    """The full environment of job preparation and job processes on one node.

    Precedence: launcher environment < engine extras < user variables < secrets < Batch AI's own
    variables. ``runtime_defaults`` (MPI configuration of the virtual cluster) only fill gaps.
    """
    env = dict(base)
    env.update(user_variables(spec))
    env.update(secret_variables(spec))
    for key, value in runtime_defaults.items():
        env.setdefault(key, value)
    env.update(batchai_vars)
    if path_prepend:
        env["PATH"] = os.pathsep.join([*path_prepend, env.get("PATH") or os.defpath])
    return env
