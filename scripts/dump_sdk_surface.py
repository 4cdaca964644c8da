#!/usr/bin/env python
"""Print the public surface of an azure-mgmt-batchai-shaped package as JSON (for the generation parity tests).

Usage::

    python scripts/dump_sdk_surface.py azure.mgmt.batchai                  # 7.0.0 (track 2) in its venv too
    python scripts/dump_sdk_surface.py batchai_compat.v7                   # ours (track 2)

    python scripts/dump_sdk_surface.py azure.mgmt.batchai                  # an original, in its own venv
    python scripts/dump_sdk_surface.py batchai_compat.v2017_09_01_preview  # ours
    python scripts/dump_sdk_surface.py azure.mgmt.batchai --examples CASES.json  # example round trips

What is dumped, for every public model, enumeration and paging container of ``<package>.models``:
base class, ``_attribute_map``, ``_validation``, constant class attributes, constructor parameters
(name, kind, default), the ``validate()`` messages of an instance built with every required parameter
``None``, enumeration members; the per-class module files; the client's constructor, ``api_version``
and operation groups (class name, each public method's parameters); and, per operation, what a call
with bad arguments raises on the client side (exception class and message; ``None`` when the call got
past client-side validation). Calls use ``base_url=http://127.0.0.1:9``: nothing leaves the machine.

With ``--examples CASES.json`` (a list of ``[label, model name, wire body]``, see :func:`example_cases`), it
prints instead what the package makes of each body: the model deserialized (``as_dict()``) and serialized
back as a request body (or the validation error that serializing raised).
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import os
import sys
from typing import Any, Dict, List

BASE_URL = "http://127.0.0.1:9"
NAME_PARAMS = ("cluster_name", "job_name", "file_server_name")


def _params(func: Any) -> List[List[Any]]:
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.name == "self":
            continue
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        out.append([p.name, p.kind.name, default])
    return out


def dump_models(models: Any) -> Dict[str, Any]:
    from msrest.paging import Paged
    from msrest.serialization import Model

    result: Dict[str, Any] = {}
    for name in sorted(models.__all__):
        cls = getattr(models, name)
        if issubclass(cls, enum.Enum):
            result[name] = {"kind": "enum", "str": issubclass(cls, str), "members": [[m.name, m.value] for m in cls]}
        elif issubclass(cls, Paged):
            result[name] = {"kind": "paged", "attribute_map": cls._attribute_map}
        elif issubclass(cls, Model):
            validation = getattr(cls, "_validation", {})
            params = _params(cls.__init__)
            required = {p[0]: None for p in params if p[2] is None and p[1] not in ("VAR_KEYWORD", "VAR_POSITIONAL")}
            try:
                messages = sorted(str(e) for e in cls(**required).validate())
            except Exception as exc:  # noqa: BLE001 - recorded, compared
                messages = [f"{type(exc).__name__}: {exc}"]
            result[name] = {
                "kind": "model", "base": cls.__bases__[0].__name__, "attribute_map": cls._attribute_map,
                "validation": validation, "params": params, "validate": messages,
                "constants": {k: getattr(cls, k) for k, v in validation.items() if v.get("constant")},
            }
    return result


def _case_args(method: Any, bad: str) -> Any:
    """Positional/keyword arguments for a call: valid names except the one ``bad`` says."""
    kwargs: Dict[str, Any] = {}
    for name, kind, default in _params(method):
        if default is not None or kind in ("VAR_KEYWORD", "VAR_POSITIONAL"):
            continue
        if name == "resource_group_name":
            kwargs[name] = "bad group!" if bad == "rg" else "rg"
        elif name in NAME_PARAMS:
            kwargs[name] = {"long": "n" * 65, "empty": "", "dot": "a.b"}.get(bad, "name")
        elif name == "location":
            kwargs[name] = "bad location!" if bad == "rg" else "eastus"
        else:
            kwargs[name] = None  # parameters / options: None is what the serializer checks
    return kwargs


def dump_client(package: Any, client_kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """For a track-2 package (7.0.0: the client is ``BatchAI(credential, ...)``) the client gets ``retry_total=0``
    (the original's calls stop in its pipeline: bearer authentication refuses the http base URL)."""
    track2 = hasattr(package, "BatchAI")
    client_cls = package.BatchAI if track2 else package.BatchAIManagementClient
    credential = {"credential": object(), "retry_total": 0} if track2 else {"credentials": object()}
    client = client_cls(subscription_id="00000000-0000-0000-0000-000000000000", base_url=BASE_URL,
                        **credential, **client_kwargs)
    groups: Dict[str, Any] = {}
    errors: Dict[str, Any] = {}
    for attr, group in sorted(vars(client).items()):
        if not type(group).__name__.endswith("Operations"):
            continue
        methods = {n: _params(m) for n, m in inspect.getmembers(type(group), inspect.isfunction)
                   if not n.startswith("_")}
        groups[attr] = {"class": type(group).__name__, "methods": methods}
        for name in methods:
            for bad in ("rg", "long", "empty", "dot", "body"):
                method = getattr(group, name)
                try:
                    result = method(**_case_args(method, bad))
                    if hasattr(result, "next"):  # paged: validation happens at the first page
                        next(iter(result))
                    outcome = None
                except Exception as exc:  # noqa: BLE001 - what the call raised is the data
                    from msrest.exceptions import ValidationError

                    if track2:  # 7.0.0 checked nothing client-side: what stopped the call, and its HTTP status
                        client_side = isinstance(exc, (ValidationError, TypeError, ValueError))
                        outcome = [type(exc).__name__, getattr(exc, "status_code", None),
                                   str(exc) if client_side else None]
                    else:
                        outcome = [type(exc).__name__, str(exc)] if isinstance(exc, (ValidationError, TypeError)) \
                            else None
                errors[f"{attr}.{name}[{bad}]"] = outcome
    return {"init": _params(client_cls.__init__)[:3], "api_version": getattr(client, "api_version", None),
            "groups": groups, "errors": errors, "client_class": client_cls.__name__}


def example_cases(spec_path: str) -> List[List[Any]]:
    """``[label, model, body]`` for each request body and each 200 response (list items one by one) of the
    examples the description names (``x-ms-examples``), with the model the operation declares for it."""
    folder = os.path.dirname(spec_path)
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    definitions = spec["definitions"]
    cases: List[List[Any]] = []
    for path in spec["paths"].values():
        for operation in path.values():
            for _title, ref in sorted(operation.get("x-ms-examples", {}).items()):
                example_path = os.path.join(folder, ref["$ref"])
                if not os.path.isfile(example_path):
                    continue  # named by the description, absent from its folder
                with open(example_path, encoding="utf-8") as fh:
                    example = json.load(fh)
                name = os.path.basename(example_path)
                for param in operation.get("parameters", []):
                    if param.get("in") == "body" and param["name"] in example["parameters"]:
                        model = param["schema"]["$ref"].split("/")[-1]
                        cases.append([f"{name}:request", model, example["parameters"][param["name"]]])
                schema = operation["responses"].get("200", {}).get("schema")
                body = example["responses"].get("200", {}).get("body")
                if schema is None or body is None:
                    continue
                model = schema["$ref"].split("/")[-1]
                if "x-ms-pageable" in operation:
                    item = definitions[model]["properties"]["value"]["items"]["$ref"].split("/")[-1]
                    cases += [[f"{name}:value[{i}]", item, entry] for i, entry in enumerate(body["value"])]
                else:
                    cases.append([f"{name}:response", model, body])
    return cases


def roundtrip(package_name: str, cases: List[List[Any]]) -> Dict[str, Any]:
    from msrest import Deserializer, Serializer

    models = importlib.import_module(package_name + ".models")
    classes = {k: v for k, v in vars(models).items() if isinstance(v, type)}
    deserializer, serializer = Deserializer(classes), Serializer(classes)
    out: Dict[str, Any] = {}
    for label, model, body in cases:
        obj = deserializer(model, body)
        try:
            wire: Any = serializer.body(obj, model)
        except Exception as exc:  # noqa: BLE001 - what serializing raised is the data
            wire = f"{type(exc).__name__}: {exc}"
        out[label] = {"model": type(obj).__name__, "as_dict": obj.as_dict(), "body": wire}
    return json.loads(json.dumps(out, sort_keys=True, default=repr))


def dump(package_name: str, client_kwargs: Dict[str, Any]) -> Dict[str, Any]:
    package = importlib.import_module(package_name)
    models = importlib.import_module(package_name + ".models")
    folder = os.path.dirname(models.__file__)
    modules = sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_"))
    return {"models": dump_models(models), "modules": modules, "client": dump_client(package, client_kwargs)}


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[2] == "--examples":
        with open(sys.argv[3], encoding="utf-8") as cases_file:
            json.dump(roundtrip(sys.argv[1], json.load(cases_file)), sys.stdout, sort_keys=True)
    else:
        json.dump(dump(sys.argv[1], {}), sys.stdout, sort_keys=True, default=repr)
