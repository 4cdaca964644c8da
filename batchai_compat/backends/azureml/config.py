"""Which Azure ML workspace a Batch AI ``(subscription, resource group, workspace)`` maps to.

Precedence (first match wins):

1. ``workspace_map=`` backend option: ``{key: target}`` where ``key`` is ``"ws"``, ``"rg/ws"`` or
   ``"sub/rg/ws"`` (Batch AI names) and ``target`` is an AML workspace name, ``"rg/ws"``,
   ``"sub/rg/ws"`` or a dict with ``subscription_id`` / ``resource_group`` / ``workspace_name``;
2. the ``subscription_id`` / ``resource_group`` / ``workspace_name`` backend options (each replaces
   only its own part; e.g. ``workspace_name="aml-ws"`` sends every Batch AI workspace there);
3. a ``config.json`` as ``Workspace.from_config`` reads it (``config=`` option: a file or a
   directory holding ``config.json`` or ``.azureml/config.json``): every Batch AI workspace maps to it;
4. the same names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from batchai_compat.backends.base import WorkspaceRef

Target = Tuple[str, str, str]


def _target(value: Any, ref: WorkspaceRef) -> Target:
    if isinstance(value, dict):
        return (str(value.get("subscription_id") or ref.subscription_id),
                str(value.get("resource_group") or ref.resource_group),
                str(value.get("workspace_name") or value.get("name") or ref.workspace))
    parts = [p for p in str(value).split("/") if p]
    if len(parts) == 1:
        return ref.subscription_id, ref.resource_group, parts[0]
    if len(parts) == 2:
        return ref.subscription_id, parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise ValueError(f"workspace_map target {value!r} must be 'ws', 'rg/ws', 'sub/rg/ws' or a dict")


def read_config_json(path: Union[str, os.PathLike]) -> Dict[str, str]:
    """The workspace named by a ``config.json`` (file, or directory searched like ``from_config``)."""
    candidate = Path(path).expanduser()
    if candidate.is_dir():
        for option in (candidate / "config.json", candidate / ".azureml" / "config.json",
                       candidate / "aml_config" / "config.json"):
            if option.is_file():
                candidate = option
                break
        else:
            raise FileNotFoundError(f"no config.json in {path} (looked for config.json and .azureml/config.json)")
    data = json.loads(candidate.read_text(encoding="utf-8"))
    missing = [k for k in ("subscription_id", "resource_group", "workspace_name") if not data.get(k)]
    if missing:
        raise ValueError(f"{candidate} lacks {', '.join(missing)}")
    return {k: str(data[k]) for k in ("subscription_id", "resource_group", "workspace_name")}


class WorkspaceMapping:
    def __init__(self, workspace_map: Optional[Dict[str, Any]] = None, subscription_id: Optional[str] = None,
                 resource_group: Optional[str] = None, workspace_name: Optional[str] = None,
                 config: Optional[Union[str, os.PathLike]] = None) -> None:
        self.original_map = dict(workspace_map or {})
        self.workspace_map = {str(k).lower(): v for k, v in self.original_map.items()}
        self.overrides = {"subscription_id": subscription_id, "resource_group": resource_group,
                          "workspace_name": workspace_name}
        self.config = read_config_json(config) if config else None

    @property
    def configured(self) -> bool:
        return bool(self.workspace_map or any(self.overrides.values()) or self.config)

    def target(self, ref: WorkspaceRef) -> Target:
        keys = (f"{ref.subscription_id}/{ref.resource_group}/{ref.workspace}",
                f"{ref.resource_group}/{ref.workspace}", ref.workspace)
        for key in keys:
            if key.lower() in self.workspace_map:
                return _target(self.workspace_map[key.lower()], ref)
        if any(self.overrides.values()):
            return (self.overrides["subscription_id"] or ref.subscription_id,
                    self.overrides["resource_group"] or ref.resource_group,
                    self.overrides["workspace_name"] or ref.workspace)
        if self.config:
            return _target(self.config, ref)
        return ref.subscription_id, ref.resource_group, ref.workspace

    def batchai_name(self, subscription_id: str, resource_group: str, aml_name: str) -> Optional[str]:
        """The Batch AI workspace name that maps to an AML workspace (None when mapped away)."""
        for key, value in self.original_map.items():
            name = str(key).split("/")[-1]
            ref = WorkspaceRef(subscription_id, resource_group, name)
            if _target(value, ref) == (subscription_id, resource_group, aml_name):
                return name
        if self.configured:
            ref = WorkspaceRef(subscription_id, resource_group, aml_name)
            if self.target(ref) == (subscription_id, resource_group, aml_name):
                return aml_name
            return None
        return aml_name
