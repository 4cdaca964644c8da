"""Derive the files of the samples that must never drift from their source, or check them.

* ``legacy.py`` of every sample, from its compat script (``seed.py`` or ``sample.py``), and
  ``_legacy/utilities/*.py`` from ``utilities/*.py``: the same text with the compat import lines
  replaced by the 2018 ones (``IMPORTS`` below). Nothing but import lines may differ.
* ``seed_tensorflow_distributed/seed_tensorflow_distributed.ipynb`` from ``seed.py``: one code
  cell per ``# %% <title>`` section, preceded by a markdown cell with the title.

    python samples/generate.py          # rewrite the derived files
    python samples/generate.py --check  # exit 1 if any derived file is out of date (used by the tests)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Set

HERE = Path(__file__).resolve().parent

# compat import line -> the legacy line(s) it replaces, exactly as 2018 code had them.
IMPORTS: Dict[str, List[str]] = {
    "import batchai_compat as training": ["import azure.mgmt.batchai as training"],
    "import batchai_compat.models as models": ["import azure.mgmt.batchai.models as models"],
    "from batchai_compat.credentials import ServicePrincipalCredentials":
        ["from azure.common.credentials import ServicePrincipalCredentials"],
    "from batchai_compat.storage import BlockBlobService, FileService":
        ["from azure.storage.blob import BlockBlobService", "from azure.storage.file import FileService"],
    "from batchai_compat.storage import BlockBlobService": ["from azure.storage.blob import BlockBlobService"],
    "from batchai_compat.storage import FileService": ["from azure.storage.file import FileService"],
    "from batchai_compat.resource import ResourceManagementClient":
        ["from azure.mgmt.resource import ResourceManagementClient"],
    "from batchai_compat.storage_mgmt import StorageManagementClient":
        ["from azure.mgmt.storage import StorageManagementClient"],
    "import utilities as utils": ["from _legacy import utilities as utils"],
}
# Modules only the compat utilities have (none since batchai_compat.resource replaced the stand-in).
COMPAT_ONLY: Set[str] = set()
SCRIPTS = ("seed.py", "sample.py")
NOTEBOOK = HERE / "seed_tensorflow_distributed" / "seed_tensorflow_distributed.ipynb"


def legacy_text(compat: str, source: Path) -> str:
    lines = []
    for line in compat.splitlines(keepends=True):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped in IMPORTS:
            lines.extend(indent + legacy + "\n" for legacy in IMPORTS[stripped])
        elif stripped.startswith("from utilities."):  # a helper module imported by name
            lines.append(indent + "from _legacy." + stripped[len("from "):] + "\n")
        elif ("batchai_compat" in line or "utilities" in line) and stripped.startswith(("import ", "from ")):
            raise SystemExit(f"{source}: no legacy form for {stripped!r}; add it to IMPORTS in {__file__}")
        else:
            lines.append(line)
    return "".join(lines)


def derived_files() -> Dict[Path, str]:
    """Every derived file and the text it must have."""
    out: Dict[Path, str] = {}
    for script in sorted(p for name in SCRIPTS for p in HERE.glob(f"*/{name}")):
        out[script.with_name("legacy.py")] = legacy_text(script.read_text(), script)
    for module in sorted((HERE / "utilities").glob("*.py")):
        if module.name not in COMPAT_ONLY:
            out[HERE / "_legacy" / "utilities" / module.name] = legacy_text(module.read_text(), module)
    out[NOTEBOOK] = notebook_text((HERE / "seed_tensorflow_distributed" / "seed.py").read_text())
    return out


def notebook_cells(script: str) -> List[dict]:
    """Markdown + code cells from ``# %% Title`` sections; the code cells concatenate to ``script``
    without its ``# %%`` lines."""
    sections: List[List[str]] = [[]]
    titles: List[str] = [""]
    for line in script.splitlines(keepends=True):
        if line.startswith("# %%"):
            sections.append([])
            titles.append(line[4:].strip())
        else:
            sections[-1].append(line)
    cells: List[dict] = []
    for title, body in zip(titles, sections):
        if title:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": [f"### {title}"]})
        code = "".join(body).rstrip("\n").splitlines(keepends=True)
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code})
    return cells


def notebook_text(script: str) -> str:
    notebook = {
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": [
            "# Distributed TensorFlow on Batch AI (batchai_compat)\n", "\n",
            "The Batch AI blocks of the migration guide, run on batchai_compat's local backend. ",
            "The code cells are generated from `seed.py` by `samples/generate.py`; edit the script, ",
            "not this notebook."]}] + notebook_cells(script),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "pygments_lexer": "ipython3"},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    return json.dumps(notebook, indent=1, sort_keys=True) + "\n"


def main(argv: List[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in derived_files().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(("out of date: " if check else "wrote ") + str(path.relative_to(HERE.parent)))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
