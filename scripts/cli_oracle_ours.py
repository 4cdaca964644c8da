"""Dump *our* ``batchai`` command table as JSON, in the format of ``scripts/cli_oracle_dump.py``.

Why a separate, parser-based enumeration instead of trusting the framework's own description: the parity
test (``tests/cli/test_parity.py``) should compare what ``batchai <command>`` really parses. So this goes
through knack's invoker steps (``knack/invocation.py``, ``CommandInvoker.execute``: load the command
table for the command line, load that command's arguments, build the argparse parser) with a fresh CLI per
command, as every ``batchai`` process does, and reads the argparse actions of the command's parser.

Run with the project's interpreter: ``.venv/bin/python scripts/cli_oracle_ours.py`` prints
``{"commands": {"batchai job create": {"arguments": [...], ...}}}``; command names carry the ``batchai``
prefix like the original's.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's batchai_compat


def _jsonable(value: Any) -> Any:
    """Defaults and choices as JSON: enums and other objects by their string form."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(getattr(value, "value", value))


_ACTIONS = {
    argparse._StoreAction: "store",  # noqa: SLF001 -- argparse has no public action registry
    argparse._StoreTrueAction: "store_true",  # noqa: SLF001
    argparse._StoreFalseAction: "store_false",  # noqa: SLF001
    argparse._AppendAction: "append",  # noqa: SLF001
    argparse._StoreConstAction: "store_const",  # noqa: SLF001
    argparse._CountAction: "count",  # noqa: SLF001
    argparse._HelpAction: "help",  # noqa: SLF001
}


def _command_parser(command: str) -> Any:
    """The argparse parser ``batchai <command>`` parses with, and the command's knack metadata."""
    from knack.events import EVENT_INVOKER_POST_CMD_TBL_CREATE, EVENT_INVOKER_PRE_CMD_TBL_CREATE

    from batchai_compat.cli._core import get_cli

    cli = get_cli(out_file=open(os.devnull, "w"))  # noqa: SIM115 -- knack keeps the handle
    invoker = cli.invocation_cls(cli_ctx=cli, parser_cls=cli.parser_cls,
                                 commands_loader_cls=cli.commands_loader_cls, help_cls=cli.help_cls)
    cli.invocation = invoker
    words = command.split()
    cli.raise_event(EVENT_INVOKER_PRE_CMD_TBL_CREATE, args=words)
    table = invoker.commands_loader.load_command_table(words)
    invoker.data["command_string"] = command
    invoker.commands_loader.load_arguments(command)
    cli.raise_event(EVENT_INVOKER_POST_CMD_TBL_CREATE, cmd_tbl=table)
    invoker.parser.load_command_table(invoker.commands_loader)
    group = invoker.parser.subparsers[tuple(words[:-1])]
    return invoker, group.choices[words[-1]], invoker.commands_loader.command_table[command]


def describe(command: str) -> Dict[str, Any]:
    """One command's arguments as argparse actions (same keys as the oracle's dump)."""
    invoker, parser, metadata = _command_parser(command)
    global_dests = set()
    for parent in invoker.parser.parents:
        global_dests.update(a.dest for a in parent._actions)  # noqa: SLF001 -- argparse keeps them private
    groups: Dict[int, Optional[str]] = {}
    for group in parser._action_groups:  # noqa: SLF001
        for action in group._group_actions:  # noqa: SLF001
            groups[id(action)] = group.title
    arguments: List[Dict[str, Any]] = []
    for action in parser._actions:  # noqa: SLF001
        registered = metadata.arguments.get(action.dest)
        settings = registered.type.settings if registered is not None else {}
        arguments.append({
            "dest": action.dest,
            "options": [str(o) for o in action.option_strings],
            "required": bool(action.required),
            "choices": _jsonable(list(action.choices)) if action.choices is not None else None,
            "default": _jsonable(action.default) if action.default is not argparse.SUPPRESS else None,
            "action": _ACTIONS.get(type(action), type(action).__name__),
            "nargs": _jsonable(action.nargs),
        "type": getattr(action.type, "__name__", None) if action.type is not None else None,
            "group": groups.get(id(action)),
            "global": action.dest in global_dests,
            "hidden": action.help == argparse.SUPPRESS,
            "deprecated": bool(settings.get("deprecate_info")),
            "configured_default": settings.get("configured_default"),
        })
    spec = getattr(metadata, "spec", None)
    return {
        "arguments": arguments,
        "allow_abbrev": bool(parser.allow_abbrev),
        "shape": getattr(spec, "shape", None),
        "deprecated": bool(metadata.deprecate_info),
        "supports_no_wait": bool(getattr(spec, "supports_no_wait", False)),
        "confirmation": bool(getattr(metadata, "confirmation", False)),
    }


def main() -> int:
    """Print every command of ours (all command modules) with its arguments."""
    os.environ.setdefault("AZURE_CONFIG_DIR", tempfile.mkdtemp(prefix="cli-ours-"))
    from batchai_compat.cli._core import get_cli

    cli = get_cli(out_file=open(os.devnull, "w"))  # noqa: SIM115
    loader = cli.commands_loader_cls(cli_ctx=cli)
    names = sorted(loader.load_command_table(None))
    commands = {"batchai " + name: describe(name) for name in names}
    json.dump({"commands": commands}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
