"""Golden outputs of ``batchai``: ``-o table`` of clusters, jobs, files, nodes, usages and the companion
commands, and the exact error text and exit code for bad input (with no state left behind).

Each case is a file ``tests/cli/golden/<case>.txt``::

    $ batchai <args>
    exit: <code>
    --- stdout
    <stdout, normalised>
    --- stderr
    <stderr, normalised>

Only what legitimately varies from run to run is normalised, in ONE place (:func:`normalise`):
timestamps, GUIDs, etags, node ids and their loopback IPs/SSH ports, the size of the service's own
``execution.log``, temporary paths; and the padding of table columns (runs of spaces/dashes), which
follows the width of the masked values (tabulate's alignment, not ours). Everything else is compared
exactly. ``BATCHAI_UPDATE_GOLDEN=1`` rewrites the files from the current output (never in CI: it
refuses when ``CI`` is set); review the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

Result = Tuple[int, str, str]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BATCHAI_UPDATE_GOLDEN") == "1"

_MASKS: List[Tuple[str, str]] = [
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?", "<TIME>"),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<GUID>"),
    (r"\btvm-\d+_\d+-\d{8}t\d{6}z\b", "<NODE-ID>"),
    (r"^127\.\d+\.\d+\.\d+$", "<IP>"),
    (r"\b127\.\d+\.\d+\.\d+:\d+", "<IP>:<PORT>"),
    (r"0x[0-9A-F]{8,}", "<ETAG>"),
    (r"\d+:\d{2}:\d{2}\.\d+", "<DURATION>"),
]


def normalise(text: str, tmp: str = "") -> str:
    """Mask what varies between runs (see the module doc); the one place where outputs are normalised.

    A ``-o table`` output (a header, a line of dash runs, rows) is re-rendered as ``cell | cell | ...``
    with each cell cut at the dash runs' columns and stripped, so an empty cell stays visible and the
    padding, which follows the width of masked values, does not matter. Other text is kept as is.
    """
    if tmp:
        text = text.replace(tmp, "<TMP>")
    lines = text.splitlines()
    spans = _table_spans(lines)
    if spans:
        rendered = []
        headers = [lines[0][start:end].strip() for start, end in spans]
        for index, line in enumerate(lines):
            if index == 1:
                rendered.append(" | ".join("---" for _ in spans))
                continue
            cells = [_mask(line[start:end].strip()) for start, end in spans]
            if index > 1:
                cells = [_mask_cell(headers[i], cells[i], cells[0]) for i in range(len(cells))]
            rendered.append(" | ".join(cells).rstrip())
        return "\n".join(rendered) + "\n"
    return _mask(text)


#: Table cells that vary by nature: a node's loopback SSH port, the size of the service's own log.
def _mask_cell(header: str, cell: str, first: str) -> str:
    if header == "SSH Port" and cell.isdigit():
        return "<PORT>"
    if header == "Size" and re.fullmatch(r"execution(-\S+)?\.log", first):
        return "<SIZE>"
    return cell


def _mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = re.sub(pattern, repl, text)
    return text


def _table_spans(lines: List[str]) -> List[Tuple[int, Optional[int]]]:
    """Column spans of a knack table (second line = dash runs separated by two spaces), else ``[]``."""
    if len(lines) < 2 or not re.fullmatch(r"-+(  -+)*", lines[1]):
        return []
    runs = [m.span() for m in re.finditer(r"-+", lines[1])]
    spans: List[Tuple[int, Optional[int]]] = []
    for index, (start, _end) in enumerate(runs):
        nxt = runs[index + 1][0] if index + 1 < len(runs) else None
        spans.append((start, nxt))
    return spans


def _render(args: Tuple[str, ...], result: Result, tmp: str) -> str:
    code, out, err = result
    return (f"$ batchai {' '.join(args)}\nexit: {code}\n--- stdout\n{normalise(out, tmp)}"
            f"--- stderr\n{normalise(err, tmp)}")


def _check(case: str, args: Tuple[str, ...], result: Result, tmp: str, mismatches: List[str]) -> None:
    actual = _render(args, result, tmp)
    path = GOLDEN / f"{case}.txt"
    if UPDATE:
        if os.environ.get("CI"):
            pytest.fail("BATCHAI_UPDATE_GOLDEN=1 is refused in CI: golden files are updated by hand and reviewed")
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        mismatches.append(f"{case}: no golden file {path.name} (run with BATCHAI_UPDATE_GOLDEN=1)\n{actual}")
        return
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        mismatches.append(f"{case}:\n--- expected\n{expected}--- actual\n{actual}")


@pytest.fixture(autouse=True)
def _no_storage_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
                 "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _ok(run: Callable[..., Result], *args: str) -> Any:
    code, out, err = run(*args)
    assert code == 0, f"batchai {' '.join(args)} exited {code}: {err}"
    return json.loads(out) if out.strip() else None


def _build(run: Callable[..., Result], tmp_path: Path) -> None:
    """A workspace with a cluster (a share mounted) and a finished job with job preparation."""
    _ok(run, "group", "create", "-n", "rg", "-l", "eastus")
    _ok(run, "storage", "account", "create", "-n", "goldenacct", "-g", "rg", "--sku", "Standard_LRS")
    _ok(run, "storage", "share", "create", "-n", "logs", "--account-name", "goldenacct")
    _ok(run, "storage", "container", "create", "-n", "data", "--account-name", "goldenacct")
    (tmp_path / "input.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    _ok(run, "storage", "blob", "upload", "-c", "data", "-f", str(tmp_path / "input.csv"), "-n", "in/input.csv",
        "--account-name", "goldenacct")
    _ok(run, "storage", "file", "upload", "-s", "logs", "--source", str(tmp_path / "input.csv"),
        "--account-name", "goldenacct")
    _ok(run, "workspace", "create", "-g", "rg", "-n", "ws")
    _ok(run, "cluster", "create", "-g", "rg", "-w", "ws", "-n", "nc6", "-s", "STANDARD_NC6", "-t", "1",
        "-u", "recipeuser", "-p", "Passw0rd!", "--storage-account-name", "goldenacct", "--afs-name", "logs")
    _ok(run, "experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp")
    job = {"properties": {"nodeCount": 1, "stdOutErrPathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/afs",
                          "jobPreparation": {"commandLine": "echo preparing"},
                          "customToolkitSettings": {"commandLine": "echo hello; echo warning >&2"}}}
    (tmp_path / "job.json").write_text(json.dumps(job), encoding="utf-8")
    _ok(run, "job", "create", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "hello", "-c", "nc6",
        "-f", str(tmp_path / "job.json"))
    _ok(run, "job", "wait", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "hello")


TABLES: List[Tuple[str, Tuple[str, ...]]] = [
    ("table_cluster_list", ("cluster", "list", "-g", "rg", "-w", "ws", "-o", "table")),
    ("table_cluster_show", ("cluster", "show", "-g", "rg", "-w", "ws", "-n", "nc6", "-o", "table")),
    ("table_cluster_node_list", ("cluster", "node", "list", "-g", "rg", "-w", "ws", "-c", "nc6", "-o", "table")),
    ("table_job_list", ("job", "list", "-g", "rg", "-w", "ws", "-e", "exp", "-o", "table")),
    ("table_job_show", ("job", "show", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "hello", "-o", "table")),
    ("table_job_file_list", ("job", "file", "list", "-g", "rg", "-w", "ws", "-e", "exp", "-j", "hello",
                             "-d", "stdouterr", "-o", "table")),
    ("table_job_node_list", ("job", "node", "list", "-g", "rg", "-w", "ws", "-e", "exp", "-j", "hello",
                             "-o", "table")),
    ("table_usages", ("list-usages", "-l", "eastus", "-o", "table")),
    ("table_workspace_list", ("workspace", "list", "-g", "rg", "-o", "table")),
    ("table_experiment_list", ("experiment", "list", "-g", "rg", "-w", "ws", "-o", "table")),
    ("table_group_list", ("group", "list", "-o", "table")),
    ("table_share_list", ("storage", "share", "list", "--account-name", "goldenacct", "-o", "table")),
    ("table_file_list", ("storage", "file", "list", "-s", "logs", "--account-name", "goldenacct", "-o", "table")),
    ("table_container_list", ("storage", "container", "list", "--account-name", "goldenacct", "-o", "table")),
    ("table_blob_list", ("storage", "blob", "list", "-c", "data", "--account-name", "goldenacct", "-o", "table")),
    ("tsv_job_query", ("job", "show", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "hello", "-o", "tsv",
                       "--query", "[name, executionState, executionInfo.exitCode]")),
]

ERRORS: List[Tuple[str, Tuple[str, ...]]] = [
    ("error_missing_config_file", ("cluster", "create", "-g", "rg", "-w", "ws", "-n", "c2", "-f", "missing.json")),
    ("error_bad_json", ("job", "create", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "j2", "-c", "nc6",
                        "-f", "bad.json")),
    ("error_unknown_option", ("cluster", "list", "-g", "rg", "-w", "ws", "--bogus")),
    ("error_missing_required", ("job", "show", "-g", "rg", "-w", "ws", "-e", "exp")),
    ("error_bad_workspace_name", ("workspace", "create", "-g", "rg", "-n", "bad name!")),
    ("error_bad_job_name", ("job", "create", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "bad/name", "-c", "nc6",
                            "-f", "job.json")),
    ("error_unknown_cluster", ("job", "create", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "j3", "-c", "nosuch",
                               "-f", "job.json")),
    ("error_cluster_not_found", ("cluster", "show", "-g", "rg", "-w", "ws", "-n", "nosuch")),
    ("error_group_not_found", ("group", "show", "-n", "nosuch")),
    ("error_bad_account_name", ("storage", "account", "create", "-n", "Bad_Account", "-g", "rg")),
    ("error_bad_share_name", ("storage", "share", "create", "-n", "Bad_Share", "--account-name", "goldenacct")),
    ("error_unknown_account", ("storage", "share", "create", "-n", "x", "--account-name", "nosuchacct")),
    ("error_no_storage_credentials", ("storage", "container", "create", "-n", "data2")),
    ("error_missing_upload_source", ("storage", "file", "upload", "-s", "logs", "--source", "missing.py",
                                     "--account-name", "goldenacct")),
    ("error_bad_choice", ("storage", "account", "create", "-n", "okname1", "-g", "rg", "--sku", "Cheap")),
]


def _state(run: Callable[..., Result], home: Path) -> Dict[str, Any]:
    """What an error must not change: every resource list and the storage/file-server trees."""
    trees = {}
    for sub in ("storage", "fileservers"):
        root = home / sub
        trees[sub] = sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []
    return {
        "groups": _ok(run, "group", "list"),
        "accounts": [a["name"] for a in _ok(run, "storage", "account", "list")],
        "workspaces": [w["name"] for w in _ok(run, "workspace", "list")],
        "clusters": [c["name"] for c in _ok(run, "cluster", "list", "-g", "rg", "-w", "ws")],
        "experiments": [e["name"] for e in _ok(run, "experiment", "list", "-g", "rg", "-w", "ws")],
        "jobs": [j["name"] for j in _ok(run, "job", "list", "-g", "rg", "-w", "ws", "-e", "exp")],
        "trees": trees,
    }


@pytest.mark.slow
def test_golden_tables_and_errors(run_cli: Callable[..., Result], run_cli_inproc: Callable[..., Result],
                                  tmp_path: Path, cli_env: Dict[str, str]) -> None:
    _build(run_cli_inproc, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "bad.json").write_text("{\"properties\": {\"nodeCount\": 1,}\n", encoding="utf-8")
    (work / "job.json").write_text((tmp_path / "job.json").read_text(encoding="utf-8"), encoding="utf-8")
    tmp = str(tmp_path)
    mismatches: List[str] = []
    for case, args in TABLES:
        _check(case, args, run_cli_inproc(*args), tmp, mismatches)
    home = Path(cli_env["BATCHAI_COMPAT_HOME"])
    before = _state(run_cli_inproc, home)
    for case, args in ERRORS:
        result = run_cli(*args, cwd=str(work))  # a real process: stderr and the exit code as a shell sees them
        assert result[0] != 0, f"{case}: batchai {' '.join(args)} succeeded"
        _check(case, args, result, tmp, mismatches)
    assert _state(run_cli_inproc, home) == before, "a failed command changed the state"
    assert not mismatches, "golden output differs:\n\n" + "\n\n".join(mismatches)


def test_normalise_masks_only_what_varies() -> None:
    table = ("Name           Type    Size    Modified\n"
             "-------------  ------  ------  -------------------------\n"
             "execution.log  file    1978    2026-12-04T01:40:26+00:00\n"
             "stdout.txt     file    6\n")
    assert normalise(table) == ("Name | Type | Size | Modified\n--- | --- | --- | ---\n"
                                "execution.log | file | <SIZE> | <TIME>\nstdout.txt | file | 6 |\n")
    text = ("/tmp/x/y 78251d06-9645-4b01-a55e-96a125560553 \"0x18EDE8FB8D1B0ED12\" took 0:00:00.128000\n"
            "   indented  text\n")
    assert normalise(text, "/tmp/x") == "<TMP>/y <GUID> \"<ETAG>\" took <DURATION>\n   indented  text\n"
