"""``batchai group create/delete/show/list/exists``: the ``az group`` commands Batch AI recipes run.

Options, defaults and output as azure-cli-resource 2.1.0 (``commands.py``, ``_params.py``,
``custom.py``); the handlers are in :mod:`batchai_compat.cli._companion`, over the local
``ResourceManagementClient`` (:mod:`batchai_compat.resource`). See docs/cli-companion.md.
"""

from __future__ import annotations

from typing import Any

from batchai_compat.cli._companion import MODULE, transform_resource_group_list
from batchai_compat.cli._core import command_group


def load_commands(loader: Any) -> None:
    """Register the ``group`` commands."""
    with command_group(loader, "group", MODULE) as g:
        g.command("create", "create_resource_group")
        g.command("delete", "delete_resource_group", supports_no_wait=True, confirmation=True)
        g.command("show", "show_resource_group")
        g.command("exists", "resource_group_exists")
        g.command("list", "list_resource_groups", table_transformer=transform_resource_group_list)
    # The az shim's installer lives here too (docs/cli-companion.md, "The az shim").
    with command_group(loader, "az-shim", "batchai_compat.cli.az_shim") as g:
        g.command("install", "install_command")
        g.command("print", "print_command")


def load_arguments(loader: Any) -> None:
    """The ``group`` and ``az-shim`` arguments."""
    with loader.argument_context("az-shim install") as c:
        c.argument("directory", options_list=["--dir", "-d"])
    _group_arguments(loader)


def _group_arguments(loader: Any) -> None:
    """azure-cli-resource's ``group`` arguments: ``-n/--name`` doubles as ``-g/--resource-group``."""
    with loader.argument_context("group") as c:
        c.argument("resource_group_name", options_list=["--name", "-n", "--resource-group", "-g"],
                   configured_default="group", help="Name of resource group. You can configure the default group "
                                                    "using `az configure --defaults group=<name>`.")
        c.argument("tag", help="a single tag in 'key[=value]' format. Use \"\" to clear existing tags.")
        c.argument("tags", nargs="*", help="space-separated tags in 'key[=value]' format. Use \"\" to clear "
                                           "existing tags.")
    with loader.argument_context("group create") as c:
        c.argument("rg_name", options_list=["--name", "--resource-group", "-n", "-g"],
                   help="name of the new resource group")
        c.argument("location", options_list=["--location", "-l"], configured_default="location",
                   help="Location. You can configure the default location using "
                        "`az configure --defaults location=<location>`.")
