"""batchai_compat.resource / .storage_mgmt against the 2018 packages' recorded surface.

``mgmt_surface_2018.json`` was produced from ``azure-mgmt-resource`` 2.0.0 and ``azure-mgmt-storage``
2.0.0 by ``scripts/snapshot_mgmt_surface.py`` (how to reproduce it is in that script's docstring);
those packages cannot be installed beside azureml-core, so the snapshot is the oracle. Compared:
the client constructors, every method of ``resource_groups`` / ``storage_accounts`` (parameters,
kinds, defaults), every model (attribute map, ``_validation``, constants, constructor, bases), the
enums, and the validation probes (the same ``ValidationError`` message, or the same acceptance).
"""

from __future__ import annotations

import enum
import inspect
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from msrest.exceptions import ValidationError

from batchai_compat import resource, storage_mgmt
from batchai_compat.resource import models as rg_models
from batchai_compat.storage_mgmt import models as st_models

SNAPSHOT = json.loads((Path(__file__).parent / "mgmt_surface_2018.json").read_text())
SUB = "00000000-0000-0000-0000-000000000000"
COUNTS: Dict[str, int] = {}


def _params(func: Any) -> List[List[Any]]:
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.name == "self":
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        if default is not None and not isinstance(default, (bool, int, float, str)):
            default = repr(type(default).__name__)
        out.append([p.name, p.kind.name, p.default is not inspect.Parameter.empty, default])
    return out


PACKAGES = {"resource": (resource, rg_models, resource.ResourceManagementClient),
            "storage": (storage_mgmt, st_models, storage_mgmt.StorageManagementClient)}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_models_match(package):
    _module, models, _client = PACKAGES[package]
    expected = SNAPSHOT[package]["models"]
    ours = {n for n, v in vars(models).items() if isinstance(v, type) and v.__module__ == models.__name__}
    assert ours == set(expected), "models missing or extra"
    for name, spec in expected.items():
        cls = getattr(models, name)
        if spec["kind"] == "enum":
            assert issubclass(cls, str) and issubclass(cls, enum.Enum), name
            assert {m.name: m.value for m in cls} == spec["members"], name
            continue
        assert cls._attribute_map == spec["attribute_map"], name
        assert cls._validation == spec["validation"], name
        assert [b.__name__ for b in cls.__mro__[1:] if b.__module__ == models.__name__] == spec["bases"], name
        if spec["kind"] == "model":
            assert _params(cls.__init__) == spec["init"], name
            assert {a: getattr(cls, a) for a in spec["constants"]} == spec["constants"], name
    COUNTS[f"{package} models"] = len(expected)
    print(f"{package}: {len(expected)} models/enums/paged classes identical")


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_client_and_methods_match(package, tmp_path):
    _module, _models, client_class = PACKAGES[package]
    spec = SNAPSHOT[package]
    assert _params(client_class.__init__)[:4] == spec["client"]["init"][:4]
    # profile=KnownProfiles.default in the original; accepted and ignored here (see the client docstring).
    assert _params(client_class.__init__)[4][:3] == spec["client"]["init"][4][:3]
    client = client_class(object(), SUB, home=str(tmp_path))
    group = getattr(client, spec["operation_group"]["attribute"])
    assert type(group).__name__ == spec["operation_group"]["class"]
    assert group.api_version == spec["operation_group"]["api_version"]
    methods = spec["operation_group"]["methods"]
    ours = {n for n in dir(group) if not n.startswith("_") and callable(getattr(group, n)) and n != "models"}
    assert ours == set(methods)
    for name, params in methods.items():
        assert _params(getattr(group, name)) == params, name
    assert set(spec["client"]["operation_groups"]) <= set(dir(client))  # the others refuse when accessed
    print(f"{package}: client constructor and {len(methods)} methods identical")


def _probe(call: Any) -> str:
    try:
        result = call()
        if hasattr(result, "advance_page"):
            next(iter(result), None)
    except ValidationError as exc:
        return f"ValidationError: {exc}"
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # a service answer (CloudError): the request got past validation
        return "sent"
    return "sent"


def _resource_probes(client: Any) -> Dict[str, Any]:
    groups = client.resource_groups
    calls: Dict[str, Any] = {}
    for name in ["", "a" * 90, "a" * 91, "bad name", "rg(1).x_y-z", "ümlaut", "rg/1"]:
        calls[f"get({name!r})"] = lambda n=name: groups.get(n)
        calls[f"check_existence({name!r})"] = lambda n=name: groups.check_existence(n)
        calls[f"create_or_update({name!r}, {{'location': 'westus'}})"] = \
            lambda n=name: groups.create_or_update(n, {"location": "westus"})
        calls[f"delete({name!r})"] = lambda n=name: groups.delete(n)
    calls["create_or_update('rg', {})"] = lambda: groups.create_or_update("rg", {})
    calls["create_or_update('rg', ResourceGroup(location=None))"] = \
        lambda: groups.create_or_update("rg", rg_models.ResourceGroup(location=None))
    calls["list(top=0)"] = lambda: groups.list(top=0)
    calls["list(filter='tagName eq x')"] = lambda: groups.list(filter="tagName eq 'x'")
    return calls


def _storage_probes(client: Any) -> Dict[str, Any]:
    accounts = client.storage_accounts
    m = st_models
    sku = m.Sku(name="Standard_LRS")
    good = m.StorageAccountCreateParameters(sku=sku, kind="Storage", location="westus")
    calls: Dict[str, Any] = {}
    for name in ["ab", "abc", "a" * 24, "a" * 25, "Upper", "with-dash", ""]:
        calls[f"get_properties('rg', {name!r})"] = lambda n=name: accounts.get_properties("rg", n)
        calls[f"create('rg', {name!r}, good)"] = lambda n=name: accounts.create("rg", n, good)
        calls[f"list_keys('rg', {name!r})"] = lambda n=name: accounts.list_keys("rg", n)
        calls[f"delete('rg', {name!r})"] = lambda n=name: accounts.delete("rg", n)
        calls[f"check_name_availability({name!r})"] = lambda n=name: accounts.check_name_availability(n)
    for name in ["", "a" * 91, "bad name"]:
        calls[f"get_properties({name!r}, 'abc')"] = lambda n=name: accounts.get_properties(n, "abc")
        calls[f"list_by_resource_group({name!r})"] = lambda n=name: accounts.list_by_resource_group(n)
    calls["create('rg', 'abc', {})"] = lambda: accounts.create("rg", "abc", {})
    calls["create('rg', 'abc', no sku)"] = lambda: accounts.create(
        "rg", "abc", m.StorageAccountCreateParameters(sku=None, kind="Storage", location="westus"))
    calls["create('rg', 'abc', no location)"] = lambda: accounts.create(
        "rg", "abc", m.StorageAccountCreateParameters(sku=sku, kind="Storage", location=None))
    calls["create('rg', 'abc', dict)"] = lambda: accounts.create(
        "rg", "abc", {"sku": {"name": "Standard_LRS"}, "kind": "Storage", "location": "westus"})
    calls["create('rg', 'abc', Sku(name=None))"] = lambda: accounts.create(
        "rg", "abc", m.StorageAccountCreateParameters(sku=m.Sku(name=None), kind="Storage", location="westus"))
    calls["regenerate_key('rg', 'abc', None)"] = lambda: accounts.regenerate_key("rg", "abc", None)
    calls["regenerate_key('rg', 'abc', 'key1')"] = lambda: accounts.regenerate_key("rg", "abc", "key1")
    calls["check_name_availability(None)"] = lambda: accounts.check_name_availability(None)
    return calls


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_validation_probes_match(package, tmp_path):
    _module, _models, client_class = PACKAGES[package]
    client = client_class(object(), SUB, home=str(tmp_path))
    calls = (_resource_probes if package == "resource" else _storage_probes)(client)
    expected = SNAPSHOT[package]["probes"]
    assert set(calls) == set(expected)
    got = {key: _probe(call) for key, call in calls.items()}
    assert got == expected
    print(f"{package}: {len(expected)} validation probes identical "
          f"({sum(v.startswith('ValidationError') for v in expected.values())} rejections)")
