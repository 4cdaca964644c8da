"""Each sample's ``legacy.py`` (the 2018 code) and its compat script differ only in import lines;
so do ``samples/_legacy/utilities`` and ``samples/utilities``; the notebook is ``seed.py``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import List, Set, Tuple

import pytest

from .conftest import SAMPLES

LEGACY_ROOTS = ("azure.mgmt.batchai", "azure.storage.blob", "azure.storage.file", "azure.common.credentials",
                "azure.mgmt.resource", "_legacy")
COMPAT_ONLY_UTILITIES = {"_resources.py"}


def _pairs() -> List[Tuple[Path, Path]]:
    pairs = []
    for legacy in sorted(SAMPLES.glob("*/legacy.py")):
        compat = [p for p in (legacy.with_name("seed.py"), legacy.with_name("sample.py")) if p.exists()]
        assert len(compat) == 1, legacy
        pairs.append((legacy, compat[0]))
    for legacy in sorted((SAMPLES / "_legacy" / "utilities").glob("*.py")):
        pairs.append((legacy, SAMPLES / "utilities" / legacy.name))
    return pairs


PAIRS = _pairs()


def _import_lines(tree: ast.AST) -> Set[int]:
    lines: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _without_imports(path: Path) -> Tuple[List[str], str, List[str]]:
    """(non-import lines, AST dump without import statements, imported module names)."""
    text = path.read_text()
    tree = ast.parse(text, filename=str(path))
    skip = _import_lines(tree)
    lines = [line for number, line in enumerate(text.splitlines(), start=1) if number not in skip]
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append("." * node.level + (node.module or ""))

    class Strip(ast.NodeTransformer):
        def visit_Import(self, node):
            return None

        visit_ImportFrom = visit_Import

    return lines, ast.dump(Strip().visit(tree)), modules


def test_every_sample_has_a_legacy_form():
    samples = sorted(p.parent.name for p in SAMPLES.glob("*/configuration.json"))
    assert len(samples) >= 5
    assert sorted(legacy.parent.name for legacy, _ in PAIRS if legacy.name == "legacy.py") == samples
    utilities = {p.name for p in (SAMPLES / "utilities").glob("*.py")}
    assert {p.name for p in (SAMPLES / "_legacy" / "utilities").glob("*.py")} == utilities - COMPAT_ONLY_UTILITIES


@pytest.mark.parametrize("legacy,compat", PAIRS, ids=[str(p[1].relative_to(SAMPLES)) for p in PAIRS])
def test_only_import_lines_differ(legacy, compat):
    legacy_lines, legacy_ast, legacy_modules = _without_imports(legacy)
    compat_lines, compat_ast, compat_modules = _without_imports(compat)
    assert legacy_lines == compat_lines
    assert legacy_ast == compat_ast
    # The legacy side imports the retired SDKs, never batchai_compat; the compat side the reverse.
    assert not [m for m in legacy_modules if m.startswith("batchai_compat")]
    assert not [m for m in compat_modules if m.startswith(LEGACY_ROOTS[:-1])]
    if any(m.startswith("batchai_compat") for m in compat_modules):
        assert any(m.startswith(LEGACY_ROOTS) for m in legacy_modules)


def test_notebook_code_is_the_seed_script():
    notebook = json.loads((SAMPLES / "seed_tensorflow_distributed" / "seed_tensorflow_distributed.ipynb").read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    script = (SAMPLES / "seed_tensorflow_distributed" / "seed.py").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.startswith("# %%"))
    assert "\n".join(cells).split() == code.split()
    assert all(c["outputs"] == [] for c in notebook["cells"] if c["cell_type"] == "code")


def test_generated_files_are_up_to_date():
    result = subprocess.run([sys.executable, str(SAMPLES / "generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr + "\nrun: python samples/generate.py"
