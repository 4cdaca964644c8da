"""Dump *our* ``batchai`` command table as JSON, in the format of ``scripts/cli_oracle_dump.py``.

Why a separate, parser-based enumeration instead of trusting the framework's own description: the parity
test (``tests/cli/test_parity.py``) should compare what ``batchai <command>`` really parses. So this goes
through knack's invoker steps (``knack/invocation.py``, ``CommandInvoker.execute``: load the command
table for the command line, load that command's arguments, build the argparse parser) with a fresh CLI per
command, as every ``batchai`` process does, and reads the argparse actions of the command's parser.

Run with the project's interpreter: ``.venv/bin/python scripts/cli_oracle_ours.py`` prints
``{"commands": {"batchai job create": {"arguments": [...], ...}}}``; command names carry the ``batchai``
prefix like the original's. ``--resolve`` asks the real parser which argument option prefixes (abbreviations)
select: our parser refines argparse's matching (0.4.10's options win over the old CLIs' spellings), so the
parity test does not model that rule itself.
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


def resolve(command: str, prefixes: List[str]) -> Dict[str, Optional[str]]:
    """Which argument (dest) the real parser of ``batchai <command>`` gives each option prefix, or None when
    it rejects it (ambiguous, unknown).

    The parser is asked by parsing ``<prefix> 1`` (or ``<prefix>`` for a flag) with every argument made
    optional, so no other option is needed; argparse's own abbreviation matching and any override of it in
    our parser class decide. Validators do not run (only the parser)."""
    import contextlib
    import io

    _, parser, _ = _command_parser(command)
    for action in parser._actions:  # noqa: SLF001 -- argparse keeps its actions private
        action.required = False
    by_option = {o: a for a in parser._actions for o in a.option_strings}  # noqa: SLF001
    out: Dict[str, Optional[str]] = {}
    dests = {a.dest for a in parser._actions}  # noqa: SLF001
    for prefix in prefixes:
        candidates = [a for o, a in sorted(by_option.items()) if o.startswith(prefix)]
        # A value the selected option accepts: one of its choices (not its default: the selection is seen as
        # a value different from the default), a number, or a word (a JMESPath query); an ambiguous or unknown
        # prefix fails with every one of them.
        values: List[List[str]] = [[]] if candidates and all(a.nargs == 0 for a in candidates) else []
        values += [[str(c)] for a in candidates if a.choices
                   for c in [c for c in a.choices if c != a.default][:1]] + [["1"], ["a"]]
        out[prefix] = None
        for value in values:
            try:
                with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                    namespace, extra = parser.parse_known_args([prefix, *value])
            except SystemExit:
                continue
            given = [d for d in dests if d in vars(namespace) and vars(namespace)[d] not in (None, False, [])
                     and vars(namespace)[d] != _default_of(parser, d)]
            if len(given) == 1 and not extra:
                out[prefix] = given[0]
                break
    return out


def _default_of(parser: Any, dest: str) -> Any:
    return next((a.default for a in parser._actions if a.dest == dest), None)  # noqa: SLF001


def main() -> int:
    """Print every command of ours (all command modules) with its arguments; with ``--resolve``, read
    ``{command: [prefix, ...]}`` (JSON) from stdin and print ``{command: {prefix: dest or null}}``."""
    os.environ.setdefault("AZURE_CONFIG_DIR", tempfile.mkdtemp(prefix="cli-ours-"))
    if sys.argv[1:] == ["--resolve"]:
        requests = json.load(sys.stdin)
        json.dump({name: resolve(name, prefixes) for name, prefixes in requests.items()}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
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
