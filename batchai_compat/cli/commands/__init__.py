"""The command modules of ``batchai`` and which first command word each one owns.

A command module is a plain Python module with two functions, called by
:class:`batchai_compat.cli._core.BatchAICommandsLoader`:

* ``load_commands(loader)``: register commands with ``batchai_compat.cli._core.command_group``;
* ``load_arguments(loader)``: refine arguments with ``loader.argument_context("cluster create")``;

and handler functions ``def handler(cmd, resource_group, ..., name=default)`` whose parameters
become the options (knack reads the signature). Module-level imports must stay light (no msrest,
no models): import them inside handlers. See /docs/cli.md.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, List, Tuple

#: module name (under batchai_compat.cli.commands) -> the first command words it registers.
COMMAND_MODULES: Dict[str, Tuple[str, ...]] = {
    "workspace": ("workspace",),
    "cluster": ("cluster",),
    "experiment": ("experiment",),
    "file_server": ("file-server",),
    "usages": ("list-usages",),
    "job": ("job",),
    "group": ("group", "az-shim"),
    "storage": ("storage",),
}


def modules_for(args: List[str]) -> List[Any]:
    """The command modules needed for a command line: the owner of its first word, else all (help)."""
    first = next((a for a in args if not a.startswith("-")), None)
    names = [m for m, words in COMMAND_MODULES.items() if first in words] if first else []
    if not names:
        names = list(COMMAND_MODULES)
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


__all__ = ["COMMAND_MODULES", "modules_for"]
