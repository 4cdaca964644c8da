"""Record the public surface of the 2018 resource-group and storage-account SDKs as JSON.

batchai_compat's offline ``batchai_compat.resource`` and ``batchai_compat.storage_mgmt`` reproduce the
parts of ``azure-mgmt-resource`` 2.0.0 (resources API 2018-05-01) and ``azure-mgmt-storage`` 2.0.0
(API 2018-02-01) that Batch AI notebooks called. Those packages cannot be installed beside
azureml-core (it needs today's versions), so the parity test ``tests/mgmt/test_parity.py`` compares
against this script's output, ``tests/mgmt/mgmt_surface_2018.json``, instead of importing them.

Reproduce the snapshot (needs network access to PyPI once; nothing here contacts Azure)::

    python3 -m venv /tmp/mgmt2018
    /tmp/mgmt2018/bin/pip install azure-mgmt-resource==2.0.0 azure-mgmt-storage==2.0.0
    /tmp/mgmt2018/bin/python scripts/snapshot_mgmt_surface.py > tests/mgmt/mgmt_surface_2018.json

What is recorded, per client: the constructor's parameters; for the operation group batchai_compat
provides (``resource_groups``, ``storage_accounts``), every public method's parameters; every model,
paged class and enum reachable from those methods' parameters and results (attribute maps,
``_validation``, constructor parameters, base classes, enum members); and the outcome of validation
probes: each method called with good and bad arguments while the HTTP pipeline is replaced by a stub
that refuses to send, so the result is either the ``ValidationError`` msrest raised before any
request, or ``"sent"`` (argument accepted).
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import re
import sys
from typing import Any, Dict, List, Optional

_SCALARS = {"str", "int", "bool", "float", "long", "iso-8601", "rfc-1123", "unix-time", "duration", "date",
            "object", "bytearray", "base64", "decimal"}


class _Refused(Exception):
    """Raised by the stub pipeline: the request got past validation."""


def _params(func: Any) -> List[List[Any]]:
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.name == "self":
            continue
        default = None if p.default is inspect.Parameter.empty else _default(p.default)
        out.append([p.name, p.kind.name, p.default is not inspect.Parameter.empty, default])
    return out


def _default(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(type(value).__name__)


def _type_names(type_text: str) -> List[str]:
    return [t for t in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", type_text) if t not in _SCALARS]


def _models_closure(models: Any, roots: List[str]) -> Dict[str, Any]:
    seen: Dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or not hasattr(models, name):
            continue
        cls = getattr(models, name)
        if isinstance(cls, type) and issubclass(cls, enum.Enum):
            seen[name] = {"kind": "enum", "members": {m.name: m.value for m in cls}}
            continue
        entry: Dict[str, Any] = {
            "kind": "paged" if hasattr(cls, "current_page") or name.endswith("Paged") else "model",
            "bases": [b.__name__ for b in cls.__mro__[1:] if b.__module__.startswith("azure.")],
            "attribute_map": getattr(cls, "_attribute_map", {}),
            "validation": getattr(cls, "_validation", {}),
        }
        if entry["kind"] == "model":
            entry["init"] = _params(cls.__init__)
            entry["constants"] = {a: getattr(cls, a) for a, v in entry["validation"].items() if v.get("constant")}
        seen[name] = entry
        for attr in entry["attribute_map"].values():
            todo.extend(_type_names(attr["type"]))
        todo.extend(b for b in entry["bases"] if b not in ("Model", "Paged"))
    return dict(sorted(seen.items()))


def _probe(call: Any) -> str:
    from msrest.exceptions import ValidationError

    try:
        result = call()
        if hasattr(result, "__next__") or hasattr(result, "advance_page"):
            next(iter(result))
    except ValidationError as exc:
        return f"ValidationError: {exc}"
    except _Refused:
        return "sent"
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "returned"


def _stub(client: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise _Refused()

    client._client.send = refuse
    client._client.send_formdata = refuse


def snapshot() -> Dict[str, Any]:
    from azure.mgmt.resource import ResourceManagementClient
    from azure.mgmt.resource.version import VERSION as RESOURCE_VERSION
    from azure.mgmt.storage import StorageManagementClient
    from azure.mgmt.storage.version import VERSION as STORAGE_VERSION

    class Creds:
        def signed_session(self, session: Any = None) -> Any:
            import requests

            return session or requests.Session()

    sub = "00000000-0000-0000-0000-000000000000"
    out: Dict[str, Any] = {
        "produced_by": "scripts/snapshot_mgmt_surface.py",
        "python": sys.version.split()[0],
        "packages": {"azure-mgmt-resource": RESOURCE_VERSION, "azure-mgmt-storage": STORAGE_VERSION,
                     "msrest": importlib.import_module("msrest.version").msrest_version},
    }

    # -- resource groups ------------------------------------------------------------------------
    rmc = ResourceManagementClient(Creds(), sub)
    _stub(rmc)
    rg_models = ResourceManagementClient.models()
    groups = rmc.resource_groups
    rg_methods = {n: _params(getattr(groups, n)) for n in sorted(dir(groups))
                  if not n.startswith("_") and callable(getattr(groups, n)) and n != "models"}
    rg_roots = ["ResourceGroup", "ResourceGroupPatchable", "ResourceGroupPaged", "ResourceGroupFilter",
                "ResourceGroupExportResult", "ExportTemplateRequest"]
    bad_names = ["", "a" * 90, "a" * 91, "bad name", "rg(1).x_y-z", "ümlaut", "rg/1"]
    rg_probes: Dict[str, str] = {}
    for name in bad_names:
        rg_probes[f"get({name!r})"] = _probe(lambda n=name: groups.get(n))
        rg_probes[f"check_existence({name!r})"] = _probe(lambda n=name: groups.check_existence(n))
        rg_probes[f"create_or_update({name!r}, {{'location': 'westus'}})"] = _probe(
            lambda n=name: groups.create_or_update(n, {"location": "westus"}))
        rg_probes[f"delete({name!r})"] = _probe(lambda n=name: groups.delete(n))
    rg_probes["create_or_update('rg', {})"] = _probe(lambda: groups.create_or_update("rg", {}))
    rg_probes["create_or_update('rg', ResourceGroup(location=None))"] = _probe(
        lambda: groups.create_or_update("rg", rg_models.ResourceGroup(location=None)))
    rg_probes["list(top=0)"] = _probe(lambda: groups.list(top=0))
    rg_probes["list(filter='tagName eq x')"] = _probe(lambda: groups.list(filter="tagName eq 'x'"))
    out["resource"] = {
        "client": {"name": "ResourceManagementClient", "init": _params(ResourceManagementClient.__init__),
                   "default_api_version": ResourceManagementClient.DEFAULT_API_VERSION,
                   "operation_groups": sorted(n for n, v in vars(ResourceManagementClient).items()
                                              if isinstance(v, property))},
        "config_init": _params(type(rmc.config).__init__),
        "operation_group": {"attribute": "resource_groups", "class": type(groups).__name__,
                            "api_version": groups.api_version, "methods": rg_methods},
        "models": _models_closure(rg_models, rg_roots),
        "probes": rg_probes,
    }

    # -- storage accounts -----------------------------------------------------------------------
    smc = StorageManagementClient(Creds(), sub)
    _stub(smc)
    st_models = StorageManagementClient.models()
    accounts = smc.storage_accounts
    st_methods = {n: _params(getattr(accounts, n)) for n in sorted(dir(accounts))
                  if not n.startswith("_") and callable(getattr(accounts, n)) and n != "models"}
    st_roots = ["StorageAccount", "StorageAccountCreateParameters", "StorageAccountUpdateParameters",
                "StorageAccountListKeysResult", "StorageAccountRegenerateKeyParameters",
                "StorageAccountCheckNameAvailabilityParameters", "CheckNameAvailabilityResult", "StorageAccountPaged",
                "AccountSasParameters", "ServiceSasParameters", "ListAccountSasResponse", "ListServiceSasResponse"]
    # The enums of the storage-account API (those of blob containers, usages and leases are left out).
    st_roots += ["AccessTier", "AccountStatus", "Action", "Bypass", "DefaultAction", "HttpProtocol", "KeyPermission",
                 "KeySource", "Kind", "Permissions", "ProvisioningState", "Reason", "ReasonCode", "Services",
                 "SignedResource", "SignedResourceTypes", "SkuName", "SkuTier", "State"]
    sku = st_models.Sku(name="Standard_LRS")
    good = st_models.StorageAccountCreateParameters(sku=sku, kind="Storage", location="westus")
    st_probes: Dict[str, str] = {}
    for name in ["ab", "abc", "a" * 24, "a" * 25, "Upper", "with-dash", ""]:
        st_probes[f"get_properties('rg', {name!r})"] = _probe(lambda n=name: accounts.get_properties("rg", n))
        st_probes[f"create('rg', {name!r}, good)"] = _probe(lambda n=name: accounts.create("rg", n, good))
        st_probes[f"list_keys('rg', {name!r})"] = _probe(lambda n=name: accounts.list_keys("rg", n))
        st_probes[f"delete('rg', {name!r})"] = _probe(lambda n=name: accounts.delete("rg", n))
        st_probes[f"check_name_availability({name!r})"] = _probe(lambda n=name: accounts.check_name_availability(n))
    for name in ["", "a" * 91, "bad name"]:
        st_probes[f"get_properties({name!r}, 'abc')"] = _probe(lambda n=name: accounts.get_properties(n, "abc"))
        st_probes[f"list_by_resource_group({name!r})"] = _probe(lambda n=name: accounts.list_by_resource_group(n))
    st_probes["create('rg', 'abc', {})"] = _probe(lambda: accounts.create("rg", "abc", {}))
    st_probes["create('rg', 'abc', no sku)"] = _probe(lambda: accounts.create(
        "rg", "abc", st_models.StorageAccountCreateParameters(sku=None, kind="Storage", location="westus")))
    st_probes["create('rg', 'abc', no location)"] = _probe(lambda: accounts.create(
        "rg", "abc", st_models.StorageAccountCreateParameters(sku=sku, kind="Storage", location=None)))
    st_probes["create('rg', 'abc', dict)"] = _probe(lambda: accounts.create(
        "rg", "abc", {"sku": {"name": "Standard_LRS"}, "kind": "Storage", "location": "westus"}))
    st_probes["create('rg', 'abc', Sku(name=None))"] = _probe(lambda: accounts.create(
        "rg", "abc", st_models.StorageAccountCreateParameters(sku=st_models.Sku(name=None), kind="Storage",
                                                              location="westus")))
    st_probes["regenerate_key('rg', 'abc', None)"] = _probe(lambda: accounts.regenerate_key("rg", "abc", None))
    st_probes["regenerate_key('rg', 'abc', 'key1')"] = _probe(lambda: accounts.regenerate_key("rg", "abc", "key1"))
    st_probes["check_name_availability(None)"] = _probe(lambda: accounts.check_name_availability(None))
    out["storage"] = {
        "client": {"name": "StorageManagementClient", "init": _params(StorageManagementClient.__init__),
                   "default_api_version": StorageManagementClient.DEFAULT_API_VERSION,
                   "operation_groups": sorted(n for n, v in vars(StorageManagementClient).items()
                                              if isinstance(v, property))},
        "config_init": _params(type(smc.config).__init__),
        "operation_group": {"attribute": "storage_accounts", "class": type(accounts).__name__,
                            "api_version": accounts.api_version, "methods": st_methods},
        "models": _models_closure(st_models, st_roots),
        "probes": st_probes,
    }
    return out


def main(argv: Optional[List[str]] = None) -> int:
    json.dump(snapshot(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
