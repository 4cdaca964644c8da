"""``batchai experiment create/delete/list/show`` (azure-cli-batchai 0.4.10).

Experiments exist only in API 2018-05-01: ``-w`` is required (or configured with
``az configure --defaults workspace=...``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List

from batchai_compat.cli._core import add_help, command_group

MODULE = __name__
#: ``id_part``s of 0.4.10's ``_params.py`` (``--ids`` on delete/show)
IDS = {"resource_group": "resource_group", "workspace_name": "name", "experiment_name": "resource_name"}


def experiment_show_table_format(experiment: Dict[str, Any]) -> Dict[str, Any]:
    """Columns of 0.4.10's ``experiment_show_table_format``."""
    row: Dict[str, Any] = OrderedDict()
    row["Name"] = experiment["name"]
    row["Resource Group"] = experiment["resourceGroup"]
    parts = experiment["id"].split("/")
    row["Workspace"] = parts[8] if len(parts) > 8 else ""
    row["State"] = experiment["provisioningState"]
    return row


def experiment_list_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One row per experiment."""
    return [experiment_show_table_format(item) for item in result]


def load_commands(loader: Any) -> None:
    """Register the experiment commands."""
    add_help("experiment", "Commands to manage experiments.", kind="group")
    with command_group(loader, "experiment", MODULE) as g:
        g.command("create", "create_experiment")
        g.command("delete", "delete_experiment", supports_no_wait=True, confirmation=True, id_parts=IDS)
        g.command("list", "list_experiments", table_transformer=experiment_list_table_format)
        g.command("show", "show_experiment", table_transformer=experiment_show_table_format, show=True,
                  id_parts=IDS)


def load_arguments(loader: Any) -> None:
    """Options of 0.4.10's ``_params.py`` for ``batchai experiment``."""
    with loader.argument_context("experiment") as c:
        c.argument("experiment_name", options_list=["--name", "-n"], help="Name of experiment.")
        c.argument("workspace_name", options_list=["--workspace", "-w"], configured_default="workspace",
                   help="Name of workspace.")


def create_experiment(cmd: Any, resource_group: str, workspace_name: str, experiment_name: str) -> Any:
    """Create an experiment."""
    return cmd.client().experiments.create(resource_group, workspace_name, experiment_name).result()


def delete_experiment(cmd: Any, resource_group: str, workspace_name: str, experiment_name: str) -> Any:
    """Delete an experiment (and its jobs)."""
    return cmd.lro(cmd.client().experiments.delete(resource_group, workspace_name, experiment_name))


def list_experiments(cmd: Any, resource_group: str, workspace_name: str) -> Any:
    """List experiments of a workspace."""
    return list(cmd.client().experiments.list_by_workspace(resource_group, workspace_name))


def show_experiment(cmd: Any, resource_group: str, workspace_name: str, experiment_name: str) -> Any:
    """Show information about an experiment."""
    return cmd.client().experiments.get(resource_group, workspace_name, experiment_name)
