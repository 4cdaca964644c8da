"""Parity of the track-2 generation (``batchai_compat.v7``) with the original azure-mgmt-batchai 7.0.0.

The original is installed in its own virtualenv under ``.tools/oracles/7.0.0/`` (``make oracles``; it shares
the import name ``azure.mgmt.batchai`` with 2.0.0, the main venv's oracle). ``scripts/dump_sdk_surface.py``
runs there and prints the surface as JSON; the same function dumps ours in-process; compared entry by
entry, with no normalisation: every model's base, attribute map, validation map, constants, keyword-only
constructor parameters and defaults and ``validate()`` messages, every enumeration (upper-case members),
the models folder's public modules (none), the client's constructor and class name, the operation groups
(class and method signatures), what each operation raises client-side for bad names, groups and bodies,
and what both make of every example body of the 2018-05-01 description.

7.0.0 checked nothing client-side but ``None`` (it turned msrest's validation off): a bad name reached the
service. The original's such calls stop in its HTTP pipeline (no token for an http URL, nothing sent);
ours answer them as the service did, with an ``azure.core.exceptions.HttpResponseError`` subclass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DUMPER = REPO / "scripts" / "dump_sdk_surface.py"
ORACLE = REPO / ".tools" / "oracles" / "7.0.0" / "bin" / "python"
SPEC = REPO / "specs" / "batchai-2018-05-01" / "BatchAI.json"
# What 7.0.0 exports, counted once here so that a silently broken oracle cannot shrink the tests.
EXPECTED = {"models": 92, "enums": 12, "operations": 27, "calls": 135, "client_side": 115, "examples": 60}
SERVICE_ANSWERS = {"HttpResponseError", "ResourceNotFoundError", "ResourceExistsError"}


def _dumper():
    sys.path.insert(0, str(DUMPER.parent))
    try:
        import dump_sdk_surface
    finally:
        sys.path.remove(str(DUMPER.parent))
    return dump_sdk_surface


def _oracle(*args: str) -> dict:
    assert ORACLE.is_file(), f"oracle azure-mgmt-batchai==7.0.0 missing at {ORACLE}: run `make oracles`"
    result = subprocess.run([str(ORACLE), str(DUMPER), "azure.mgmt.batchai", *args], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory):
    original = _oracle()
    home = tmp_path_factory.mktemp("home-7.0.0")
    ours = json.loads(json.dumps(_dumper().dump("batchai_compat.v7", {"home": str(home)}), sort_keys=True,
                                 default=repr))
    return original, ours


def test_the_oracle_is_7_0_0():
    out = subprocess.run([str(ORACLE), "-c", "import azure.mgmt.batchai as b; print(b.VERSION)"],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "7.0.0", out.stderr


def test_models_and_enums(surfaces):
    original, ours = surfaces
    assert sorted(ours["models"]) == sorted(original["models"])
    mismatched = {name: {k: (v, ours["models"][name].get(k)) for k, v in entry.items()
                         if v != ours["models"][name].get(k)}
                  for name, entry in original["models"].items()}
    kinds = Counter(e["kind"] for e in original["models"].values())
    print(f"\n7.0.0: {len(original['models'])} public names compared ({kinds['model']} models, "
          f"{kinds['enum']} enums, {kinds['paged']} paging containers), keyword-only constructors as they are")
    assert {k: v for k, v in mismatched.items() if v} == {}
    assert len(original["models"]) == EXPECTED["models"] and kinds["enum"] == EXPECTED["enums"]
    assert kinds["paged"] == 0  # 7.0.0 has *ListResult models, no Paged


def test_module_layout(surfaces):
    original, ours = surfaces
    assert ours["modules"] == original["modules"] == []  # only _models_py3, _models, _batch_ai_enums


def test_client_and_operation_groups(surfaces):
    original, ours = surfaces
    client, orig = ours["client"], original["client"]
    assert (client["client_class"], client["init"], client["api_version"]) == \
        (orig["client_class"], orig["init"], orig["api_version"])
    assert client["groups"] == orig["groups"]
    count = sum(len(g["methods"]) for g in orig["groups"].values())
    print(f"\n7.0.0: {len(orig['groups'])} operation groups, {count} operations compared")
    assert count == EXPECTED["operations"]


def test_bad_arguments_client_side_like_the_original_and_the_service_answers_the_rest(surfaces):
    original, ours = surfaces
    expected, actual = original["client"]["errors"], ours["client"]["errors"]
    assert sorted(actual) == sorted(expected)
    sent = {k for k, v in expected.items() if v and v[0] == "ServiceRequestError"}
    client_side = {k: v for k, v in expected.items() if k not in sent}
    assert {k: actual[k] for k in client_side if actual[k] != client_side[k]} == {}
    answered = Counter(actual[k][0] if actual[k] else "ok" for k in sent)
    assert set(answered) <= SERVICE_ANSWERS | {"ok", "StopIteration"}, answered
    print(f"\n7.0.0: {len(expected)} bad calls compared, {len(client_side)} rejected client-side by both "
          f"(same exception and message), {len(sent)} sent by the original and answered by ours: {dict(answered)}")
    assert (len(expected), len(client_side)) == (EXPECTED["calls"], EXPECTED["client_side"])


def test_example_bodies_round_trip_like_the_original(tmp_path):
    dumper = _dumper()
    cases = dumper.example_cases(str(SPEC))
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps(cases), encoding="utf-8")
    original = _oracle("--examples", str(cases_file))
    ours = dumper.roundtrip("batchai_compat.v7", cases)
    print(f"\n7.0.0: {len(cases)} example bodies of the 2018-05-01 description round-tripped")
    assert ours == original
    assert len(cases) == EXPECTED["examples"]
