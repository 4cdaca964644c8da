"""Which client generation a piece of Batch AI code was written for, from its calls (AST).

Nothing here is a copy of the product's tables: the generations, their packages and REST API
versions come from :data:`batchai_compat._generations.GENERATIONS`; the operation signatures are
those of each generation's ``operations`` classes (``inspect.signature``); the model names and
constructor keywords are those of each generation's ``models`` package (``_attribute_map``).

Track 2 (``azure-mgmt-batchai`` 7.0.0) is an entry of :data:`TRACK2`: its long-running operations
are named with a prefix (``begin_create``), the package that provides it (``batchai_compat.v7``)
and the module of its operation classes, whose signatures are then used. Where that package cannot
be found (or imported: it needs azure-core), a ``begin_*`` call is still detected as 7.0.0 by 2.0.0's
signatures (track 2 kept them, with the long-running operations renamed), and the file is
reported, not rewritten.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import re
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple

from batchai_compat import _generations

#: Track-2 releases: sdk -> (REST API version, prefix of its long-running operations, the batchai_compat
#: package a user imports, the module holding its operation group classes). Extend here.
TRACK2: Dict[str, Tuple[str, str, str, str]] = {
    "7.0.0": ("2018-05-01", "begin_", "batchai_compat.v7", "batchai_compat.v7._client"),
}
#: The generation whose surface a track-2 release keeps for its other calls (and its models).
TRACK2_BASE = "2.0.0"
#: Preference when the calls fit several generations (first wins).
PREFERENCE = ("2.0.0", "1.0.x", "0.2.0") + tuple(TRACK2)


class Generation:
    """One client generation: its azure-mgmt-batchai release, REST API and batchai_compat package."""

    def __init__(self, sdk: str, api: str, module: Optional[str], lro_prefix: str = "",
                 operations: Optional[str] = None) -> None:
        self.operations = operations or (module + ".operations" if module else None)
        self.sdk = sdk
        self.api = api
        self.module = module  # None: no batchai_compat package for it (yet)
        self.lro_prefix = lro_prefix

    def __repr__(self) -> str:
        return f"Generation({self.sdk!r}, {self.api!r}, {self.module!r})"

    @functools.cached_property
    def groups(self) -> Dict[str, type]:
        """Operation group attribute (``clusters``, ``file_servers``, ``usage``) -> its class."""
        if self.module is None or self.operations is None:
            return {}
        try:
            ops = importlib.import_module(self.operations)
        except ImportError:  # e.g. track 2 without azure-core: its calls are then judged by 2.0.0's surface
            return {}
        out: Dict[str, type] = {}
        for name, cls in vars(ops).items():
            if isinstance(cls, type) and name.endswith("Operations"):
                stem = name[: -len("Operations")] or "Operations"
                out[re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()] = cls
        return out

    @functools.cached_property
    def models(self) -> Any:
        if self.module is None:
            return None
        try:
            return importlib.import_module(self.module + ".models")
        except ImportError:
            return None


@functools.lru_cache(maxsize=None)  # noqa: UP033
def generations() -> Dict[str, Generation]:
    """Every generation, by release name (``0.2.0``, ``1.0.x``, ``2.0.0``, ``7.0.0``)."""
    out: Dict[str, Generation] = {}
    for api, sdk, module in _generations.GENERATIONS.values():
        out[sdk] = Generation(sdk, api, module)
    for sdk, (api, prefix, package, operations) in TRACK2.items():
        known = out.get(sdk)
        candidate: Optional[str] = known.module if known else package
        try:
            found = candidate is not None and importlib.util.find_spec(candidate) is not None
        except ImportError:  # a parent package that is missing
            found = False
        out[sdk] = Generation(sdk, api, candidate if found else None, prefix, operations)
    return out


def _binds(function: Callable[..., Any], positional: int, keywords: Iterable[str]) -> bool:
    """Whether the call binds, with the operation's own parameters only as positionals (a generated
    operation's ``custom_headers`` / ``raw`` come after them and are never passed positionally)."""
    try:
        signature = inspect.signature(function)
        names = list(signature.parameters)
        if "custom_headers" in names and positional > names.index("custom_headers") - 1:
            return False
        signature.bind(None, *([None] * positional), **dict.fromkeys(keywords))
    except TypeError:
        return False
    except ValueError:
        return True
    return True


def _is_long_running(function: Callable[..., Any]) -> bool:
    try:
        return "polling" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def call_generations(group: str, method: str, positional: int, keywords: Tuple[str, ...],
                     dynamic: bool) -> FrozenSet[str]:
    """The generations in which ``client.<group>.<method>(...)`` with these arguments is a valid call.

    ``dynamic``: the call has ``*args``/``**kwargs`` (only the method's existence is checked)."""
    gens = generations()
    out = set()
    for sdk, gen in gens.items():
        if gen.lro_prefix and not gen.groups:  # track 2 without a package: 2.0.0's surface, renamed
            base = gens[TRACK2_BASE].groups.get(group)
            if base is None:
                continue
            if method.startswith(gen.lro_prefix):
                function = getattr(base, method[len(gen.lro_prefix):], None)
                if function is None or not _is_long_running(function):
                    continue
            else:
                function = getattr(base, method, None)
                if function is None or _is_long_running(function):
                    continue
        else:
            cls = gen.groups.get(group)
            function = getattr(cls, method, None) if cls is not None and not method.startswith("_") else None
            if function is None or not callable(function):
                continue
        if dynamic or _binds(function, positional, keywords):
            out.add(sdk)
    return frozenset(out)


def known_groups() -> FrozenSet[str]:
    return frozenset(g for gen in generations().values() for g in gen.groups)


def model_generations(name: str, keywords: Tuple[str, ...]) -> FrozenSet[str]:
    """The generations whose models package has ``name`` (accepting these constructor keywords)."""
    gens = generations()
    out = set()
    for sdk, gen in gens.items():
        models = gen.models
        if models is None and gen.lro_prefix:
            models = gens[TRACK2_BASE].models
        cls = getattr(models, name, None) if models is not None else None
        if not isinstance(cls, type):
            continue
        attributes = getattr(cls, "_attribute_map", None)
        if keywords and isinstance(attributes, dict) and any(k not in attributes for k in keywords):
            continue
        out.add(sdk)
    return frozenset(out)


def label(candidates: Iterable[str]) -> str:
    """``0.2.0/1.0.x``, or ``any generation``."""
    names = [sdk for sdk in ("0.2.0", "1.0.x", "2.0.0") + tuple(TRACK2) if sdk in set(candidates)]
    if len(names) == len(generations()):
        return "any generation"
    return "/".join(names) if names else "no generation"


def choose(candidate_sets: List[FrozenSet[str]]) -> Tuple[Optional[str], str]:
    """(generation, why) for a file whose signals fit ``candidate_sets``; ``None`` when they are mixed."""
    fitting = [c for c in candidate_sets if c]
    common = set(generations())
    for candidates in fitting:
        common &= candidates
    if not common:
        return None, "mixed generations: no single generation accepts every call (see the calls above)"
    chosen = next(sdk for sdk in PREFERENCE if sdk in common)
    if len(common) == 1:
        return chosen, "the only generation every call fits"
    if not fitting or common == set(generations()):
        return chosen, "no generation-specific call found; 2.0.0 assumed"
    if common == {"0.2.0", "1.0.x"}:
        return chosen, ("pre-workspace calls; nothing tells 0.2.0 from 1.0.x here, so 1.0.x is assumed "
                        "(pass --generation 0.2.0 for code pinned to azure-mgmt-batchai ~= 0.2.0)")
    return chosen, f"the calls fit {label(common)}; {chosen} preferred"
