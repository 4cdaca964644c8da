"""``batchai list-usages``: the Batch AI core quotas of a location (azure-cli-batchai 0.4.10).

0.4.10 registered it in a ``command_group('batchai', ..., deprecate_info=self.deprecate(hide=True))``:
that deprecates the whole ``batchai`` group (every command printed an "implicitly deprecated" warning),
not the command, which stayed listed. Here it is a plain command, without the group-wide warning.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List

from batchai_compat.cli._core import command_group

MODULE = __name__


def usage_table_format(result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Value, Usage, Limit (0.4.10's ``usage_table_format``)."""
    table = []
    for item in result:
        row: Dict[str, Any] = OrderedDict()
        row["Value"] = item["name"]["localizedValue"]
        row["Usage"] = item["currentValue"] or "0"
        row["Limit"] = item["limit"] or "0"
        table.append(row)
    return table


def load_commands(loader: Any) -> None:
    """Register ``list-usages``."""
    with command_group(loader, "", MODULE) as g:
        g.command("list-usages", "list_usages", table_transformer=usage_table_format)


def load_arguments(loader: Any) -> None:
    """``-l/--location`` with the configured default ``location``."""
    with loader.argument_context("list-usages") as c:
        c.argument("location", options_list=["--location", "-l"], configured_default="location",
                   help="Location. Values from: `az account list-locations`. You can configure the default "
                        "location using `az configure --defaults location=<location>`.")


def list_usages(cmd: Any, location: str) -> Any:
    """Get the current usage information and the limits of Batch AI resources of a location."""
    return list(cmd.client().usages.list(location))
