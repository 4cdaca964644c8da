"""The seed notebook, executed cell by cell in a real Jupyter kernel (nbclient + ipykernel).

Jupyter is kept away from the real home: ``HOME``, ``JUPYTER_*`` and ``IPYTHONDIR`` point at temp
directories, and the kernel is the ``python3`` kernel of the interpreter running the tests
(jupyter_client substitutes ``sys.executable`` for ``python`` in ipykernel's kernel spec), so no
kernel needs installing.
"""

from __future__ import annotations

import json
import re

import nbclient
import nbformat
import pytest

from .conftest import SAMPLES, assert_tidy, sample_environment

pytestmark = [pytest.mark.spawns_processes]

NOTEBOOK = SAMPLES / "seed_tensorflow_distributed" / "seed_tensorflow_distributed.ipynb"


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])))
    return "".join(parts)


@pytest.fixture
def kernel_env(tmp_path, home, monkeypatch):
    for name, value in sample_environment(home).items():
        monkeypatch.setenv(name, value)
    for name in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        path = tmp_path / "jupyter" / name.lower()
        path.mkdir(parents=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    return home


def test_notebook_runs_and_its_job_writes_model_and_logs(kernel_env):
    home = kernel_env
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    cleanup_from = next(i for i, c in enumerate(nb.cells)
                        if c.cell_type == "markdown" and "".join(c.source).startswith("### Delete the job"))
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells[:cleanup_from]):
            client.execute_cell(cell, index)
        out = "".join(_text(c) for c in nb.cells if c.cell_type == "code")
        assert re.search(r"^Job state: succeeded ExitCode: 0$", out, re.M), out
        assert re.search(r"Worker 0: training step \d+ done", out)

        # What the job wrote, seen in the storage root the local backend mounted into it.
        share = home / "storage" / "batchaisample" / "shares" / "batchaisample"
        models = list(share.rglob("outputs/Models/model.ckpt-*.json"))
        assert len(models) == 1, list(share.rglob("*"))
        model = json.loads(models[0].read_text())
        assert model["global_step"] >= 10000 and len(model["weights"]) == 10 * 65
        assert model["test_accuracy"] > 0.7
        logs = sorted(p.name for p in share.rglob("outputs/Logs/*"))
        assert logs == ["worker-0-loss.csv", "worker-1-loss.csv"]
        stdout = next(share.rglob("stdouterr/stdout-wk-0.txt")).read_text()
        assert "Test accuracy" in stdout

        for index, cell in enumerate(nb.cells[cleanup_from:], start=cleanup_from):
            client.execute_cell(cell, index)
    out = "".join(_text(c) for c in nb.cells if c.cell_type == "code")
    assert "Deleted the job, the cluster, the storage and the workspace of this sample." in out
    assert "Traceback" not in out
    assert_tidy(home)
