"""``batchai-migrate`` on a folder of legacy notebooks and scripts: only import lines change.

The folder is ``tests/migrate/legacy/`` (a 0.2.0-style notebook and script, a 2.0.0 notebook with the
management clients, a mixed-generation script, a track-2 script, a recipes-style helper with full
dotted names) plus the repo's samples: every ``samples/*/legacy.py`` and ``samples/_legacy/utilities``
must migrate to its converted form, and a legacy version of the seed notebook to the committed
notebook, byte for byte.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from batchai_compat import migrate
from batchai_compat.backends.azureml import AzureMLBackend
from batchai_compat.backends.local import LocalBackend
from batchai_compat.migrate import generations as gens

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SAMPLES = REPO / "samples"
LEGACY = HERE / "legacy"
NOTEBOOK = SAMPLES / "seed_tensorflow_distributed" / "seed_tensorflow_distributed.ipynb"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The default backend as a user without configuration gets it (local)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    for name in ("BATCHAI_COMPAT_BACKEND", "BATCHAI_COMPAT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(home))
    return home


@pytest.fixture
def folder(tmp_path, env) -> Path:
    target = tmp_path / "notebooks"
    shutil.copytree(LEGACY, target)
    (target / "ruff.toml").unlink()
    return target


def run(capsys, *argv: str):
    status = migrate.main(list(argv))
    return status, capsys.readouterr().out


def snapshot(folder: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------ helpers


def _mask(source: str) -> str:
    return "".join(re.sub(r"^(\s*)[%!]", r"\1#", line) for line in source.splitlines(keepends=True))


class _NoImports(ast.NodeTransformer):
    def visit_Import(self, node):  # noqa: N802
        return None

    def visit_ImportFrom(self, node):  # noqa: N802
        return None


def statements_without_imports(source: str) -> List[str]:
    """ast.dump of every statement, import statements removed at every depth."""
    tree = _NoImports().visit(ast.parse(_mask(source)))
    return [ast.dump(stmt, include_attributes=False) for stmt in tree.body]


def code_cells(raw: str) -> List[str]:
    return ["".join(c["source"]) for c in json.loads(raw)["cells"] if c["cell_type"] == "code"]


def is_import_line(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("import ", "from ")) and isinstance(ast.parse(stripped).body[0],
                                                                    (ast.Import, ast.ImportFrom))


def legacy_form(compat: str) -> str:
    """What ``samples/generate.py`` derives from a compat file, for the lines migrate does not own:
    the samples' own ``utilities`` package lives under ``_legacy`` in the legacy copies."""
    out = []
    for line in compat.splitlines(keepends=True):
        if line.strip() == "import utilities as utils":
            line = line.replace("import utilities as utils", "from _legacy import utilities as utils")
        elif line.lstrip().startswith("from utilities."):
            line = line.replace("from utilities.", "from _legacy.utilities.", 1)
        out.append(line)
    return "".join(out)


# ------------------------------------------------------------------------------------ samples


def sample_pairs():
    pairs = []
    for legacy in sorted(SAMPLES.glob("*/legacy.py")):
        compat = legacy.with_name("seed.py") if legacy.with_name("seed.py").exists() else legacy.with_name("sample.py")
        pairs.append((legacy, compat))
    for legacy in sorted((SAMPLES / "_legacy" / "utilities").glob("*.py")):
        pairs.append((legacy, SAMPLES / "utilities" / legacy.name))
    return pairs


def test_the_samples_migrate_to_their_converted_forms(env):
    pairs = sample_pairs()
    assert len(pairs) >= 12, pairs
    changed = 0
    for legacy, compat in pairs:
        result = migrate.migrate_text(legacy.read_text(), str(legacy))
        assert result.error is None, result.error
        assert result.generation == "2.0.0", (legacy, result.why)
        assert result.new == legacy_form(compat.read_text()), legacy
        changed += len(result.changes)
    assert changed >= 20
    print(f"{len(pairs)} legacy sample files migrated to their converted forms ({changed} import statements)")


def _legacy_notebook(raw: str) -> str:
    """The committed (compat) seed notebook with its import source strings back in the 2018 form, as
    ``samples/generate.py`` maps them (the sample's own ``utilities`` import stays)."""
    sys.path.insert(0, str(SAMPLES))
    try:
        import generate
    finally:
        sys.path.remove(str(SAMPLES))
    out = []
    for line in raw.splitlines(keepends=True):
        match = re.match(r'^(\s*)("(?:[^"\\]|\\.)*")(,?)\n$', line)
        value = json.loads(match.group(2)) if match else None
        key = value.rstrip("\n") if isinstance(value, str) else None
        if match and key in generate.IMPORTS and "utilities" not in key:
            legacy = generate.IMPORTS[key]
            for i, text in enumerate(legacy):
                last = i == len(legacy) - 1
                text += "" if last and not value.endswith("\n") else "\n"
                out.append(match.group(1) + json.dumps(text) + ("," if not last or match.group(3) else "") + "\n")
        else:
            out.append(line)
    return "".join(out)


def test_a_legacy_seed_notebook_migrates_to_the_committed_notebook_byte_for_byte(env):
    raw = NOTEBOOK.read_text()
    legacy = _legacy_notebook(raw)
    assert legacy != raw and "azure.storage.file import FileService" in legacy
    result = migrate.migrate_notebook(legacy, "seed.ipynb")
    assert result.error is None
    assert result.new.encode() == raw.encode()
    # cells are numbered as in Jupyter (the markdown title is cell 1)
    assert [where for where, _ in result.changes] == ["cell 2 line 12", "cell 2 line 13", "cell 2 line 14",
                                                      "cell 2 line 15"]


# ------------------------------------------------------------------------------- only imports


def test_only_import_lines_change_and_every_other_statement_keeps_its_ast(folder, capsys):
    before = snapshot(folder)
    status, out = run(capsys, str(folder))
    assert status == 2, out  # mixed.py is refused (below); the others are migrated
    after = snapshot(folder)
    migrated = [name for name in before if before[name] != after[name]]
    assert sorted(migrated) == ["cntk_020.ipynb", "job_factory_dotted.py", "script_020.py", "track2.py",
                                "workspaces_200.ipynb"]
    for name in migrated:
        old, new = before[name].decode(), after[name].decode()
        sources = [(old, new)] if name.endswith(".py") else list(zip(code_cells(old), code_cells(new)))
        for old_source, new_source in sources:
            assert statements_without_imports(old_source) == statements_without_imports(new_source), name
            for line in difflib.ndiff(old_source.splitlines(), new_source.splitlines()):
                if line[:1] in "+-":
                    assert is_import_line(line[2:]), (name, line)
        if name.endswith(".ipynb"):
            # the raw JSON: every differing line is a source string of a code cell holding an import
            cell_lines = {json.dumps(s) for c in code_cells(old) + code_cells(new) for s in c.splitlines(True)}
            for line in difflib.ndiff(old.splitlines(), new.splitlines()):
                if line[:1] in "+-":
                    token = line[2:].strip().rstrip(",")
                    assert token in cell_lines and is_import_line(json.loads(token)), (name, line)
            assert json.loads(old)["metadata"] == json.loads(new)["metadata"]
            assert [c.get("outputs") for c in json.loads(old)["cells"]] == [c.get("outputs")
                                                                            for c in json.loads(new)["cells"]]


def test_notebook_bytes_outside_the_changed_source_lines_are_identical(env):
    raw = (LEGACY / "cntk_020.ipynb").read_text()
    result = migrate.migrate_notebook(raw, "cntk_020.ipynb")
    old_lines, new_lines = raw.splitlines(keepends=True), result.new.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)  # 4 import lines replaced one for one
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert [json.loads(old_lines[i].strip().rstrip(",")) for i in differing] == [
        "import azure.mgmt.batchai as training\n", "import azure.mgmt.batchai.models as models\n",
        "from azure.storage.file import FileService\n",
        "from azure.common.credentials import ServicePrincipalCredentials\n"]
    for i in differing:  # same indentation and trailing comma: only the string itself differs
        assert old_lines[i][: old_lines[i].index('"')] == new_lines[i][: new_lines[i].index('"')]
        assert old_lines[i].endswith(",\n") == new_lines[i].endswith(",\n")
    # the non-ASCII text (markdown, a comment) is kept as it was written (not \u-escaped)
    assert "«GPU»" in result.new and "← not code" in result.new


# ------------------------------------------------------------------------ check, diff, idempotence


def test_check_exit_codes_and_nothing_written(folder, capsys):
    for name in ("mixed.py", "track2.py"):
        (folder / name).unlink()
    before = snapshot(folder)
    status, out = run(capsys, "--check", str(folder))
    assert status == 1, out
    assert snapshot(folder) == before
    assert run(capsys, str(folder))[0] == 0
    assert run(capsys, "--check", str(folder))[0] == 0  # migrated: nothing left to change
    (folder / "broken.py").write_text("import azure.mgmt.batchai as training\nif True print(1)\n")
    (folder / "broken.ipynb").write_text('{"cells": [{"cell_type": "code", "source": ["import azure.mgmt.batchai"]}')
    status, out = run(capsys, "--check", str(folder))
    assert status == 2
    assert "broken.py: ERROR: does not parse" in out and "broken.ipynb: ERROR: invalid JSON" in out
    status, out = run(capsys, str(folder))
    assert status == 2
    assert (folder / "broken.py").read_text() == "import azure.mgmt.batchai as training\nif True print(1)\n"
    assert (folder / "broken.ipynb").read_text().startswith('{"cells": [{"cell_type": "code"')


def test_console_entry_point_as_a_process(folder):
    from tests.samples.conftest import sample_environment

    command = [sys.executable, "-m", "batchai_compat.migrate", "--check", str(folder / "script_020.py")]
    result = subprocess.run(command, env=sample_environment(folder), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "script_020.py: 4 import statement(s) changed for azure-mgmt-batchai 0.2.0" in result.stdout
    assert 'batchai-migrate=batchai_compat.migrate:main' in (REPO / "setup.py").read_text()


def test_diff_previews_the_change_without_writing(folder, capsys):
    path = folder / "script_020.py"
    before = path.read_bytes()
    status, out = run(capsys, "--check", "--diff", str(path))
    assert status == 1 and path.read_bytes() == before
    assert f"--- a/{str(path).lstrip('/')}" in out and f"+++ b/{str(path).lstrip('/')}" in out
    assert "-import azure.mgmt.batchai as batchai\n+import batchai_compat.v2017_09_01_preview as batchai" not in out
    assert "-import azure.mgmt.batchai as batchai\n" in out
    assert "+import batchai_compat.v2017_09_01_preview as batchai\n" in out
    assert "+from batchai_compat.legacy import azure\n" in out


def test_idempotent(folder, capsys):
    run(capsys, str(folder))
    once = snapshot(folder)
    status, out = run(capsys, str(folder))
    assert snapshot(folder) == once
    assert "import statement(s) changed" not in out


def test_written_atomically_with_the_file_mode_kept(folder, capsys):
    path = folder / "script_020.py"
    path.chmod(0o640)
    inode = path.stat().st_ino
    assert run(capsys, str(path))[0] == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # replaced by a rename, not rewritten in place
    assert [p.name for p in folder.iterdir() if p.name.endswith(".migrate")] == []


# ------------------------------------------------------------------------ generations and report


def test_report_names_changes_calls_generations_and_backend_notes(folder, capsys):
    status, out = run(capsys, "--check", str(folder / "cntk_020.ipynb"))
    assert status == 1
    assert "cntk_020.ipynb: 4 import statement(s) changed for azure-mgmt-batchai 0.2.0" in out
    assert ("changed cell 3 line 2: import azure.mgmt.batchai as training  ->  "
            "import batchai_compat.v2017_09_01_preview as training") in out
    assert "cell 4 line 6: clusters.create(3 positional) -> 0.2.0/1.0.x" in out
    assert "cell 5 line 6: EnvironmentSetting(name=, value=) -> 0.2.0" in out
    assert "cell 5 line 9: jobs.list_output_files(3 positional) -> 0.2.0/1.0.x" in out
    assert f"clusters.create (cell 4 line 6): {LocalBackend.notes['clusters.create']}" in out
    assert "local (the default)" in out
    # the same file for Azure ML: that backend's own notes (toolkit.cntk, from AzureMLBackend.notes)
    status, out = run(capsys, "--check", "--backend", "azureml", str(folder / "cntk_020.ipynb"))
    assert f"toolkit.cntk (cell 5 line 7): {AzureMLBackend.notes['toolkit.cntk']}" in out
    assert "azureml (the backend= argument)" in out


def test_azureml_backend_keeps_the_real_management_packages(folder, capsys):
    path = folder / "workspaces_200.ipynb"
    status, out = run(capsys, "--backend", "azureml", str(path))
    assert status == 0
    sources = "".join(code_cells(path.read_text()))
    assert "from azure.mgmt.resource import ResourceManagementClient" in sources
    assert "from batchai_compat.storage import BlockBlobService, FileService" in sources
    assert "kept cell 2 line 6: azure.mgmt.resource is kept" in out
    assert f"file_servers.create (cell 3 line 4): {AzureMLBackend.notes['file_servers.create']}" in out
    assert f"mounts.file_servers (cell 3 line 7): {AzureMLBackend.notes['mounts.file_servers']}" in out


def test_local_backend_rewrites_the_management_packages(folder, capsys):
    path = folder / "workspaces_200.ipynb"
    assert run(capsys, str(path))[0] == 0
    sources = "".join(code_cells(path.read_text()))
    assert "from batchai_compat.resource import ResourceManagementClient" in sources
    assert "from batchai_compat.storage_mgmt.models import StorageAccountCreateParameters, Sku, Kind" in sources
    assert "from batchai_compat import models" in sources


def test_mixed_generations_are_refused_unless_one_is_given(folder, capsys):
    path = folder / "mixed.py"
    before = path.read_bytes()
    status, out = run(capsys, str(path))
    assert status == 2 and path.read_bytes() == before
    assert "ERROR: mixed generations" in out and "--generation" in out
    assert "line 4: clusters.create(3 positional) -> 0.2.0/1.0.x" in out
    assert "line 5: jobs.create(5 positional) -> 2.0.0" in out
    status, out = run(capsys, "--generation", "2.0.0", str(path))
    assert status == 0
    assert path.read_text().splitlines()[0] == "import batchai_compat as training"


def test_track2_calls_are_7_0_0_and_name_batchai_compat_v7(folder, capsys):
    path = folder / "track2.py"
    status, out = run(capsys, str(path))
    assert status == 0, out
    assert "line 5: clusters.begin_create(4 positional) -> 7.0.0" in out
    assert path.read_text().splitlines()[1] == "from batchai_compat.v7 import BatchAIManagementClient"
    text = ("import azure.mgmt.batchai as batchai\nfrom azure.mgmt.batchai import models\n"
            "client = batchai.BatchAIManagementClient(cred, sub)\n"
            "client.jobs.get('rg', 'ws', 'exp', 'job')\n"  # 2.0.0 and 7.0.0 alike
            "client.jobs.begin_terminate('rg', 'ws', 'exp', 'job').result()\n")
    result = migrate.migrate_text(text)
    assert result.generation == "7.0.0"
    assert result.new.splitlines()[:2] == ["import batchai_compat.v7 as batchai",
                                           "from batchai_compat.v7 import models"]
    assert [gens.label(s.candidates) for s in result.signals] == ["2.0.0/7.0.0", "7.0.0"]


def test_a_track2_generation_without_its_package_is_detected_and_not_rewritten(folder, capsys, monkeypatch):
    """The TRACK2 table entry names the package; where it is missing, begin_* still means 7.0.0 (by
    2.0.0's signatures) and the file is reported, not rewritten."""
    monkeypatch.setitem(gens.TRACK2, "7.0.0", ("2018-05-01", "begin_", "batchai_compat.no_such_v7",
                                               "batchai_compat.no_such_v7._client"))
    from batchai_compat import _generations

    for key, row in list(_generations.GENERATIONS.items()):  # the row batchai_compat.v7 adds when imported
        if row[1] == "7.0.0":
            monkeypatch.delitem(_generations.GENERATIONS, key)
    gens.generations.cache_clear()
    try:
        path = folder / "track2.py"
        before = path.read_bytes()
        status, out = run(capsys, str(path))
        assert status == 2 and path.read_bytes() == before
        assert "line 5: clusters.begin_create(4 positional) -> 7.0.0" in out
        assert "batchai_compat has no 7.0.0 package yet; not rewritten" in out
        # a 2.0.0 create is not a 7.0.0 call (7.0.0 named it begin_create)
        assert gens.call_generations("clusters", "create", 4, (), False) == {"2.0.0"}
        assert gens.call_generations("clusters", "begin_delete", 3, (), False) == {"7.0.0"}
    finally:
        gens.generations.cache_clear()


def test_pre_workspace_without_a_signal_defaults_to_1_0_x_and_says_so(env):
    text = ("import azure.mgmt.batchai as batchai\n\nclient = batchai.BatchAIManagementClient(c, s)\n"
            "client.clusters.delete('rg', 'nc6').result()\n")
    result = migrate.migrate_text(text)
    assert result.generation == "1.0.x" and "1.0.x is assumed" in result.why and "--generation 0.2.0" in result.why
    assert result.new.splitlines()[0] == "import batchai_compat.v2018_03_01 as batchai"
    with_usage = text + "client.usage.list('eastus')\n"
    assert migrate.migrate_text(with_usage).why == "the only generation every call fits"


def test_full_dotted_uses_and_the_pip_lines(folder, capsys):
    result = migrate.migrate_text((folder / "job_factory_dotted.py").read_text())
    assert result.new.splitlines()[1:3] == ["from batchai_compat.legacy import azure",
                                            "import batchai_compat.models as models"]
    namespace: dict = {}
    exec(compile(result.new, "job_factory_dotted.py", "exec"), namespace)
    from batchai_compat.storage.models import File

    assert isinstance(namespace["output_file"]("a"), File)
    path = folder / "cntk_020.ipynb"
    status, out = run(capsys, str(path))
    assert "pip cell 2 line 1: !pip install azure-mgmt-batchai==0.2.0 azure-storage-file==1.1.0" in out
    assert "!pip install azure-mgmt-batchai==0.2.0" in path.read_text()  # reported, not changed
    status, out = run(capsys, "--pip", str(folder / "workspaces_200.ipynb"))
    assert '"%pip install batchai-compat\\n"' in (folder / "workspaces_200.ipynb").read_text()
    assert os.path.exists(path)


# ------------------------------------------------------------------------ the import table and shapes


def test_every_row_of_the_migration_guides_import_table_is_what_migrate_writes(env):
    from tests.mgmt.test_import_table import _rows

    rows = _rows()
    assert len(rows) >= 20
    for legacy, compat in rows:
        result = migrate.migrate_text(legacy + "\n")
        assert result.error is None and result.problems == [], (legacy, result.error, result.problems)
        assert result.new == compat + "\n", legacy
    print(f"{len(rows)} rows of docs/migration.md's import table: migrate writes the right-hand column")


def test_source_shapes_crlf_form_feed_semicolons_nested_and_parenthesized(env):
    text = ("import os; import azure.mgmt.batchai as training\r\n"
            "\x0c\r\n"
            "def helper():\r\n"
            "    from azure.storage.blob import BlockBlobService\r\n"
            "    from azure.storage.file import FileService  # the share\r\n"
            "    return BlockBlobService, FileService\r\n"
            "from azure.mgmt.batchai.models import (\r\n"
            "    JobCreateParameters,\r\n"
            "    ResourceId,\r\n"
            ")\r\n"
            "from azure.storage.blob import BlockBlobService, BlobServiceClient\r\n")
    result = migrate.migrate_text(text)
    assert result.new == (
        "import os; import batchai_compat as training\r\n"
        "\x0c\r\n"
        "def helper():\r\n"
        "    from batchai_compat.storage import BlockBlobService\r\n"
        "    from batchai_compat.storage import FileService  # the share\r\n"  # a comment is never merged away
        "    return BlockBlobService, FileService\r\n"
        "from batchai_compat.models import JobCreateParameters, ResourceId\r\n"
        "from azure.storage.blob import BlobServiceClient\r\n"
        "from batchai_compat.storage import BlockBlobService\r\n")
    assert [c.line for _, c in result.changes] == [1, 4, 5, 7, 11]
    assert any("azure.storage.blob.BlobServiceClient kept" in p for p in result.problems)
    assert migrate.migrate_text(result.new).new == result.new


def test_pip_lines_are_reported_without_the_credentials_of_an_index_url(env):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": ["!pip install --extra-index-url https://me:s3cr3t-t0ken@pkgs.example/simple "
                       "azure-mgmt-batchai~=0.2.0\n",
                       "import azure.mgmt.batchai as batchai"]}
    raw = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 2}, indent=1) + "\n"
    result = migrate.migrate_notebook(raw, "pip.ipynb")
    report = migrate.report(result, "local")
    assert "s3cr3t-t0ken" not in report and "https://***@pkgs.example/simple" in report
    assert "azure-mgmt-batchai~=0.2.0" in result.new  # not changed without --pip
    fixed = migrate.migrate_notebook(raw, "pip.ipynb", pip=True)
    assert json.loads(fixed.new)["cells"][0]["source"] == [
        "!pip install --extra-index-url https://me:s3cr3t-t0ken@pkgs.example/simple batchai-compat\n",
        "import batchai_compat as batchai"]


def test_an_objects_own_jobs_attribute_is_not_a_batch_ai_call(env):
    text = ("import azure.mgmt.batchai as training\n\n\nclass Tracker(object):\n"
            "    def __init__(self, client):\n        self.client = client\n        self.jobs = {}\n\n"
            "    def submit(self, name, params):\n"
            "        self.jobs.get(name, None)\n"  # a dict: 2 positional would fit 0.2.0's jobs.get(rg, job)
            "        return self.client.jobs.create('rg', 'ws', 'exp', name, params)\n")
    result = migrate.migrate_text(text)
    assert result.error is None and result.generation == "2.0.0"
    assert [s.text for s in result.signals] == ["jobs.create(5 positional)"]


def test_ipython_help_and_magic_lines_do_not_stop_a_notebook(env):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": ["import azure.mgmt.batchai.models as models\n", "%time x = 1\n",
                       "models.JobCreateParameters?\n", "!ls\n", "x = 2"]}
    raw = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 2}, indent=1) + "\n"
    result = migrate.migrate_notebook(raw, "help.ipynb")
    assert result.error is None
    assert json.loads(result.new)["cells"][0]["source"] == ["import batchai_compat.models as models\n"] + \
        cell["source"][1:]
