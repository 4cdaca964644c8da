"""Table transformers of the ``batchai job`` commands (``-o table``).

Each function receives what the JSON output would print (the ``todict`` form of the result:
camelCase keys, ``resourceGroup`` added beside every ARM ``id``) and returns the rows knack
tabulates. The columns are those of the Azure CLI's own transformers, one family per CLI
generation, because scripts and people grep these tables:

* 2018-05-01 (``azure-cli-batchai`` 0.4.10, ``azure/cli/command_modules/batchai/_format.py``):
  ``job_show_table_format``, ``file_list_table_format``, ``remote_login_table_format``;
* 2018-03-01 (``azure-cli-batchai`` 0.2.3, same file): no workspace column, a ``Resource Group``
  column, ``Is directory`` instead of ``Type`` in file lists;
* 2017-09-01-preview (``azure-cli-batchai`` 0.1.6, same file): file lists print ``Name``, ``Size``
  and ``URL``; remote login tables name the port column ``Port``.

Cheap to import (no msrest, no models): a shell loop of ``batchai job show -o table`` pays only for
what it prints.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Optional


def _id_parts(resource_id: Optional[str]) -> Dict[str, str]:
    """The pieces of an ARM id the tables show, as ``msrestazure.tools.parse_resource_id`` names them.

    ``name`` is the first resource's name (the workspace of a 2018-05-01 cluster id) and
    ``resource_name`` the last child's (the cluster). Written here rather than imported so that
    ``-o table`` needs no msrestazure.
    """
    parts: Dict[str, str] = {}
    if not resource_id:
        return parts
    segments = [s for s in resource_id.split("/") if s]
    lowered = [s.lower() for s in segments]
    if "resourcegroups" in lowered:
        index = lowered.index("resourcegroups")
        if index + 1 < len(segments):
            parts["resource_group"] = segments[index + 1]
    if "providers" in lowered:
        index = lowered.index("providers")
        names = segments[index + 2:]
        pairs = [(names[i], names[i + 1]) for i in range(0, len(names) - 1, 2)]
        if pairs:
            parts["name"] = pairs[0][1]
            parts["resource_name"] = pairs[-1][1]
    return parts


def _cluster_rg(cluster: Dict[str, Any]) -> Any:
    """The cluster reference's ``resourceGroup`` (the output layer adds it beside the id)."""
    if "resourceGroup" in cluster:
        return cluster["resourceGroup"]
    return _id_parts(cluster.get("id")).get("resource_group")


def _exit_code(job: Dict[str, Any]) -> str:
    info = job.get("executionInfo")
    if info and info.get("exitCode") is not None:
        return str(info["exitCode"])
    return ""


def _state(job: Dict[str, Any]) -> Any:
    # A job being deleted shows "deleting" whatever its execution state (0.4.10 and 0.2.3).
    if job.get("provisioningState") == "deleting":
        return "deleting"
    return job.get("executionState")


# ------------------------------------------------------------------------------------ 2018-05-01

def job_show_table_format(job: Dict[str, Any]) -> Dict[str, Any]:
    """One job: name, cluster, cluster resource group and workspace, tool, nodes, state, exit code."""
    cluster = job.get("cluster") or {}
    parts = _id_parts(cluster.get("id"))
    row: Dict[str, Any] = OrderedDict()
    row["Name"] = job.get("name")
    row["Cluster"] = parts.get("resource_name")
    row["Cluster RG"] = _cluster_rg(cluster)
    row["Cluster Workspace"] = parts.get("name")
    row["Tool"] = job.get("toolType")
    row["Nodes"] = job.get("nodeCount")
    row["State"] = _state(job)
    row["Exit code"] = _exit_code(job)
    return row


def job_list_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Jobs, one row each as ``job show -o table`` prints it."""
    return [job_show_table_format(item) for item in result]


def file_list_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Output files: name, type (``file``/``directory``), size (blank for directories), modified."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["Name"] = item.get("name")
        row["Type"] = item.get("fileType")
        row["Size"] = "" if item.get("fileType") == "directory" else str(item.get("contentLength"))
        row["Modified"] = item.get("lastModified") or " "
        table.append(row)
    return table


def remote_login_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Nodes: id, IP address and SSH port (an int, as the CLI converted it)."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["ID"] = item.get("nodeId")
        row["IP"] = item.get("ipAddress")
        row["SSH Port"] = int(item["port"])
        table.append(row)
    return table


# ------------------------------------------------------------------------------------ 2018-03-01

def job_show_table_format_2018_03_01(job: Dict[str, Any]) -> Dict[str, Any]:
    """0.2.3's job row: the job's resource group, the cluster (9th id segment) and its group."""
    cluster = job.get("cluster") or {}
    segments = (cluster.get("id") or "").split("/")
    row: Dict[str, Any] = OrderedDict()
    row["Name"] = job.get("name")
    row["Resource Group"] = job.get("resourceGroup")
    row["Cluster"] = segments[8] if len(segments) > 8 else None
    row["Cluster RG"] = _cluster_rg(cluster)
    row["Tool"] = job.get("toolType")
    row["Nodes"] = job.get("nodeCount")
    row["State"] = _state(job)
    row["Exit code"] = _exit_code(job)
    return row


def job_list_table_format_2018_03_01(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [job_show_table_format_2018_03_01(item) for item in result]


def file_list_table_format_2018_03_01(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """0.2.3's file rows: ``Is directory`` yes/no instead of a type."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["Name"] = item.get("name")
        row["Is directory"] = "yes" if item.get("isDirectory") else "no"
        row["Size"] = "" if item.get("isDirectory") else str(item.get("contentLength"))
        row["Modified"] = item.get("lastModified") or " "
        table.append(row)
    return table


# ---------------------------------------------------------------------------- 2017-09-01-preview

def job_list_table_format_2017_09_01_preview(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """0.1.6's job rows (it had no ``show`` transformer): as 0.2.3's, the state never ``deleting``."""
    table = []
    for item in result:
        row = job_show_table_format_2018_03_01(item)
        row["State"] = item.get("executionState")
        table.append(row)
    return table


def file_list_table_format_2017_09_01_preview(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """0.1.6's file rows: name, size and the download URL."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["Name"] = item.get("name")
        row["Size"] = str(item.get("contentLength"))
        row["URL"] = item.get("downloadUrl")
        table.append(row)
    return table


def remote_login_table_format_2017_09_01_preview(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """0.1.6 named the port column ``Port``."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["ID"] = item.get("nodeId")
        row["IP"] = item.get("ipAddress")
        row["Port"] = int(item["port"])
        table.append(row)
    return table
