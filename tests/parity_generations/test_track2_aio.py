"""Parity of ``batchai_compat.v7.aio`` with ``azure.mgmt.batchai.aio`` of the original azure-mgmt-batchai 7.0.0.

The original is installed in its own virtualenv under ``.tools/oracles/7.0.0/`` (``make oracles``). The same
dumper (:data:`DUMP`, below) runs there on ``azure.mgmt.batchai.aio`` and here on ``batchai_compat.v7.aio``,
and prints JSON: the client's class name and first three constructor parameters, which of ``close`` /
``__aenter__`` / ``__aexit__`` are coroutine functions, the operation groups (attribute -> class), every
public method's parameters (name, kind, default) and whether it is a coroutine function (``get``,
``update`` and ``begin_*`` are; lists are plain methods returning ``AsyncItemPaged``), and what each
operation raises client-side when its first parameter is ``None`` (7.0.0 checked nothing else
client-side; awaited, or iterated to the first page for lists). Compared with no normalisation.

The original's ``BatchAI`` is built with ``transport=AsyncioRequestsTransport()`` (its default transport
needs aiohttp, which the oracle venv does not have) and ``base_url=http://127.0.0.1:9``: nothing it
would send leaves the machine, and the ``None`` calls stop before any request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ORACLE = REPO / ".tools" / "oracles" / "7.0.0" / "bin" / "python"
# What 7.0.0's aio package has, counted once here so that a silently broken oracle cannot shrink the test.
EXPECTED = {"groups": 7, "operations": 27, "coroutines": 16, "client_side": 25}

DUMP = r'''
import asyncio, importlib, inspect, json, sys

def params(func):
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.name != "self":
            out.append([p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)])
    return out

async def outcome(method):
    args = [None if i == 0 else "x" for i, p in enumerate(params(method)) if p[1] == "POSITIONAL_OR_KEYWORD"
            and p[2] is None]
    try:
        result = method(*args)
        if inspect.isawaitable(result):
            await result
        else:
            async for _ in result:
                break
        return None
    except Exception as exc:
        return [type(exc).__name__, str(exc) if isinstance(exc, (ValueError, TypeError)) else None]

async def main(package_name, kwargs):
    package = importlib.import_module(package_name)
    client_cls = package.BatchAI
    if package_name.startswith("azure."):
        from azure.core.pipeline.transport import AsyncioRequestsTransport
        kwargs["transport"] = AsyncioRequestsTransport()
    client = client_cls(object(), "00000000-0000-0000-0000-000000000000", "http://127.0.0.1:9", **kwargs)
    groups, calls = {}, {}
    for attr, group in sorted(vars(client).items()):
        if not type(group).__name__.endswith("Operations"):
            continue
        methods = {}
        for name, method in inspect.getmembers(type(group), inspect.isfunction):
            if name.startswith("_"):
                continue
            methods[name] = {"params": params(method), "coroutine": inspect.iscoroutinefunction(method)}
            if methods[name]["params"][0][1] == "POSITIONAL_OR_KEYWORD":
                calls[attr + "." + name] = await outcome(getattr(group, name))
        groups[attr] = {"class": type(group).__name__, "methods": methods}
    special = {n: inspect.iscoroutinefunction(getattr(client_cls, n)) for n in ("close", "__aenter__", "__aexit__")}
    async with client as entered:
        same = entered is client
    print(json.dumps({"client_class": client_cls.__name__, "init": params(client_cls.__init__)[:3],
                      "special": special, "aenter_returns_client": same, "groups": groups, "calls": calls},
                     sort_keys=True))

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
'''


def _dump(python: str, package: str, kwargs: dict) -> dict:
    result = subprocess.run([python, "-c", DUMP, package, json.dumps(kwargs)], cwd=REPO, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory):
    assert ORACLE.is_file(), f"oracle azure-mgmt-batchai==7.0.0 missing at {ORACLE}: run `make oracles`"
    original = _dump(str(ORACLE), "azure.mgmt.batchai.aio", {})
    ours = _dump(sys.executable, "batchai_compat.v7.aio", {"home": str(tmp_path_factory.mktemp("home-aio"))})
    return original, ours


def test_client_class_constructor_and_async_context_manager(surfaces):
    original, ours = surfaces
    for key in ("client_class", "init", "special", "aenter_returns_client"):
        assert ours[key] == original[key], key
    assert original["special"] == {"close": True, "__aenter__": True, "__aexit__": True}


def test_operation_groups_methods_and_which_are_coroutines(surfaces):
    original, ours = surfaces
    assert sorted(ours["groups"]) == sorted(original["groups"])
    mismatched = {f"{attr}.{name}": (entry, ours["groups"][attr]["methods"].get(name))
                  for attr, group in original["groups"].items() for name, entry in group["methods"].items()
                  if ours["groups"][attr]["methods"].get(name) != entry}
    assert mismatched == {}
    assert {a: g["class"] for a, g in ours["groups"].items()} == {a: g["class"] for a, g in original["groups"].items()}
    assert {a: sorted(g["methods"]) for a, g in ours["groups"].items()} == \
        {a: sorted(g["methods"]) for a, g in original["groups"].items()}
    methods = [m for g in original["groups"].values() for m in g["methods"].values()]
    coroutines = sum(m["coroutine"] for m in methods)
    print(f"\n7.0.0 aio: {len(original['groups'])} groups, {len(methods)} operations compared "
          f"({coroutines} coroutines, {len(methods) - coroutines} AsyncItemPaged lists)")
    assert (len(original["groups"]), len(methods), coroutines) == \
        (EXPECTED["groups"], EXPECTED["operations"], EXPECTED["coroutines"])


def test_a_none_first_argument_is_refused_client_side_like_the_original(surfaces):
    original, ours = surfaces
    assert sorted(ours["calls"]) == sorted(original["calls"])
    sent = {k for k, v in original["calls"].items() if v and v[0] == "ServiceRequestError"}
    client_side = {k: v for k, v in original["calls"].items() if k not in sent}
    assert {k: (v, ours["calls"][k]) for k, v in client_side.items() if ours["calls"][k] != v} == {}
    # What the original sent (``workspaces.list(None)``: no options is valid) ours answers as the service.
    assert {k: ours["calls"][k] for k in sent if ours["calls"][k] is not None} == {}
    print(f"\n7.0.0 aio: {len(original['calls'])} calls with a None first argument compared, "
          f"{len(client_side)} refused client-side by both (same exception and message)")
    assert len(client_side) == EXPECTED["client_side"]
