"""The static ``operations.list()`` catalogue: the Batch AI resource-provider operations.

Shared by every backend: the list describes the API surface, not a deployment.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

_PROVIDER = "Microsoft Batch AI"

# (operation name, resource, operation, description)
_OPERATIONS: Tuple[Tuple[str, str, str, str], ...] = (
    (
        "Microsoft.BatchAI/register/action",
        "Batch AI Resource Provider",
        "Register the Batch AI Resource Provider",
        "Registers the subscription for the Batch AI Resource Provider and enables the creation of Batch AI resources",
    ),
    (
        "Microsoft.BatchAI/unregister/action",
        "Batch AI Resource Provider",
        "Unregister the Batch AI Resource Provider",
        "Unregisters the subscription for the Batch AI Resource Provider",
    ),
    ("Microsoft.BatchAI/operations/read", "Operations", "List Operations", "Lists operations for the provider"),
    ("Microsoft.BatchAI/locations/usages/read", "Usages", "Get Usages", "Gets the quota usages for a location"),
    (
        "Microsoft.BatchAI/workspaces/read",
        "Workspaces",
        "List or Get Workspaces",
        "Lists workspaces or gets a workspace",
    ),
    (
        "Microsoft.BatchAI/workspaces/write",
        "Workspaces",
        "Create or Update Workspace",
        "Creates or updates a workspace",
    ),
    ("Microsoft.BatchAI/workspaces/delete", "Workspaces", "Delete Workspace", "Deletes a workspace"),
    (
        "Microsoft.BatchAI/workspaces/experiments/read",
        "Experiments",
        "List or Get Experiments",
        "Lists experiments or gets an experiment",
    ),
    ("Microsoft.BatchAI/workspaces/experiments/write", "Experiments", "Create Experiment", "Creates an experiment"),
    ("Microsoft.BatchAI/workspaces/experiments/delete", "Experiments", "Delete Experiment", "Deletes an experiment"),
    ("Microsoft.BatchAI/workspaces/experiments/jobs/read", "Jobs", "List or Get Jobs", "Lists jobs or gets a job"),
    ("Microsoft.BatchAI/workspaces/experiments/jobs/write", "Jobs", "Create Job", "Creates a job"),
    ("Microsoft.BatchAI/workspaces/experiments/jobs/delete", "Jobs", "Delete Job", "Deletes a job"),
    ("Microsoft.BatchAI/workspaces/experiments/jobs/terminate/action", "Jobs", "Terminate Job", "Terminates a job"),
    (
        "Microsoft.BatchAI/workspaces/experiments/jobs/listoutputfiles/action",
        "Jobs",
        "List Job Output Files",
        "Lists the output files of a job",
    ),
    (
        "Microsoft.BatchAI/workspaces/experiments/jobs/listremotelogininformation/action",
        "Jobs",
        "List Job Remote Login Information",
        "Lists the remote login information of the nodes running a job",
    ),
    (
        "Microsoft.BatchAI/workspaces/clusters/read",
        "Clusters",
        "List or Get Clusters",
        "Lists clusters or gets a cluster",
    ),
    (
        "Microsoft.BatchAI/workspaces/clusters/write",
        "Clusters",
        "Create or Update Cluster",
        "Creates a cluster or updates its scale settings",
    ),
    ("Microsoft.BatchAI/workspaces/clusters/delete", "Clusters", "Delete Cluster", "Deletes a cluster"),
    (
        "Microsoft.BatchAI/workspaces/clusters/remotelogininformation/action",
        "Clusters",
        "List Cluster Remote Login Information",
        "Lists the remote login information of the nodes of a cluster",
    ),
    (
        "Microsoft.BatchAI/workspaces/fileservers/read",
        "File Servers",
        "List or Get File Servers",
        "Lists file servers or gets a file server",
    ),
    ("Microsoft.BatchAI/workspaces/fileservers/write", "File Servers", "Create File Server", "Creates a file server"),
    ("Microsoft.BatchAI/workspaces/fileservers/delete", "File Servers", "Delete File Server", "Deletes a file server"),
)


def operation_catalog() -> List[Dict[str, Any]]:
    """The ``Operation`` bodies, freshly built so callers may mutate them."""
    return [
        {
            "name": name,
            "display": {"provider": _PROVIDER, "resource": resource, "operation": operation, "description": desc},
            "origin": "user,system",
        }
        for name, resource, operation, desc in _OPERATIONS
    ]
