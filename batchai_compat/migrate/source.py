"""Rewrite the import statements of one piece of Python source; find its calls' generations.

The legacy module -> batchai_compat module mapping is the one :func:`batchai_compat.install` uses
(``batchai_compat._install``: ``_target_for``, the fallbacks and the injection sources) — imported,
not copied — with ``batchai_compat`` replaced by the chosen generation's package for the
``azure.mgmt.batchai`` names. Only import statements are replaced (their exact source span);
adjacent ``from`` imports that end up naming the same module are merged into one line.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from batchai_compat import _install
from batchai_compat.migrate import generations as gens

LEGACY_OBJECT = "batchai_compat.legacy"


class Signal:
    """A call (or model reference) and the generations it fits."""

    def __init__(self, line: int, text: str, candidates: FrozenSet[str], notes_keys: Tuple[str, ...] = (),
                 operation: bool = False) -> None:
        self.operation = operation  # an operation call (else a model use)
        self.line = line
        self.text = text
        self.candidates = candidates
        self.notes_keys = notes_keys


class Change:
    def __init__(self, line: int, old: str, new: str) -> None:
        self.line = line
        self.old = old
        self.new = new


class Analysis:
    def __init__(self) -> None:
        self.signals: List[Signal] = []
        self.problems: List[Tuple[int, str]] = []  # (line, message): imports left alone, and why


# ----------------------------------------------------------------------------------- module mapping


class Unavailable(Exception):
    """The legacy module has a mapping, but not for the chosen generation / backend."""


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def module_target(legacy: str, generation: str, local_backend: bool) -> Optional[str]:
    """The batchai_compat module to import instead of ``legacy`` (``None``: not a legacy name)."""
    mgmt = _install._is_mgmt(legacy)
    target = _install._target_for(legacy, mgmt and local_backend)
    if target is None:
        target = _install._FALLBACKS.get(legacy) or _install._INJECT_SOURCE.get(legacy)
    if target is None:
        if mgmt and _install._target_for(legacy, True) is not None:
            raise Unavailable(f"{legacy} is kept: on a backend other than local the real package is the right "
                              "answer (docs/migration.md, section 2a)")
        return None
    if legacy == _install._BATCHAI or legacy.startswith(_install._BATCHAI + "."):
        gen = gens.generations()[generation]
        if gen.module is None:
            raise Unavailable(f"{legacy}: batchai_compat has no package for azure-mgmt-batchai {generation} yet")
        target = gen.module + target[len("batchai_compat"):]
        while not _exists(target) and target.count(".") > gen.module.count("."):
            target = target.rpartition(".")[0]  # a per-class module the generation does not have
    return target


def _public(target: str, names: Sequence[str]) -> str:
    """``batchai_compat.storage._errors`` -> ``batchai_compat.storage`` when that has every name."""
    parts = target.split(".")
    if not any(p.startswith("_") for p in parts):
        return target
    public = ".".join(p for p in parts if not p.startswith("_"))
    while public.count("."):
        try:
            module = importlib.import_module(public)
        except ImportError:
            break
        if all(hasattr(module, n) for n in names):
            return public
        public = public.rpartition(".")[0]
    return target


def _has(module: str, name: str) -> bool:
    try:
        mod = importlib.import_module(module)
        return hasattr(mod, name) or _exists(f"{module}.{name}")
    except Exception:  # noqa: BLE001 (a lazy attribute whose import fails: not available here)
        return False


# ------------------------------------------------------------------------------------- rewriting


def _alias(name: str, asname: Optional[str]) -> str:
    return f"{name} as {asname}" if asname else name


class _Rewrite:
    """The new statements for one import statement (``None`` when it stays)."""

    def __init__(self, node: ast.stmt, lines: List[str], merge_module: Optional[str] = None,
                 merge_names: Optional[List[str]] = None) -> None:
        self.node = node
        self.lines = lines
        self.merge_module = merge_module  # set when the result is one plain "from M import a, b"
        self.merge_names = merge_names or []


def _rewrite_import(node: ast.Import, generation: str, local: bool, binds_azure_unmapped: bool,
                    analysis: Analysis) -> Optional[_Rewrite]:
    out: List[str] = []
    kept: List[str] = []
    changed = False
    for alias in node.names:
        try:
            target = module_target(alias.name, generation, local)
        except Unavailable as exc:
            analysis.problems.append((node.lineno, str(exc)))
            kept.append(_alias(alias.name, alias.asname))
            continue
        if target is None:
            kept.append(_alias(alias.name, alias.asname))
            continue
        if alias.asname:
            out.append(f"import {target} as {alias.asname}")
            changed = True
        elif alias.name.startswith("azure.") and not binds_azure_unmapped and (
                generation == "2.0.0" or not alias.name.startswith(_install._BATCHAI)):
            out.append(f"from {LEGACY_OBJECT} import azure")  # the full dotted uses keep working
            changed = True
        else:
            why = ("other `import azure...` statements of this file name modules batchai_compat does not replace"
                   if binds_azure_unmapped else
                   f"dotted uses of {alias.name} have no {generation} equivalent; import it with `as`")
            analysis.problems.append((node.lineno, f"`import {alias.name}` kept: {why}"))
            kept.append(alias.name)
    if not changed:
        return None
    if kept:
        out.insert(0, "import " + ", ".join(kept))
    if len(out) == 1 and out[0].startswith("from "):
        return _Rewrite(node, out, LEGACY_OBJECT, ["azure"])
    return _Rewrite(node, out)


def _rewrite_from(node: ast.ImportFrom, generation: str, local: bool, analysis: Analysis) -> Optional[_Rewrite]:
    if node.level or not node.module:
        return None
    module = node.module
    names = [(a.name, a.asname) for a in node.names]
    try:
        target = module_target(module, generation, local)
    except Unavailable as exc:
        analysis.problems.append((node.lineno, str(exc)))
        return None
    if target is None:
        # ``from azure.mgmt import batchai``: the imported name is itself a legacy module
        out, kept = [], []
        for name, asname in names:
            try:
                sub = module_target(f"{module}.{name}", generation, local) if name != "*" else None
            except Unavailable as exc:
                analysis.problems.append((node.lineno, str(exc)))
                sub = None
            if sub is None:
                kept.append(_alias(name, asname))
            else:
                out.append(f"import {sub} as {asname or name}")
        if not out:
            return None
        if kept:
            out.insert(0, f"from {module} import " + ", ".join(kept))
        return _Rewrite(node, out)
    if names == [("*", None)]:
        return _Rewrite(node, [f"from {target} import *"])
    present = [(n, a) for n, a in names if _has(target, n)]
    missing = [(n, a) for n, a in names if not _has(target, n)]
    if not present:
        analysis.problems.append((node.lineno, f"`from {module} import {', '.join(n for n, _ in names)}` kept: "
                                               f"{target} has none of these names"))
        return None
    target = _public(target, [n for n, _ in present])
    for name, _ in missing:
        analysis.problems.append((node.lineno, f"{module}.{name} kept: it has no batchai_compat equivalent "
                                               "(docs/migration.md, the import table)"))
    new_names = [_alias(n, a) for n, a in present]
    lines = [f"from {target} import " + ", ".join(new_names)]
    if missing:
        lines.insert(0, f"from {module} import " + ", ".join(_alias(n, a) for n, a in missing))
        return _Rewrite(node, lines)
    return _Rewrite(node, lines, target, new_names)


# --------------------------------------------------------------------------------------- analysis


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _bindings(tree: ast.AST) -> Dict[str, str]:
    """Local name -> the legacy dotted path it stands for (``models`` -> ``azure.mgmt.batchai.models``)."""
    out: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    out.setdefault(alias.name.split(".")[0], alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def _model_name(path: Optional[str]) -> Optional[str]:
    if not path or not path.startswith(_install._BATCHAI + "."):
        return None
    last = path.rsplit(".", 1)[-1]
    if not last[:1].isupper() or last.startswith("BatchAIManagementClient"):
        return None
    return last


def _toolkit_keys() -> Dict[str, str]:
    """Model class name -> the backends' ``notes`` key it makes relevant (``toolkit.tensor_flow``...)."""
    from batchai_compat.models import JobCreateParameters

    out = {spec["type"]: "toolkit." + key[: -len("_settings")]
           for key, spec in JobCreateParameters._attribute_map.items()
           if key.endswith("_settings") and key != "container_settings"}
    out["FileServerReference"] = "mounts.file_servers"
    out["UnmanagedFileSystemReference"] = "mounts.unmanaged_file_systems"
    return out


def _operation_key(group: str, method: str) -> str:
    """The 2.0.0 operation name (the key of the backends' ``notes``) of any generation's call."""
    for gen in gens.generations().values():
        if gen.lro_prefix and method.startswith(gen.lro_prefix):
            method = method[len(gen.lro_prefix):]
    group = {"usage": "usages"}.get(group, group)
    if method in ("list", "list_by_resource_group") and group in ("clusters", "file_servers"):
        method = "list_by_workspace"
    elif method in ("list", "list_by_resource_group") and group == "jobs":
        method = "list_by_experiment"
    return f"{group}.{method}"


def analyse_calls(trees: Sequence[Tuple[ast.AST, int]], analysis: Analysis) -> None:
    """Add a :class:`Signal` for every operation call and Batch AI model use of ``trees``.

    ``trees``: (module AST, number added to its line numbers for the report)."""
    bindings: Dict[str, str] = {}
    for tree, _ in trees:
        bindings.update(_bindings(tree))
    groups = gens.known_groups()
    toolkits = _toolkit_keys()

    def resolve(node: ast.AST) -> Optional[str]:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = bindings.get(head)
        if base is None:
            return None
        return base + ("." + rest if rest else "")

    for tree, offset in trees:
        seen: Set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                dynamic = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None
                                                                                  for k in node.keywords)
                keywords = tuple(k.arg for k in node.keywords if k.arg)
                name = _model_name(resolve(func))
                if name is not None:
                    seen.add(id(func))
                    shown = f"{name}({', '.join(k + '=' for k in keywords)})"
                    analysis.signals.append(Signal(node.lineno + offset, shown, gens.model_generations(name, keywords),
                                                   (toolkits[name],) if name in toolkits else ()))
                    continue
                if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute)
                        and func.value.attr in groups
                        # ``self.jobs.get(...)``: an object's own attribute (a dict...), not a client's group
                        and not (isinstance(func.value.value, ast.Name) and func.value.value.id in ("self", "cls"))):
                    group, method = func.value.attr, func.attr
                    candidates = gens.call_generations(group, method, len(node.args), keywords, dynamic)
                    if not candidates and not any(method in vars(c) or method.startswith(g.lro_prefix or "\0")
                                                  for g in gens.generations().values()
                                                  for c in g.groups.values()):
                        continue  # not an operation of any generation (e.g. a dict's .get on an attribute)
                    shown = f"{group}.{method}({len(node.args)} positional"
                    shown += (", " + ", ".join(k + "=" for k in keywords) if keywords else "") + ")"
                    analysis.signals.append(Signal(node.lineno + offset, shown, candidates,
                                                   (_operation_key(group, method),), operation=True))
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    name = _model_name(f"{node.module}.{alias.name}")
                    if name is not None:
                        analysis.signals.append(Signal(node.lineno + offset, f"import of {name}",
                                                       gens.model_generations(name, ()),
                                                       (toolkits[name],) if name in toolkits else ()))
            elif isinstance(node, ast.Attribute) and id(node) not in seen and isinstance(node.ctx, ast.Load):
                name = _model_name(resolve(node))
                if name is not None and _dotted(node) is not None:
                    analysis.signals.append(Signal(node.lineno + offset, name, gens.model_generations(name, ()),
                                                   (toolkits[name],) if name in toolkits else ()))
                    for child in ast.walk(node):
                        seen.add(id(child))
    analysis.signals.sort(key=lambda s: s.line)


# ---------------------------------------------------------------------------------------- rewrite


def split_lines(text: str) -> List[str]:
    """The lines of ``text`` as the tokenizer counts them (``\n`` / ``\r\n`` ends; not ``str.splitlines``,
    which also splits at form feeds and other separators a source line may contain)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _line_starts(text: str) -> List[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _offset(text_lines: List[str], starts: List[int], line: int, col: int) -> int:
    """Character offset of (1-based line, UTF-8 byte column) of the AST."""
    return starts[line - 1] + len(text_lines[line - 1].encode("utf-8")[:col].decode("utf-8", "replace"))


def _imports_in_order(tree: ast.AST) -> List[Tuple[ast.stmt, List[ast.stmt]]]:
    """Every import statement with the statement list (body) it belongs to."""
    out: List[Tuple[ast.stmt, List[ast.stmt]]] = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody", "handlers"):
            body = getattr(node, field, None)
            if isinstance(body, list):
                for stmt in body:
                    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                        out.append((stmt, body))
    out.sort(key=lambda pair: (pair[0].lineno, pair[0].col_offset))
    return out


def rewrite_imports(text: str, tree: ast.AST, generation: str, local: bool,
                    analysis: Analysis) -> Tuple[str, List[Change]]:
    """``text`` with its legacy imports replaced, and the changes (line numbers of ``text``)."""
    lines = split_lines(text)
    starts = _line_starts(text)
    imports = _imports_in_order(tree)
    unmapped_azure = False
    for stmt, _ in imports:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if not alias.asname and alias.name.startswith("azure."):
                    try:
                        mapped = module_target(alias.name, generation, local) is not None and (
                            generation == "2.0.0" or not alias.name.startswith(_install._BATCHAI))
                    except Unavailable:
                        mapped = False
                    unmapped_azure = unmapped_azure or not mapped
    rewrites: List[_Rewrite] = []
    for stmt, _body in imports:
        if isinstance(stmt, ast.Import):
            result = _rewrite_import(stmt, generation, local, unmapped_azure, analysis)
        else:
            assert isinstance(stmt, ast.ImportFrom)
            result = _rewrite_from(stmt, generation, local, analysis)
        if result is not None:
            rewrites.append(result)

    def whole_lines(node: ast.stmt) -> bool:
        first, last = lines[node.lineno - 1], lines[(node.end_lineno or node.lineno) - 1]
        before = first.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")
        after = last.encode("utf-8")[node.end_col_offset or 0:].decode("utf-8", "replace")
        return not before.strip() and not after.strip()

    # merge adjacent "from M import ..." rewrites naming the same module (same body, consecutive lines)
    body_of = {id(stmt): body for stmt, body in imports}
    merged: List[Tuple[_Rewrite, List[_Rewrite]]] = []
    for rewrite in rewrites:
        if merged:
            head, tail = merged[-1]
            last = tail[-1] if tail else head
            if (rewrite.merge_module and rewrite.merge_module == head.merge_module
                    and body_of[id(rewrite.node)] is body_of[id(head.node)]
                    and rewrite.node.lineno == (last.node.end_lineno or last.node.lineno) + 1
                    and rewrite.node.col_offset == head.node.col_offset
                    and whole_lines(rewrite.node) and whole_lines(last.node)):
                tail.append(rewrite)
                continue
        merged.append((rewrite, []))

    edits: List[Tuple[int, int, str, int]] = []
    changes: List[Change] = []
    for head, tail in merged:
        node = head.node
        indent = lines[node.lineno - 1][: len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())]
        if tail:
            names: List[str] = []
            for part in [head] + tail:
                names.extend(n for n in part.merge_names if n not in names)
            new_lines = [f"from {head.merge_module} import " + ", ".join(names)]
        else:
            new_lines = head.lines
        newline = "\r\n" if lines[node.lineno - 1].endswith("\r\n") else "\n"
        joiner = newline + indent if whole_lines(node) else "; "
        start = _offset(lines, starts, node.lineno, node.col_offset)
        end_node = tail[-1].node if tail else node
        end = _offset(lines, starts, end_node.end_lineno or end_node.lineno, end_node.end_col_offset or 0)
        new = joiner.join(new_lines)
        old = text[start:end]
        if new != old:
            edits.append((start, end, new, node.lineno))
            old_shown = " | ".join(" ".join(text[_offset(lines, starts, p.node.lineno, p.node.col_offset):_offset(
                lines, starts, p.node.end_lineno or p.node.lineno, p.node.end_col_offset or 0)].split())
                for p in [head] + tail)
            changes.append(Change(node.lineno, old_shown, new.replace(joiner, " | ")))
    for start, end, new, _ in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text, changes


def backend_notes(backend_class: Any, signals: Sequence[Signal]) -> List[Tuple[str, str, List[int]]]:
    """(notes key, the backend's note, lines) for every partial/unsupported note the signals touch."""
    notes: Dict[str, str] = getattr(backend_class, "notes", {}) or {}
    found: Dict[str, List[int]] = {}
    for signal in signals:
        for key in signal.notes_keys:
            note = notes.get(key)
            if note and not note.split(":", 1)[0].strip().startswith("yes"):
                found.setdefault(key, []).append(signal.line)
    return [(key, notes[key], sorted(set(found[key]))) for key in sorted(found)]
