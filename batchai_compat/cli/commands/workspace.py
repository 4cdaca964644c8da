"""``batchai workspace create/delete/list/show`` (azure-cli-batchai 0.4.10: ``commands.py``, ``custom.py``).

Workspaces exist only in API 2018-05-01, so these commands have one shape. ``create`` without
``-l`` uses the resource group's location, as the CLI did (``_get_resource_group_location``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Optional

from batchai_compat.cli._core import add_help, command_group

MODULE = __name__
#: ``id_part``s of 0.4.10's ``_params.py`` (``--ids``)
IDS = {"resource_group": "resource_group", "workspace_name": "name"}


def workspace_show_table_format(workspace: Dict[str, Any]) -> Dict[str, Any]:
    """Columns of the CLI's ``workspace_show_table_format``."""
    row: Dict[str, Any] = OrderedDict()
    row["Name"] = workspace["name"]
    row["Resource Group"] = workspace["resourceGroup"]
    row["Location"] = workspace["location"]
    row["State"] = workspace["provisioningState"]
    return row


def workspace_list_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One ``workspace_show_table_format`` row per workspace."""
    return [workspace_show_table_format(item) for item in result]


def load_commands(loader: Any) -> None:
    """Register the workspace commands."""
    add_help("workspace", "Commands to manage workspaces.", kind="group")
    add_help("workspace create", "Create a workspace.", examples=[
        ("Create a workspace in West US 2", "workspace create -g MyResourceGroup -n MyWorkspace -l westus2")])
    with command_group(loader, "workspace", MODULE) as g:
        g.command("create", "create_workspace")
        g.command("delete", "delete_workspace", supports_no_wait=True, confirmation=True, id_parts=IDS)
        g.command("list", "list_workspaces", table_transformer=workspace_list_table_format)
        g.command("show", "show_workspace", table_transformer=workspace_show_table_format, show=True, id_parts=IDS)


def load_arguments(loader: Any) -> None:
    """Options of 0.4.10's ``_params.py`` for ``batchai workspace``."""
    with loader.argument_context("workspace") as c:
        c.argument("workspace_name", options_list=["--workspace", "-n"], help="Name of workspace.")
        c.argument("location", options_list=["--location", "-l"], configured_default="location",
                   help="Location of the workspace. If omitted, the location of the resource group will be used.")
    with loader.argument_context("workspace list") as c:
        c.argument("resource_group", options_list=["--resource-group", "-g"], configured_default="group",
                   required=False, help="Name of resource group. You can configure the default group using "
                                        "`az configure --defaults group=<name>`.")


def create_workspace(cmd: Any, resource_group: str, workspace_name: str, location: Optional[str] = None) -> Any:
    """Create a workspace.

    :param location: Location of the workspace (default: the resource group's).
    """
    if not location:
        location = cmd.resource_client().resource_groups.get(resource_group).location
    return cmd.client().workspaces.create(resource_group, workspace_name, location).result()


def delete_workspace(cmd: Any, resource_group: str, workspace_name: str) -> Any:
    """Delete a workspace (and everything in it)."""
    return cmd.lro(cmd.client().workspaces.delete(resource_group, workspace_name))


def list_workspaces(cmd: Any, resource_group: Optional[str] = None) -> Any:
    """List workspaces (of the subscription, or of a resource group)."""
    client = cmd.client().workspaces
    if resource_group:
        return list(client.list_by_resource_group(resource_group))
    return list(client.list())


def show_workspace(cmd: Any, resource_group: str, workspace_name: str) -> Any:
    """Show information about a workspace."""
    return cmd.client().workspaces.get(resource_group, workspace_name)
