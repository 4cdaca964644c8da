"""Dump the original ``az batchai`` command table as JSON (runs inside an oracle virtualenv).

Why: issue #14 asks for *mechanical* CLI parity, so the reference must be the original module's own command
and parameter definitions as azure-cli-core builds them, not a hand-written list. This script is run by
``tests/cli/test_parity.py`` with the interpreter of an oracle virtualenv (``mk/cli-oracle.mk`` builds them:
``azure-cli-core`` + ``azure-cli-batchai`` of one release + the ``azure-mgmt-batchai`` it was written for).

For every command it goes through the steps azure-cli-core's invoker takes before parsing
(``azure/cli/core/commands/__init__.py``, ``AzCliCommandInvoker.execute``), with a new ``AzCli`` per command
as every ``az`` process had: load the command table, load the command's arguments (reflection over the SDK
or custom function's signature, then the module's ``_params.py`` registrations), raise the events that add
``--ids`` and ``--subscription``, and turn every argument into an argparse action with the core's own
``AzCliCommandParser._add_argument``.

Output (stdout, JSON): ``{"cli_core": version, "module": version, "commands": {name: {"arguments": [...],
"deprecated": bool, "supports_no_wait": bool, "confirmation": bool}}, "groups": {name: {"deprecated": bool,
"hidden": bool}}}`` (0.4.10 deprecated and hid the whole ``batchai`` group: every command warned). Each
argument has ``dest``, ``options`` (option strings), ``required`` (for argparse), ``required_without_ids``
(required unless ``--ids`` is given), ``choices``, ``default``, ``action`` (store_true...), ``nargs``,
``group`` (the help group: "Admin Account"...), ``global`` (the parents every command shares: ``--output``,
``--query``...), ``hidden`` (help suppressed), ``deprecated``, ``configured_default`` (the ``az configure
--defaults`` key) and ``id_part``.
None of the three modules declares argparse mutually exclusive groups (their exclusive options, such as
``--min``/``--max`` both or neither, are checked in custom.py when the command runs), so there is none to dump.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional


def _jsonable(value: Any) -> Any:
    """Defaults and choices as JSON: enums and other objects by their string form."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(getattr(value, "value", value))


def _action_name(action: argparse.Action) -> str:
    """The ``action=`` an argument was registered with (store, store_true, append, a custom class...)."""
    names = {
        argparse._StoreAction: "store",  # noqa: SLF001 -- argparse has no public action registry
        argparse._StoreTrueAction: "store_true",  # noqa: SLF001
        argparse._StoreFalseAction: "store_false",  # noqa: SLF001
        argparse._AppendAction: "append",  # noqa: SLF001
        argparse._StoreConstAction: "store_const",  # noqa: SLF001
        argparse._CountAction: "count",  # noqa: SLF001
        argparse._HelpAction: "help",  # noqa: SLF001
    }
    return names.get(type(action), type(action).__name__)


def _new_invoker(cli: Any) -> Any:
    """A fresh invoker, as ``AzCli.invoke`` makes for every command line."""
    invoker = cli.invocation_cls(cli_ctx=cli, commands_loader_cls=cli.commands_loader_cls,
                                 parser_cls=cli.parser_cls, help_cls=cli.help_cls)
    cli.invocation = invoker
    return invoker


def _load_command(cli: Any, command: str) -> Any:
    """The invoker's steps up to (not including) the parser, for one command (``AzCliCommandInvoker.execute``)."""
    from azure.cli.core.commands import events as az_events
    from knack.events import EVENT_INVOKER_POST_CMD_TBL_CREATE, EVENT_INVOKER_PRE_CMD_TBL_CREATE

    # The pre/post load-arguments events exist in current cores only (2.0.6x has neither): raised when present.
    pre_load = getattr(az_events, "EVENT_INVOKER_PRE_LOAD_ARGUMENTS", None)
    post_load = getattr(az_events, "EVENT_INVOKER_POST_LOAD_ARGUMENTS", None)
    args = command.split()
    invoker = _new_invoker(cli)
    invoker.data["command_string"] = command
    cli.raise_event(EVENT_INVOKER_PRE_CMD_TBL_CREATE, args=args)
    loader = invoker.commands_loader
    loader.load_command_table(args)
    loader.command_table = {command: loader.command_table[command]}
    loader.command_name = command
    if pre_load:
        cli.raise_event(pre_load, commands_loader=loader)
    loader.load_arguments(command)
    if post_load:
        cli.raise_event(post_load, commands_loader=loader)
    # Before the core adds --ids: which arguments the command itself required (the ids handler then makes the
    # id-part ones optional for argparse and checks "--ids or all of them" on its own).
    invoker.data["_required_before_ids"] = {
        dest: bool(arg.type.settings.get("required", False))
        for dest, arg in loader.command_table[command].arguments.items()}
    cli.raise_event(EVENT_INVOKER_POST_CMD_TBL_CREATE, commands_loader=loader)
    return invoker


def _argument(action: argparse.Action, group: Optional[str], is_global: bool,
              settings: Dict[str, Any], required_before_ids: Optional[bool] = None) -> Dict[str, Any]:
    """One argparse action as JSON."""
    deprecate = settings.get("deprecate_info")
    return {
        "dest": action.dest,
        "options": [str(o) for o in action.option_strings],
        "required": bool(action.required),
        "required_without_ids": bool(action.required) if required_before_ids is None else required_before_ids,
        "choices": _jsonable(list(action.choices)) if action.choices is not None else None,
        "default": _jsonable(action.default) if action.default is not argparse.SUPPRESS else None,
        "action": _action_name(action),
        "nargs": _jsonable(action.nargs),
        "type": getattr(action.type, "__name__", None) if action.type is not None else None,
        "group": group,
        "global": is_global,
        "hidden": action.help == argparse.SUPPRESS,
        "deprecated": bool(deprecate),
        "configured_default": settings.get("configured_default"),
        # Arguments that are parts of the resource id: with --ids (added by the core) argparse does not
        # require them; the core checks "--ids or these" itself before the command runs.
        "id_part": settings.get("id_part"),
    }


def _describe(invoker: Any, command: str) -> Dict[str, Any]:
    """One command's arguments as argparse actions.

    Each registered argument goes through the core's own ``AzCliCommandParser._add_argument`` (what
    ``load_command_table`` of the parser does per argument) into a scratch parser; the command's full
    parser is not built because cores <= 2.0.69 pre-register every verb in the subparsers' choices (a
    work-around for bpo-9253) which Python >= 3.11's argparse rejects as a conflicting subparser.
    The shared global arguments (``--output``, ``--query``, ``--debug``...) are the parser's parents.
    """
    metadata = invoker.commands_loader.command_table[command]
    parser_cls = type(invoker.parser)
    arguments: List[Dict[str, Any]] = []
    for parent in invoker.parser.parents:
        for action in parent._actions:  # noqa: SLF001 -- argparse keeps its actions private
            arguments.append(_argument(action, None, True, {}))
    for _, arg in metadata.arguments.items():
        settings = arg.type.settings
        deprecate = settings.get("deprecate_info")
        if deprecate is not None and getattr(deprecate, "expired", lambda: False)():
            continue  # the core leaves expired arguments out of the parser
        scratch = argparse.ArgumentParser(add_help=False)
        parser_cls._add_argument(scratch, arg)  # noqa: SLF001 -- the core's own conversion
        for action in scratch._actions:  # noqa: SLF001
            arguments.append(_argument(action, arg.arg_group, False, settings,
                                       invoker.data["_required_before_ids"].get(action.dest)))
    return {
        "arguments": arguments,
        # Unique-prefix abbreviations of long options (argparse's allow_abbrev; the core never turns it off).
        "allow_abbrev": bool(getattr(invoker.parser, "allow_abbrev", True)),
        "deprecated": bool(metadata.deprecate_info),
        "supports_no_wait": bool(getattr(metadata, "supports_no_wait", False)),
        "confirmation": bool(getattr(metadata, "confirmation", False)),
    }


def main() -> int:
    """Print the JSON dump of every ``batchai`` command of the installed module."""
    os.environ.setdefault("AZURE_CONFIG_DIR", tempfile.mkdtemp(prefix="cli-oracle-"))
    os.environ["AZURE_CORE_COLLECT_TELEMETRY"] = "no"
    from importlib.metadata import version

    if not hasattr(time, "clock"):
        # azure-cli-core <= 2.0.69 (the last cores that load the 2017/2018 modules, whose loaders pass
        # `min_profile`) reads its session file's age with time.clock, which Python 3.8 removed. Only the
        # session cache's expiry uses it; the command table does not depend on it.
        time.clock = time.perf_counter  # type: ignore[attr-defined]

    from azure.cli.core import get_default_cli

    cli = get_default_cli()
    invoker = _new_invoker(cli)
    invoker.commands_loader.load_command_table(["batchai"])
    names = sorted(n for n in invoker.commands_loader.command_table if n.split()[0] == "batchai")
    commands = {}
    for name in names:
        # A new AzCli per command, as every `az` process had: old cores keep parser state between invocations.
        commands[name] = _describe(_load_command(get_default_cli(), name), name)
    groups = {}
    for name, group in invoker.commands_loader.command_group_table.items():
        if name.split()[0] == "batchai":
            kwargs = getattr(group, "group_kwargs", None) or (group if isinstance(group, dict) else {})
            deprecate = kwargs.get("deprecate_info")
            groups[name] = {"deprecated": deprecate is not None,
                            "hidden": bool(getattr(deprecate, "hide", False))}
    json.dump({"cli_core": version("azure-cli-core"), "module": version("azure-cli-batchai"),
               "commands": commands, "groups": groups}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
