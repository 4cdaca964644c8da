"""The ONE place where a recorded Batch AI answer and ours are made comparable.

The replay (``test_replay.py``) compares status codes, the headers clients read, the *shape* of the
bodies (keys and JSON value types, recursively) and a few values clients branch on. Everything in a
recorded session that is legitimately different on our side is normalised here, each rule with its
reason. Nothing else is: a difference not covered by a rule below, or by the exclusion list in
``test_replay.py``, fails the replay.

Rules (R1...) are referred to by number in failure messages.

- R1 hosts: recordings talk to ``https://management.azure.com``; we talk to the gateway on
  ``http://127.0.0.1:PORT``. URLs are compared without scheme and host.
- R2 operation ids: the ids in ``.../operationresults/{id}`` and ``.../operationstatuses/{id}`` are
  minted by the service; ours are ours. They become ``{operation}``, and the ``name`` of an
  operation-status resource (which is that id) is compared as a string only.
- R3 Retry-After: the recorded service sent none (msrestazure then sleeps 30 s); our gateway sends a
  small one so that clients poll promptly. Its presence is not compared; when present it must be a
  non-negative integer (what msrestazure, azure-core and ms-rest-azure-js parse).
- R4 timestamps, ids, request ids, ETags, dates, subscription-independent GUIDs (the
  ``jobOutputDirectoryPathSegment`` suffix), storage account names and URLs, SAS signatures, node ids,
  IP addresses and ports: only their JSON type is compared (shape comparison), never their value —
  they are times of another day, names the test preparers drew at random, and addresses of real VMs.
- R5 value-compared keys: the values of ``VALUE_KEYS`` are compared exactly (states, error codes, enum
  values, resource names/types, exit codes): clients branch on them, and none of them is ours to choose.
- R6 foreign resources in subscription-wide lists: a live subscription held other test sessions'
  resources (e.g. a workspace of ``test_cluster_resizing`` being deleted in the workspaces-list of
  ``test_creation_and_deletion``); recorded list items whose ``id`` is outside the recording's resource
  groups are dropped before comparing.
- R7 recorded request bodies: VCR stored Python 3 request bodies as the ``repr`` of ``bytes``
  (``'b''{...}'''`` in the YAML, i.e. the string ``b'{...}'``); the bytes are what was sent.
- R8 Content-Type of empty bodies: the service sent no Content-Type on bodiless 202s; a header on an empty
  body is not read by any client, so it is compared only when the recorded response had one.
- R10 transient states: the local backend allocates a node or runs ``true`` in milliseconds; Azure took
  minutes. A recorded answer that caught a resource in a transient state (``resizing``, ``queued``,
  ``running``, ``InProgress``, ``creating``) is matched by ours in that state or in a legal later one
  (``SUCCESSORS``): in a poll loop (then the loop is done) and in one-shot answers such as lists.
- R9 usage entries: the live subscription's quota families and limits are Azure's (17 VM families and
  their quotas on that subscription); the local backend reports its own families. Usage lists are
  compared by the shape of each entry and the ``unit`` value, not by their number or names.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

#: R5 -- keys whose values are compared exactly wherever they occur
VALUE_KEYS = frozenset({
    "provisioningState", "executionState", "allocationState", "status", "code", "toolType", "type",
    "schedulingPriority", "vmPriority", "vmSize", "fileType", "unit", "exitCode", "nodeCount",
    "experimentName", "name",
})

#: R10 -- the legal later states of each transient state, per state key
SUCCESSORS = {
    "allocationState": {"resizing": frozenset({"steady"})},
    "executionState": {"queued": frozenset({"running", "terminating", "succeeded", "failed"}),
                       "running": frozenset({"terminating", "succeeded", "failed"}),
                       "terminating": frozenset({"failed"})},
    "status": {"InProgress": frozenset({"Succeeded", "Failed", "Canceled"})},
    "provisioningState": {"creating": frozenset({"succeeded", "failed"}),
                          "updating": frozenset({"succeeded", "failed"})},
}
TRANSIENT = frozenset(state for table in SUCCESSORS.values() for state in table)


def later_state(key: str, recorded: Any, ours: Any) -> bool:
    """R10: ``ours`` is a legal later state than the transient ``recorded`` one for ``key``."""
    return isinstance(recorded, str) and ours in SUCCESSORS.get(key, {}).get(recorded, frozenset())


def passed(recorded: Tuple[int, str, Optional[str]], ours: Tuple[int, str, Optional[str]]) -> bool:
    """R10 for a poll loop: same status code and state key, and ours legally past the recorded state."""
    return recorded[0] == ours[0] and recorded[1] == ours[1] and later_state(recorded[1], recorded[2], ours[2])


_OPERATION_RE = re.compile(r"/(operationresults|operationstatuses)/[^/?#]+", re.IGNORECASE)


def url_key(url: str) -> str:
    """R1 + R2: ``path?query`` of ``url`` with the operation id replaced by ``{operation}``."""
    parts = urlsplit(url)
    path = _OPERATION_RE.sub(lambda m: f"/{m.group(1).lower()}/{{operation}}", parts.path)
    return path + (f"?{parts.query}" if parts.query else "")


def path_and_query(url: str) -> str:
    """R1: what we send to the gateway for a recorded URL: its path and query, host dropped."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def operation_id(url: str) -> Optional[str]:
    """The service-minted operation id in an operation-status URL (R2), else None."""
    match = re.search(r"/(?:operationresults|operationstatuses)/([^/?#]+)", urlsplit(url).path, re.IGNORECASE)
    return match.group(1) if match else None


def is_operation_status(url: str) -> bool:
    return operation_id(url) is not None


def request_body(recorded: Any) -> Optional[bytes]:
    """R7: the bytes a recorded request sent (None for no body)."""
    if recorded is None:
        return None
    if isinstance(recorded, bytes):
        return recorded
    text = str(recorded)
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        value = ast.literal_eval(text)
        if isinstance(value, bytes):
            return value
    return text.encode("utf-8")


def retry_after_ok(value: Optional[str]) -> bool:
    """R3: absent, or a non-negative integer."""
    return value is None or (value.strip().isdigit())


def content_type_compared(recorded_headers: dict) -> bool:
    """R8: compare Content-Type only when the service sent one."""
    return any(k.lower() == "content-type" for k in recorded_headers)


def drop_foreign(items: List[Any], resource_groups: Iterable[str]) -> List[Any]:
    """R6: list items of the recording's own resource groups (items without ids are kept)."""
    groups = {g.lower() for g in resource_groups}
    kept = []
    for item in items:
        rid = item.get("id") if isinstance(item, dict) else None
        if isinstance(rid, str):
            match = re.search(r"/resourceGroups/([^/]+)", rid, re.IGNORECASE)
            if match and match.group(1).lower() not in groups:
                continue
        kept.append(item)
    return kept


def is_usages(url: str) -> bool:
    return bool(re.search(r"/locations/[^/]+/usages$", urlsplit(url).path, re.IGNORECASE))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def compare_shapes(recorded: Any, ours: Any, *, operation_status: bool = False, usages: bool = False,
                   path: str = "$") -> List[str]:
    """Differences between ``recorded`` and ``ours``: keys, JSON types (R4) and the values of R5's keys."""
    problems: List[str] = []
    rtype, otype = _type_name(recorded), _type_name(ours)
    if rtype != otype and not (rtype == "int" and otype == "number" or rtype == "number" and otype == "int"):
        return [f"{path}: recorded {rtype} {_short(recorded)}, ours {otype} {_short(ours)}"]
    if isinstance(recorded, dict):
        missing = sorted(set(recorded) - set(ours))
        extra = sorted(set(ours) - set(recorded))
        if missing:
            problems.append(f"{path}: keys missing in ours: {missing}")
        if extra:
            problems.append(f"{path}: keys only in ours: {extra}")
        for key in sorted(set(recorded) & set(ours)):
            sub = f"{path}.{key}"
            if key in VALUE_KEYS and not isinstance(recorded[key], (dict, list)):
                if key == "name" and operation_status and path == "$":
                    continue  # R2: an operation's name is its id
                if key == "name" and usages:
                    continue  # R9
                if later_state(key, recorded[key], ours[key]):
                    continue  # R10
                if recorded[key] != ours[key] and _type_name(recorded[key]) == _type_name(ours[key]):
                    problems.append(f"{sub}: recorded {recorded[key]!r}, ours {ours[key]!r}")
                    continue
            problems.extend(compare_shapes(recorded[key], ours[key], operation_status=operation_status,
                                           usages=usages, path=sub))
    elif isinstance(recorded, list):
        if usages and path == "$.value":
            # R9: every entry of ours has the recorded entries' shape
            template = recorded[0] if recorded else None
            for index, item in enumerate(ours):
                if template is not None:
                    problems.extend(compare_shapes(template, item, usages=True, path=f"{path}[{index}]"))
            return problems
        if len(recorded) != len(ours):
            problems.append(f"{path}: recorded {len(recorded)} items, ours {len(ours)}")
        for index, (r_item, o_item) in enumerate(zip(recorded, ours)):
            problems.extend(compare_shapes(r_item, o_item, operation_status=operation_status, usages=usages,
                                           path=f"{path}[{index}]"))
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def header(headers: Any, name: str) -> Optional[str]:
    """Case-insensitive header lookup; VCR stores header values as one-element lists."""
    for key, value in dict(headers or {}).items():
        if key.lower() == name.lower():
            if isinstance(value, (list, tuple)):
                return str(value[0]) if value else ""
            return str(value)
    return None


def split_media_type(value: Optional[str]) -> Tuple[str, str]:
    """``("application/json", "utf-8")`` from ``application/json; charset=utf-8`` (case-insensitive)."""
    if value is None:
        return "", ""
    media, _, params = value.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset":
            charset = val.strip().strip('"').lower()
    return media.strip().lower(), charset


def urlsplit_host(url: str) -> str:
    """The host of a recorded URL (lower-case), to tell ARM calls from storage data-plane ones."""
    return (urlsplit(url).hostname or "").lower()
