"""msrest ``Model`` classes built from compact tables.

The resource-group and storage-account models are plain data carriers: an attribute map (the
wire keys and types msrest serializes), a ``_validation`` table and a keyword-only constructor.
Writing each as a class by hand would repeat the same ten lines sixty times, so
:func:`define` builds them from one table row each. The classes behave as the 2018 packages'
"py3" models did: keyword-only constructor arguments (required ones raise ``TypeError`` when
missing), read-only attributes start as ``None``, constants are class attributes, unknown
keywords are handed to ``msrest.serialization.Model`` (which keeps them out of the wire body).
``inspect.signature(Model.__init__)`` shows the same parameters as the originals.
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, Optional, Sequence, Tuple, Type, Union

from msrest.serialization import Model

_REQUIRED = object()

# (python name, wire key, msrest type)
Attr = Tuple[str, str, str]
# a constructor parameter: "name" (optional, default None), ("name", default), or ("name", REQUIRED)
Param = Union[str, Tuple[str, Any]]
REQUIRED = _REQUIRED


def define(
    name: str,
    module: str,
    doc: str,
    attrs: Sequence[Attr],
    params: Sequence[Param] = (),
    *,
    validation: Optional[Dict[str, Dict[str, Any]]] = None,
    constants: Optional[Dict[str, Any]] = None,
    base: Type[Model] = Model,
) -> Type[Model]:
    """A ``Model`` subclass named ``name`` with the given attribute map and constructor."""
    attribute_map = {py: {"key": key, "type": kind} for py, key, kind in attrs}
    order = []
    defaults: Dict[str, Any] = {}
    for param in params:
        pname, default = (param, None) if isinstance(param, str) else param
        order.append(pname)
        defaults[pname] = default
    required = [p for p in order if defaults[p] is _REQUIRED]
    settable = set(order)
    fixed = dict(constants or {})

    def __init__(self: Any, **kwargs: Any) -> None:  # noqa: N807
        missing = [p for p in required if p not in kwargs]
        if missing:
            names = " and ".join(repr(p) for p in missing)
            word = "argument" if len(missing) == 1 else "arguments"
            raise TypeError(f"{name}.__init__() missing {len(missing)} required keyword-only {word}: {names}")
        given = {p: kwargs.pop(p) for p in order if p in kwargs}
        Model.__init__(self, **kwargs)
        for attr in attribute_map:
            if attr in fixed:
                continue
            if attr in settable:
                value = given.get(attr, defaults[attr])
                setattr(self, attr, None if value is _REQUIRED else value)
            else:
                setattr(self, attr, None)

    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for pname in order:
        default = inspect.Parameter.empty if defaults[pname] is _REQUIRED else defaults[pname]
        parameters.append(inspect.Parameter(pname, inspect.Parameter.KEYWORD_ONLY, default=default))
    parameters.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
    __init__.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{name}.__init__"
    namespace: Dict[str, Any] = {
        "__doc__": doc,
        "__module__": module,
        "__qualname__": name,
        "_attribute_map": attribute_map,
        "_validation": dict(validation or {}),
        "__init__": __init__,
    }
    namespace.update(fixed)
    return type(name, (base,), namespace)


def readonly(*names: str) -> Dict[str, Dict[str, Any]]:
    """``_validation`` entries for server-populated attributes."""
    return {n: {"readonly": True} for n in names}


def required(*names: str) -> Dict[str, Dict[str, Any]]:
    return {n: {"required": True} for n in names}


def merge(*tables: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for table in tables:
        for key, value in table.items():
            out.setdefault(key, {}).update(value)
    return out


def model_classes(namespace: Dict[str, Any]) -> Dict[str, type]:
    """The classes of a models module, for msrest's ``Serializer``/``Deserializer``."""
    return {k: v for k, v in namespace.items() if isinstance(v, type)}
