"""JSON config files of ``-f/--config-file`` (and the old ``-c/--config``) as the Azure CLI read them.

azure-cli-batchai 0.4.10 (``custom.py``, ``create_cluster``/``create_job``/``create_file_server``)
opened the file, ``json.load``-ed it and gave the object to msrest's ``Deserializer`` as the
``*CreateParameters`` model, i.e. the REST *wire* form: ``{"properties": {...}}`` (the ``$schema`` key
beside it, pointing at any API version's schema, is ignored). This loader does the same and also
accepts a *bare* property object (``{"vmSize": ..., "scaleSettings": ...}``, as the recipes'
``cluster.json`` sometimes were) by wrapping it into ``properties``.

Errors, as the CLI printed them (exit code 1): a missing file gives Python's
``[Errno 2] No such file or directory: 'cluster.json'``; bad JSON gives the ``json`` module's message
(``Expecting value: line 1 column 1 (char 0)``). A JSON value that is not an object is a CLIError.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

from knack.util import CLIError

#: Top-level keys of the create-parameters wire bodies besides ``properties`` (the models' own).
_TOP_LEVEL = {"$schema", "properties", "location", "tags", "id", "name", "type"}


def read_json_file(path: str) -> Dict[str, Any]:
    """The file's JSON object (``OSError`` / ``ValueError`` propagate: the framework prints them)."""
    with open(path, encoding="utf-8-sig") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise CLIError(f"The configuration file {path} must contain a JSON object.")
    return data


def wire_body(data: Dict[str, Any]) -> Dict[str, Any]:
    """``data`` as a wire body: ``$schema`` dropped, a bare property object wrapped into ``properties``."""
    body = {k: v for k, v in data.items() if k != "$schema"}
    if "properties" not in body and any(k not in _TOP_LEVEL for k in body):
        top = {k: body.pop(k) for k in list(body) if k in ("location", "tags")}
        body = dict(top, properties=body)
    return body


def load_config_file(path: str, model: str, models_module: Any = None) -> Any:
    """The ``model`` (e.g. ``"ClusterCreateParameters"``) read from the JSON file at ``path``.

    ``models_module`` is the generation's models module (``cmd.models()``); default 2018-05-01's.
    """
    from msrest import Deserializer

    if models_module is None:
        import batchai_compat.models as models_module
    data = wire_body(read_json_file(path))
    client_models = {k: v for k, v in vars(models_module).items() if isinstance(v, type)}
    return Deserializer(client_models)(model, data)


def load_optional(path: Optional[str], model: str, models_module: Any = None) -> Any:
    """:func:`load_config_file` when ``path`` is given, else an empty ``model`` (no required args)."""
    if path:
        return load_config_file(path, model, models_module)
    if models_module is None:
        import batchai_compat.models as models_module
    cls = getattr(models_module, model)
    obj = cls.__new__(cls)
    # an all-None instance: msrest models validate only on serialization
    from msrest.serialization import Model

    Model.__init__(obj)
    for attr in getattr(cls, "_attribute_map", {}):
        setattr(obj, attr, None)
    return obj


__all__ = ["load_config_file", "load_optional", "read_json_file", "wire_body"]
