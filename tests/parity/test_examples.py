"""Every body in the spec's examples round-trips identically through our models and 2.0.0's.

For each example file: find its operation (``x-ms-examples`` in BatchAI.json), take the schema of each
body parameter and of each response status code, deserialize the example body with both packages and
compare ``serialize(keep_readonly=True)`` as JSON text (key order included).
"""

from __future__ import annotations

import json
from pathlib import Path

import azure.mgmt.batchai.models as orig
import pytest

import batchai_compat.models as ours

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "batchai-2018-05-01"
SPEC_FILE = SPEC_DIR / "BatchAI.json"
EXAMPLES = SPEC_DIR / "examples"

# Example files shipped in the folder but not referenced by any 2018-05-01 operation (they belong to
# subscription/resource-group listings of older API versions). Their bodies are Cluster/FileServer
# lists, so they are checked against the operation with the same response schema.
ORPHAN_EXAMPLES = {
    "ListCluster.json": "Clusters_ListByWorkspace",
    "ListClusterByResourceGroup.json": "Clusters_ListByWorkspace",
    "ListFileServer.json": "FileServers_ListByWorkspace",
    "ListFileServerByResourceGroup.json": "FileServers_ListByWorkspace",
}

EXPECTED = {"files": 33, "request_bodies": 6, "response_bodies": 26}

# The spec is committed input data (specs/batchai-2018-05-01/SOURCE.md); missing means a broken checkout.
assert SPEC_FILE.is_file(), f"spec not found at {SPEC_FILE}"

SPEC = json.loads(SPEC_FILE.read_text(encoding="utf-8"))


def _operations():
    """{operationId: operation} and {example file name: operationId}."""
    ops, by_example = {}, {}
    for path in SPEC["paths"].values():
        for verb, op in path.items():
            if verb == "parameters":
                continue
            ops[op["operationId"]] = op
            for ref in op.get("x-ms-examples", {}).values():
                by_example[Path(ref["$ref"]).name] = op["operationId"]
    return ops, by_example


OPERATIONS, EXAMPLE_OPS = _operations()


def _schema_name(schema):
    return schema["$ref"].split("/")[-1]


def _list_item(definition):
    """``JobListResult`` -> ``Job`` for the pageable list results (deserialized item by item, as Paged does)."""
    props = SPEC["definitions"][definition].get("properties", {})
    if set(props) == {"value", "nextLink"}:
        return _schema_name(props["value"]["items"])
    return None


def _round_trip(models, type_name, body):
    return json.dumps(getattr(models, type_name).deserialize(body).serialize(keep_readonly=True), default=str)


def _cases():
    files = sorted(p.name for p in EXAMPLES.glob("*.json"))
    cases = []
    for name in files:
        op_id = EXAMPLE_OPS.get(name) or ORPHAN_EXAMPLES[name]
        op = OPERATIONS[op_id]
        example = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        for param in op.get("parameters", []):
            if param.get("in") == "body" and param["name"] in example["parameters"]:
                cases.append((name, "request", param["name"], _schema_name(param["schema"]),
                              example["parameters"][param["name"]]))
        for status, response in sorted(example["responses"].items()):
            schema = op["responses"].get(status, {}).get("schema")
            if schema is None or response.get("body") is None:
                continue
            cases.append((name, "response", status, _schema_name(schema), response["body"]))
    return files, cases


FILES, CASES = _cases()


def test_counts(capsys):
    requests = sum(1 for c in CASES if c[1] == "request")
    responses = sum(1 for c in CASES if c[1] == "response")
    items = sum(len(c[4]["value"]) for c in CASES if _list_item(c[3]))
    assert {"files": len(FILES), "request_bodies": requests, "response_bodies": responses} == EXPECTED
    assert set(FILES) == set(EXAMPLE_OPS) | set(ORPHAN_EXAMPLES)
    with capsys.disabled():
        print(f"\n[parity] {len(FILES)} example files: {requests} request bodies and {responses} response bodies"
              f" ({items} list items) round-tripped identically through ours and 2.0.0")


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in CASES])
def test_example_round_trip(case):
    _file, _kind, _which, definition, body = case
    item = _list_item(definition)
    if item is None:
        ours_json, orig_json = _round_trip(ours, definition, body), _round_trip(orig, definition, body)
        assert ours_json == orig_json
        assert json.loads(ours_json), "the body must not deserialize to nothing"
        return
    # list results are what the *Paged classes iterate: the page's type says which model the items are
    paged = getattr(ours, item + "Paged")
    assert paged._attribute_map["current_page"]["type"] == f"[{item}]"
    assert getattr(orig, item + "Paged")._attribute_map == paged._attribute_map
    assert body["value"], "list examples carry items"
    for element in body["value"]:
        assert _round_trip(ours, item, element) == _round_trip(orig, item, element)
