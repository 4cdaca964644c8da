"""A deterministic in-memory backend for testing the operation layer in isolation.

The local backend finishes most operations at once, so the poller's in-progress paths (threads,
``done()``, callbacks, failures reported by a poll) need a backend whose operations take a known
number of polls. This is a test double of the backend seam only; behaviour of real engines is
tested through the contract suite.
"""

from __future__ import annotations

from typing import Dict, List, Optional

from batchai_compat.backends import errors
from batchai_compat.backends.base import Backend, Body, Operation, OperationState, Page, completed, polled


def _arm_id(ref, kind: str) -> str:
    return (
        f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}"
        f"/providers/Microsoft.BatchAI/workspaces/{ref.workspace}/{kind}"
    )


class ScriptedBackend(Backend):
    """Workspaces and experiments in dicts; LROs that finish after ``polls`` polls."""

    name = "scripted"

    def __init__(self, polls: int = 0, fail_with: Optional[Body] = None, workspaces: int = 0) -> None:
        self.polls = polls
        self.fail_with = fail_with
        self.workspaces: Dict[str, Body] = {}
        self.experiments: Dict[str, Body] = {}
        self.poll_count = 0
        for i in range(workspaces):
            self.workspaces[f"rg/ws{i:03d}"] = {"id": f"ws{i:03d}", "name": f"ws{i:03d}", "location": "eastus"}

    def _operation(self, resource: Optional[Body], initial: Optional[Body]) -> Operation:
        remaining = [self.polls]

        def poll() -> OperationState:
            self.poll_count += 1
            if remaining[0] > 0:
                remaining[0] -= 1
                return OperationState("InProgress")
            if self.fail_with is not None:
                return OperationState("Failed", error=self.fail_with)
            return OperationState("Succeeded", resource)

        return polled(poll, initial=initial, delay=0.01)

    # -- what the tests use ----------------------------------------------------------------------
    def create_workspace(self, ref, body):
        ws = {
            "id": _arm_id(ref, "")[:-1],
            "name": ref.workspace,
            "type": "Microsoft.BatchAI/workspaces",
            "location": body["location"],
            "tags": body.get("tags"),
            "properties": {"provisioningState": "succeeded"},
        }
        self.workspaces[f"{ref.resource_group}/{ref.workspace}"] = ws
        return self._operation(ws, initial=None if self.polls else ws)

    def get_workspace(self, ref):
        try:
            return self.workspaces[f"{ref.resource_group}/{ref.workspace}"]
        except KeyError:
            raise errors.not_found("Workspace", ref.workspace) from None

    def delete_workspace(self, ref):
        self.get_workspace(ref)
        del self.workspaces[f"{ref.resource_group}/{ref.workspace}"]
        return self._operation(None, initial=None)

    def update_workspace(self, ref, body):
        ws = self.get_workspace(ref)
        ws["tags"] = body.get("tags")
        return ws

    def list_workspaces(self, subscription_id, resource_group, max_results, continuation):
        items: List[Body] = [
            w
            for k, w in sorted(self.workspaces.items())
            if resource_group is None or k.startswith(resource_group + "/")
        ]
        start = int(continuation or 0)
        end = start + max_results
        return Page(items[start:end], str(end) if end < len(items) else None)

    def create_experiment(self, ref):
        return completed({"id": "e", "name": ref.experiment, "properties": {"provisioningState": "succeeded"}})

    def list_usages(self, subscription_id, location):
        return [
            {
                "unit": "Count",
                "currentValue": 0,
                "limit": 10,
                "name": {"value": "Clusters", "localizedValue": "Clusters"},
            }
        ]

    # -- everything else is outside this double's scope -------------------------------------------
    def _unsupported(self, *args, **kwargs):
        raise errors.NotSupported(message="not part of the scripted test backend")

    get_experiment = delete_experiment = list_experiments = _unsupported
    create_cluster = get_cluster = update_cluster = delete_cluster = list_clusters = _unsupported
    list_cluster_remote_login_information = _unsupported
    create_file_server = get_file_server = delete_file_server = list_file_servers = _unsupported
    create_job = get_job = delete_job = terminate_job = list_jobs = list_output_files = _unsupported
    list_job_remote_login_information = _unsupported
