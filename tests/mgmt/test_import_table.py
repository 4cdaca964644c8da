"""Every row of the migration guide's import table works both ways and means the same thing.

For each row of the table in ``docs/migration.md`` (section 2), in one fresh interpreter on the local
backend: the right-hand statement ("imports changed") is executed in a clean namespace, the
left-hand statement (2018) in another after ``batchai_compat.install()``, and every name the row
binds must resolve to the same object — the same class or function, or for a module the same
batchai_compat module (through ``install()``'s alias). For the ``import azure.storage.file.models``
row the full dotted use ``azure.storage.file.models.File`` is what is compared.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "migration.md"

RUNNER = r"""
import json, sys, types
rows = json.loads(sys.argv[1])
import batchai_compat
batchai_compat.install()

def ident(value):
    if isinstance(value, types.ModuleType):
        return "module " + getattr(value, "__batchai_compat_target__", value.__name__)
    return "object %s.%s %d" % (getattr(value, "__module__", "?"), getattr(value, "__qualname__", "?"), id(value))

out = []
for legacy, compat, probes in rows:
    before, after = {}, {}
    exec(compat, after)
    exec(legacy, before)
    out.append([[p, ident(eval(p, before)), ident(eval(p, after))] for p in probes])
print(json.dumps(out))
"""


def _rows() -> List[Tuple[str, str]]:
    text = GUIDE.read_text()
    table = text.split("<!-- import-table:", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = re.findall(r"`([^`]+)`", line.split("|")[1] if line.startswith("| `") else "")
        after = re.findall(r"`([^`]+)`", line.split("|")[2]) if line.startswith("| `") else []
        if cells and after:
            rows.append((cells[0], after[0]))
    return rows


def _probes(legacy: str, compat: str) -> List[str]:
    node = ast.parse(compat).body[0]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names]
    assert isinstance(node, ast.Import)
    names = [a.asname for a in node.names if a.asname]
    if names:
        return names
    # "import a.b.c" (left) / "from batchai_compat.legacy import azure" (right): the full dotted use
    raise AssertionError(compat)


def test_every_row_of_the_import_table_binds_the_same_objects(tmp_path):
    rows = _rows()
    assert len(rows) >= 20, rows
    payload = []
    for legacy, compat in rows:
        if compat == "from batchai_compat.legacy import azure":
            probes = [legacy.split()[1] + ".File"]
        else:
            probes = _probes(legacy, compat)
        payload.append([legacy, compat, probes])
    from tests.samples.conftest import sample_environment

    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    result = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(payload)], env=sample_environment(home),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    checked = 0
    for (legacy, compat, _), comparisons in zip(payload, json.loads(result.stdout)):
        for probe, before, after in comparisons:
            assert before == after, f"{legacy!r} vs {compat!r}: {probe} is {before} vs {after}"
            # (the storage exceptions are azure.common's own classes when azure-common is installed)
            assert "batchai_compat" in after or after.startswith("object azure.common."), (compat, after)
            checked += 1
    print(f"{len(rows)} rows of the import table, {checked} names: identical through install() and rewritten")
