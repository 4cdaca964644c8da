"""``python -m batchai_compat.migrate PATH...`` (console script ``batchai-migrate``): change the imports.

Rewrites the import statements of ``.py`` files and of the code cells of ``.ipynb`` notebooks from
the legacy packages (``azure.mgmt.batchai``, ``azure.storage.blob``/``.file``,
``azure.common.credentials``, ``azure.mgmt.resource``/``.storage``...) to batchai_compat, for the
client generation the file's calls belong to, and prints a report per file::

    batchai-migrate notebooks/                 # rewrite in place
    batchai-migrate --check --diff notebooks/  # change nothing; exit 1 if anything would change

* The mapping is :func:`batchai_compat.install`'s alias table (``batchai_compat._install``), the
  same that ``docs/migration.md``'s import table is checked against; ``import azure.storage.file.models``
  followed by full dotted uses becomes ``from batchai_compat.legacy import azure``. ``azure.mgmt.resource``
  / ``azure.mgmt.storage`` are rewritten only for the local backend (``install()`` does the same).
* The generation (0.2.0, 1.0.x, 2.0.0, 7.0.0) is detected from the calls, against each generation's
  operation signatures and models (:mod:`batchai_compat.migrate.generations`): the ``azure.mgmt.batchai``
  imports then name ``batchai_compat.v2017_09_01_preview``, ``batchai_compat.v2018_03_01`` or
  ``batchai_compat``. Calls of several generations in one file: each is reported, nothing is
  rewritten unless ``--generation`` says which one to use.
* The report lists what changed (line numbers; ``cell N line M`` in notebooks), each call's
  generation, the imports left alone and why, and the partial / unsupported notes of the chosen
  backend (the ``notes`` tables of the backend classes, as in ``docs/coverage.md``) for the operations
  and toolkits the file uses. ``--backend``: default as for the client (``$BATCHAI_COMPAT_BACKEND``,
  the config file, ``local``).
* Notebook cells with ``%pip install azure-mgmt-batchai`` / ``!pip install ...`` lines are reported;
  they are changed (to ``batchai-compat``) only with ``--pip``, because what a notebook installs is
  part of its environment rather than of its code, and a pinned version is a deliberate choice.
* Nothing else changes: the rest of each file is byte-identical (a notebook is edited in its raw
  JSON text, never re-serialized); a second run changes nothing. Files that do not parse, and
  notebooks that are not valid JSON, are reported and left alone. Files are written atomically
  (temporary file + rename, keeping the mode).

Exit status: 0, or 1 with ``--check`` when a file would change, or 2 when a file could not be
handled (syntax error, invalid notebook, mixed generations, a generation batchai_compat lacks).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from batchai_compat.migrate import generations as gens
from batchai_compat.migrate import notebook as nb
from batchai_compat.migrate.source import (
    Analysis,
    Change,
    Signal,
    analyse_calls,
    backend_notes,
    rewrite_imports,
    split_lines,
)

__all__ = ["FileResult", "main", "migrate_text", "migrate_notebook"]

_MAGIC = re.compile(r"^(\s*)(?:[%!]|[A-Za-z_](?=[\w.]*\?{1,2}\s*$))")  # %magic, !shell, help?
_PIP = re.compile(r"^\s*[%!].*\b(?:pip3?|conda)\b.*\binstall\b.*\bazure-mgmt-batchai\b")
_CREDENTIALS_IN_URL = re.compile(r"(://)[^/@\s]+@")
_PIP_REQUIREMENT = re.compile(r"azure-mgmt-batchai(?:\[[^\]]*\])?"
                              r"(?:\s*(?:==|~=|>=|<=|!=|<|>)\s*[\w.*+!-]+(?:\s*,\s*(?:==|~=|>=|<=|!=|<|>)\s*[\w.*+!-]+)*)?")


class FileResult:
    """What migrating one file did (or would do)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.old = ""
        self.new = ""
        self.generation: Optional[str] = None
        self.why = ""
        self.changes: List[Tuple[str, Change]] = []  # (where, change)
        self.signals: List[Signal] = []
        self.where: List[str] = []  # per signal: "line 4" / "cell 2 line 4"
        self.problems: List[str] = []
        self.pip: List[str] = []
        self.notes: List[Tuple[str, str, List[str]]] = []
        self.error: Optional[str] = None

    @property
    def changed(self) -> bool:
        return self.error is None and self.new != self.old


def _mask_magics(source: str) -> str:
    """IPython ``%line`` / ``!shell`` / ``name?`` lines as comments of the same length (columns are kept)."""
    return "".join(_MAGIC.sub(lambda m: m.group(1) + "#", line, count=1) for line in split_lines(source))


def _decide(result: FileResult, analysis: Analysis, where: List[str], generation: Optional[str]) -> bool:
    result.signals, result.where = analysis.signals, where
    if generation is not None:
        result.generation, result.why = generation, "given with --generation"
    else:
        result.generation, result.why = gens.choose([s.candidates for s in analysis.signals])
    if result.generation is None:
        result.error = result.why + "; not rewritten (pass --generation to choose one)"
        return False
    gen = gens.generations()[result.generation]
    if gen.module is None:
        result.error = (f"azure-mgmt-batchai {gen.sdk} code ({result.why}), but batchai_compat has no {gen.sdk} "
                        "package yet; not rewritten")
        return False
    return True


def _finish(result: FileResult, analysis: Analysis, backend: Any, where_of: Any) -> None:
    result.problems = [f"{where_of(line)}: {message}" for line, message in analysis.problems]
    if backend is not None:
        result.notes = [(key, note, [where_of(line) for line in lines])
                        for key, note, lines in backend_notes(backend, result.signals)]


def migrate_text(text: str, path: str = "<text>", generation: Optional[str] = None, local: bool = True,
                 backend: Any = None) -> FileResult:
    """Migrate the Python source ``text`` (nothing is written)."""
    result = FileResult(path)
    result.old = result.new = text
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        result.error = f"does not parse ({exc.__class__.__name__}: {exc}); not touched"
        return result
    analysis = Analysis()
    analyse_calls([(tree, 0)], analysis)
    if not _decide(result, analysis, [f"line {s.line}" for s in analysis.signals], generation):
        return result
    assert result.generation is not None
    result.new, changes = rewrite_imports(text, tree, result.generation, local, analysis)
    result.changes = [(f"line {c.line}", c) for c in changes]
    _finish(result, analysis, backend, lambda line: f"line {line}")
    return result


def migrate_notebook(raw: str, path: str = "<notebook>", generation: Optional[str] = None, local: bool = True,
                     backend: Any = None, pip: bool = False) -> FileResult:
    """Migrate the notebook JSON text ``raw`` (code cells only; nothing is written)."""
    result = FileResult(path)
    result.old = result.new = raw
    try:
        found = nb.cells(raw)
    except nb.NotebookError as exc:
        result.error = f"{exc}; not touched"
        return result
    code = [c for c in found if c.cell_type == "code"]
    parsed: List[Tuple[nb.Cell, ast.Module]] = []
    offsets: List[Tuple[int, nb.Cell]] = []  # a running line offset per cell, for one namespace
    offset = 0
    new_sources = {}
    for cell in code:
        for number, line in enumerate(split_lines(cell.source), 1):
            if _PIP.match(line):
                hint = "rewritten to batchai-compat (--pip)" if pip else "use `batchai-compat` (pass --pip to rewrite)"
                shown = _CREDENTIALS_IN_URL.sub(r"\1***@", line.strip())  # an index URL may carry a token
                result.pip.append(f"cell {cell.index + 1} line {number}: {shown} -- {hint}")
        if pip and any(_PIP.match(line) for line in split_lines(cell.source)):
            new_sources[cell.index] = "".join(_PIP_REQUIREMENT.sub("batchai-compat", line) if _PIP.match(line)
                                              else line for line in split_lines(cell.source))
        if cell.source.lstrip().startswith("%%"):
            continue  # a cell magic: not Python
        try:
            tree = ast.parse(_mask_magics(cell.source))
        except (SyntaxError, ValueError) as exc:
            result.error = f"cell {cell.index + 1} does not parse ({exc.__class__.__name__}: {exc}); not touched"
            return result
        parsed.append((cell, tree))
        offsets.append((offset, cell))
        offset += cell.source.count("\n") + 1

    def where_of(line: int) -> str:
        for start, cell in reversed(offsets):
            if line > start:
                return f"cell {cell.index + 1} line {line - start}"
        return f"line {line}"

    analysis = Analysis()
    analyse_calls([(tree, start) for (_, tree), (start, _) in zip(parsed, offsets)], analysis)
    if not _decide(result, analysis, [where_of(s.line) for s in analysis.signals], generation):
        return result
    assert result.generation is not None
    for (cell, tree), (start, _) in zip(parsed, offsets):
        cell_analysis = Analysis()
        source = new_sources.get(cell.index, cell.source)
        new, changes = rewrite_imports(source, tree, result.generation, local, cell_analysis)
        analysis.problems.extend((line + start, message) for line, message in cell_analysis.problems)
        result.changes.extend((where_of(c.line + start), c) for c in changes)
        if new != cell.source:
            new_sources[cell.index] = new
    if new_sources:
        result.new = nb.replace_sources(raw, new_sources, found)
    _finish(result, analysis, backend, where_of)
    return result


# -------------------------------------------------------------------------------------------- CLI


def _files(paths: Sequence[str]) -> List[Path]:
    out: List[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                parts = found.relative_to(path).parts
                if any(p.startswith(".") or p == "__pycache__" for p in parts):
                    continue
                if found.suffix in (".py", ".ipynb") and found.is_file():
                    out.append(found)
        else:
            out.append(path)
    return out


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` through a temporary file in its directory, keeping its mode."""
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".migrate", dir=str(path.parent))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def report(result: FileResult, backend_label: str) -> str:
    """The human-readable report of one file."""
    lines = []
    if result.error is not None:
        lines.append(f"{result.path}: ERROR: {result.error}")
    elif result.changes or result.changed:
        lines.append(f"{result.path}: {len(result.changes)} import statement(s) changed "
                     f"for azure-mgmt-batchai {result.generation} ({result.why})")
    elif not result.signals:
        lines.append(f"{result.path}: nothing to change")
    else:
        lines.append(f"{result.path}: nothing to change (azure-mgmt-batchai {result.generation}: {result.why})")
    for where, change in result.changes:
        lines.append(f"  changed {where}: {change.old}  ->  {change.new}")
    shown = [(w, s) for w, s in zip(result.where, result.signals)
             if s.operation or s.candidates != frozenset(gens.generations())]
    if shown:
        lines.append("  calls and their generations:")
        lines.extend(f"    {where}: {signal.text} -> {gens.label(signal.candidates)}" for where, signal in shown)
    for problem in result.problems:
        lines.append(f"  kept {problem}")
    for pip in result.pip:
        lines.append(f"  pip {pip}")
    if result.notes:
        lines.append(f"  the {backend_label} backend will warn about or refuse:")
        lines.extend(f"    {key} ({', '.join(where)}): {note}" for key, note, where in result.notes)
    return "\n".join(lines)


def _backend(name: Optional[str]) -> Tuple[str, str, Any]:
    """(backend name, where the choice came from, its class or None)."""
    from batchai_compat.backends import registry

    chosen, source = registry.resolve(name)
    backend_name = str(getattr(chosen, "name", chosen)).lower()
    try:
        cls: Any = type(chosen) if not isinstance(chosen, str) else registry._load_class(backend_name)
    except Exception:  # a backend that cannot be imported here: no notes, the rewrite still works
        cls = None
    return backend_name, source, cls


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="batchai-migrate", description=(
        "Rewrite the legacy Batch AI imports of .py files and .ipynb notebooks to batchai_compat."))
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (searched for .py, .ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything would change")
    parser.add_argument("--diff", action="store_true", help="print a unified diff of the changes")
    parser.add_argument("--generation", choices=sorted(gens.generations()),
                        help="the azure-mgmt-batchai release the code was written for (default: detected)")
    parser.add_argument("--backend", help="the backend the code will run on (default: as the client chooses)")
    parser.add_argument("--pip", action="store_true",
                        help="also rewrite notebook '%%pip/!pip install azure-mgmt-batchai' lines to batchai-compat")
    args = parser.parse_args(argv)
    backend_name, source, backend_cls = _backend(args.backend)
    label = f"{backend_name} ({source})"
    status = 0
    for path in _files(args.paths):
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{path}: ERROR: cannot read ({exc}); not touched")
            status = 2
            continue
        local = backend_name == "local"
        if path.suffix == ".ipynb":
            result = migrate_notebook(text, str(path), args.generation, local, backend_cls, args.pip)
        else:
            result = migrate_text(text, str(path), args.generation, local, backend_cls)
        print(report(result, label))
        if result.error is not None:
            status = 2
            continue
        if result.changed:
            if args.diff:
                sys.stdout.writelines(difflib.unified_diff(
                    split_lines(result.old), split_lines(result.new),
                    f"a/{str(path).lstrip('/')}", f"b/{str(path).lstrip('/')}"))
            if args.check:
                status = max(status, 1)
            else:
                write_atomically(path, result.new)
    return status
