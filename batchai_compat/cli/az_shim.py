"""The ``az`` shim: run a recipe's ``az batchai ...`` script unchanged, keep a real ``az`` for the rest.

``batchai az-shim install DIR`` (or ``python -m batchai_compat.cli.az_shim install DIR``) writes an
executable ``DIR/az``: a three-line POSIX ``sh`` script that runs this module with the Python that
installed it (no virtualenv activation needed). Put ``DIR`` first on ``PATH``; then

* ``az batchai <words...>`` runs ``batchai <words...>`` (always: the point of the shim);
* ``az group ...`` and ``az storage ...`` run ``batchai group|storage ...`` when the companion
  commands should own them (:func:`companion_route`), else go to the real ``az``;
* anything else (``az login``, ``az vm ...``) ``exec``\\ s the next ``az`` found on ``PATH`` after
  the shim, with the same arguments, standard streams and exit code. Without one, the shim exits
  127 (the shell's "command not found" code) naming the command it cannot run.

Routing of ``group``/``storage`` (``BATCHAI_COMPAT_AZ_COMPANION``):

* ``compat``: always ``batchai``; ``az``: always the real ``az`` (an error when there is none);
* ``auto`` (the default, also when unset): ``batchai`` when there is no real ``az``, or when the
  configured batchai_compat backend is the local one (``BATCHAI_COMPAT_BACKEND``, the config file,
  default local: ``batchai_compat.backends.registry.resolve``) — the local backend can only mount
  shares and containers of the local storage, so creating them in Azure would leave the job without
  its data; on the Azure ML backend, resource groups and storage are real Azure ones, which the real
  ``az`` manages.

Why a Python router behind a tiny script: the routing rule needs the backend resolution, which
lives in Python; and a script without logic cannot drift from it. The real ``az`` is found by
walking ``PATH`` and skipping every file carrying the shim's marker line, so two installed shims
never call each other.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import List, Optional, Sequence

ENV_ROUTE = "BATCHAI_COMPAT_AZ_COMPANION"
ROUTES = ("auto", "compat", "az")
MARKER = "# batchai_compat az shim"
COMPANION_WORDS = ("group", "storage")
EXIT_NOT_FOUND = 127

_SCRIPT = """#!/bin/sh
{marker} (written by 'batchai az-shim install'; see docs/cli-companion.md)
exec {python} -m batchai_compat.cli.az_shim --az "$@"
"""


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def script_text(python: Optional[str] = None) -> str:
    """The shim script, running ``python`` (default: this interpreter)."""
    return _SCRIPT.format(marker=MARKER, python=_sh_quote(python or sys.executable))


def install(directory: str, python: Optional[str] = None, force: bool = False) -> Path:
    """Write ``directory/az`` (mode 0755); refuse to overwrite anything that is not a shim unless ``force``."""
    target = Path(directory).expanduser() / "az"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not force and not _is_shim(target):
        raise FileExistsError(f"{target} exists and is not a batchai_compat az shim (use --force to replace it)")
    tmp = target.with_name(".az.tmp")
    tmp.write_text(script_text(python), encoding="utf-8")
    tmp.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    os.replace(tmp, target)
    return target


def _is_shim(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return False
    return MARKER.encode() in head


def find_real_az(path_value: Optional[str] = None) -> Optional[str]:
    """The first executable ``az`` on ``PATH`` that is not a batchai_compat shim, else ``None``."""
    for entry in (path_value if path_value is not None else os.environ.get("PATH", "")).split(os.pathsep):
        candidate = Path(entry or ".") / "az"
        if candidate.is_file() and os.access(candidate, os.X_OK) and not _is_shim(candidate):
            return str(candidate)
    return None


def companion_route(real_az: Optional[str]) -> bool:
    """Whether ``az group|storage`` should run batchai_compat's companion commands (see the module doc)."""
    route = (os.environ.get(ENV_ROUTE) or "auto").strip().lower()
    if route not in ROUTES:
        raise ValueError(f"{ENV_ROUTE}={route!r}: expected one of {', '.join(ROUTES)}")
    if route == "compat":
        return True
    if route == "az":
        return False
    if real_az is None:
        return True
    from batchai_compat.backends.registry import resolve

    backend, _source = resolve(None)
    return backend == "local"


#: Global options of az that take a value (``az -o table batchai job list`` names ``batchai``, not ``table``).
_VALUE_OPTIONS = ("-o", "--output", "--query", "--subscription")


def _first_word(args: Sequence[str]) -> Optional[int]:
    """Index of the first command word, skipping global options (and the values of those that take one)."""
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in _VALUE_OPTIONS:
            skip = True
            continue
        if not arg.startswith("-"):
            return index
    return None


def route(args: Sequence[str]) -> List[str]:
    """Where a command line goes: ``["batchai", *argv]`` or ``[real_az, *args]`` or ``[]`` (nothing)."""
    index = _first_word(args)
    word = args[index] if index is not None else None
    if index is not None and word == "batchai":
        # Global options written before the words go after them (knack reads them anywhere after).
        return ["batchai", *args[index + 1:], *args[:index]]
    real = find_real_az()
    if index is not None and word in COMPANION_WORDS and companion_route(real):
        return ["batchai", *args[index:], *args[:index]]
    if real is None:
        return []
    return [real, *args]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m batchai_compat.cli.az_shim --az ARGS`` (what the script runs), else the installer."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--az"]:
        return run_az(args[1:])
    return admin(args)


def run_az(args: List[str]) -> int:
    """Route one ``az`` command line (see the module doc); returns the exit code (or ``exec``\\ s)."""
    try:
        target = route(args)
    except ValueError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        return 2
    if target and target[0] == "batchai":
        from batchai_compat.cli import main as batchai_main

        return int(batchai_main(target[1:]) or 0)
    if not target:
        index = _first_word(args)
        word = args[index] if index is not None else " ".join(args)
        sys.stderr.write(
            f"az: '{word}' is not provided by batchai_compat's az shim (it provides 'az batchai', 'az group' and "
            "'az storage') and no Azure CLI 'az' was found on PATH after the shim.\n")
        return EXIT_NOT_FOUND
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(target[0], target)
    return EXIT_NOT_FOUND  # pragma: no cover - execv does not return


def admin(args: List[str]) -> int:
    """``install DIR [--force] [--python PATH]`` or ``print [--python PATH]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m batchai_compat.cli.az_shim",
                                     description="Install or print batchai_compat's az shim.")
    sub = parser.add_subparsers(dest="action", required=True)
    inst = sub.add_parser("install", help="write DIR/az")
    inst.add_argument("directory")
    inst.add_argument("--force", action="store_true", help="replace an existing DIR/az that is not a shim")
    inst.add_argument("--python", default=None, help="interpreter the shim runs (default: this one)")
    prt = sub.add_parser("print", help="print the shim script")
    prt.add_argument("--python", default=None)
    ns = parser.parse_args(args)
    if ns.action == "print":
        sys.stdout.write(script_text(ns.python))
        return 0
    try:
        target = install(ns.directory, ns.python, ns.force)
    except FileExistsError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        return 1
    sys.stdout.write(f"{target}\n")
    return 0


def install_command(cmd: object, directory: str, force: bool = False, python: Optional[str] = None) -> str:
    """Install the az shim as DIR/az: put DIR first on PATH to run 'az batchai ...' scripts unchanged.

    :param directory: Directory to write 'az' into (created if missing).
    :param force: Replace an existing DIR/az that is not a batchai_compat shim.
    :param python: Interpreter the shim runs (default: the one running this command).
    """
    try:
        return str(install(directory, python, force))
    except FileExistsError as exc:
        from knack.util import CLIError

        raise CLIError(str(exc)) from None


def print_command(cmd: object, python: Optional[str] = None) -> None:
    """Print the az shim script (to install it yourself).

    :param python: Interpreter the shim runs (default: the one running this command).
    """
    sys.stdout.write(script_text(python))
    sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover - exercised through subprocesses
    sys.exit(main())
