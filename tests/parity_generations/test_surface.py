"""Parity of the pre-workspace generations with the original packages: azure-mgmt-batchai 0.2.0 and 1.0.1.

Each original is installed in its own virtualenv under ``.tools/oracles/<version>/`` (``make oracles``;
they share the import name ``azure.mgmt.batchai`` with 2.0.0, the oracle of tests/parity/).
``scripts/dump_sdk_surface.py`` runs there and prints the surface as JSON; the same function dumps ours
in-process; every entry is compared: each model's base, attribute map, validation map, constants,
constructor parameters and defaults and ``validate()`` messages, every enumeration and paging
container, the per-class module paths, the client's constructor, api_version and operation groups
(class and method signatures), and what each operation raises for bad names, groups and bodies.

One deliberate difference is normalised away, as for 2.0.0: 1.0.1's ``_py3`` constructors are
keyword-only; ours also take positionals (``ResourceId(cluster.id)``), see the models' package docstring.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DUMPER = REPO / "scripts" / "dump_sdk_surface.py"
GENERATIONS = {"0.2.0": "batchai_compat.v2017_09_01_preview", "1.0.1": "batchai_compat.v2018_03_01"}
# What the originals export, counted once here so that a silently broken oracle cannot shrink the tests.
EXPECTED = {"0.2.0": {"models": 76, "modules": 66, "operations": 21, "rejections": 53},
            "1.0.1": {"models": 83, "modules": 138, "operations": 22, "rejections": 54}}


def _oracle_python(version: str) -> Path:
    python = REPO / ".tools" / "oracles" / version / "bin" / "python"
    assert python.is_file(), f"oracle azure-mgmt-batchai=={version} missing at {python}: run `make oracles`"
    return python


@pytest.fixture(scope="module", params=sorted(GENERATIONS))
def surfaces(request, tmp_path_factory):
    version = request.param
    result = subprocess.run([str(_oracle_python(version)), str(DUMPER), "azure.mgmt.batchai"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    original = json.loads(result.stdout)
    sys.path.insert(0, str(DUMPER.parent))
    try:
        import dump_sdk_surface
    finally:
        sys.path.remove(str(DUMPER.parent))
    home = tmp_path_factory.mktemp(f"home-{version}")
    ours = json.loads(json.dumps(dump_sdk_surface.dump(GENERATIONS[version], {"home": str(home)}),
                                 sort_keys=True, default=repr))
    return version, original, ours


def _positional_too(entry):
    return json.loads(json.dumps(entry).replace('"KEYWORD_ONLY"', '"POSITIONAL_OR_KEYWORD"'))


def test_models_enums_and_paging_containers(surfaces):
    version, original, ours = surfaces
    assert sorted(ours["models"]) == sorted(original["models"])
    mismatched = {name: {k: (entry[k], ours["models"][name].get(k)) for k in entry
                         if entry[k] != ours["models"][name].get(k)}
                  for name, entry in ((n, _positional_too(e)) for n, e in original["models"].items())}
    mismatched = {k: v for k, v in mismatched.items() if v}
    kinds = [e["kind"] for e in original["models"].values()]
    print(f"\n{version}: {len(kinds)} public names compared ({kinds.count('model')} models, "
          f"{kinds.count('enum')} enums, {kinds.count('paged')} paging containers)")
    assert not mismatched
    assert len(original["models"]) == EXPECTED[version]["models"]


def test_module_paths(surfaces):
    version, original, ours = surfaces
    print(f"\n{version}: {len(original['modules'])} per-class module paths compared")
    assert ours["modules"] == original["modules"]
    assert len(original["modules"]) == EXPECTED[version]["modules"]


def test_client_and_operation_groups(surfaces):
    version, original, ours = surfaces
    client, orig = ours["client"], original["client"]
    assert client["init"] == orig["init"]
    assert client["api_version"] == orig["api_version"]
    assert client["groups"] == orig["groups"]
    count = sum(len(g["methods"]) for g in orig["groups"].values())
    print(f"\n{version}: {len(orig['groups'])} operation groups, {count} operations compared")
    assert count == EXPECTED[version]["operations"]


def test_operations_reject_bad_arguments_like_the_original(surfaces):
    version, original, ours = surfaces
    expected, actual = original["client"]["errors"], ours["client"]["errors"]
    assert sorted(actual) == sorted(expected)
    assert {k: v for k, v in actual.items() if v != expected[k]} == {}
    rejected = sum(1 for v in expected.values() if v)
    print(f"\n{version}: {len(expected)} bad calls compared, {rejected} rejected client-side by both")
    assert rejected == EXPECTED[version]["rejections"]


SPECS = {"0.2.0": REPO / "specs" / "batchai-2017-09-01-preview" / "BatchAI.json",
         "1.0.1": REPO / "specs" / "batchai-2018-03-01" / "BatchAI.json"}
EXAMPLE_CASES = {"0.2.0": 31, "1.0.1": 39}


@pytest.mark.parametrize("version", sorted(GENERATIONS))
def test_example_bodies_round_trip_like_the_original(version, tmp_path):
    """Every request and 200 response body of the committed examples, deserialized and serialized back
    by the original and by ours: the same objects (``as_dict``) and the same wire bodies (or errors)."""
    sys.path.insert(0, str(DUMPER.parent))
    try:
        import dump_sdk_surface
    finally:
        sys.path.remove(str(DUMPER.parent))
    cases = dump_sdk_surface.example_cases(str(SPECS[version]))
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps(cases), encoding="utf-8")
    result = subprocess.run([str(_oracle_python(version)), str(DUMPER), "azure.mgmt.batchai", "--examples",
                             str(cases_file)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    original = json.loads(result.stdout)
    ours = dump_sdk_surface.roundtrip(GENERATIONS[version], cases)
    print(f"\n{version}: {len(cases)} example bodies round-tripped")
    assert ours == original
    assert len(cases) == EXAMPLE_CASES[version]
