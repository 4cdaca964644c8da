"""Long-running operations as Batch AI answered them, and the registry that remembers them.

The service answered job, cluster and file-server creation, every delete, and the termination of a
queued or running job with ``202 Accepted``, an empty body, and two headers
(``docs/service-behaviour.md`` §a.3, "How the live service answered")::

    Azure-AsyncOperation: {base}/subscriptions/{sub}/providers/Microsoft.BatchAI/locations/{loc}/operationresults/{id}
    Location:             {base}/subscriptions/{sub}/providers/Microsoft.BatchAI/locations/{loc}/operationstatuses/{id}

plus ``Retry-After``. msrestazure's ``ARMPolling``, azure-core's ``ARMPolling`` and ms-rest-azure-js
all prefer ``Azure-AsyncOperation``: they GET it until ``status`` is terminal (``Succeeded``,
``Failed``, ``Canceled``), sleeping ``Retry-After`` seconds in between (30 s without it), and then,
for a PUT, GET the resource itself. Both URLs answer the operation-status resource
``{"id", "name", "status", "startTime", "endTime"?, "error"?}``; the ``Location`` one answers ``202``
while the operation runs (what a client polling only ``Location`` expects) and ``200`` after.

Operations live in memory (:class:`Registry`) with the backend's own
:class:`~batchai_compat.backends.base.Operation`. The id also carries, encoded, what the operation
was about (verb, api-version, resource path), so that after a gateway restart an id the registry
does not know is still answered: its status is derived from the resource (``provisioningState``
for a create, 404 for a delete, ``executionState`` for a terminate) instead of a 404 that would
fail every client's poller.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Tuple

from batchai_compat.backends.base import Operation, OperationState

_TERMINAL = ("Succeeded", "Failed", "Canceled")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"


def encode_id(verb: str, api_version: str, path: str) -> str:
    """An operation id: a fresh UUID, then what it concerns (URL-safe base64 of a small JSON array)."""
    blob = json.dumps([verb, api_version, path], separators=(",", ":")).encode("utf-8")
    return f"{uuid.uuid4()}.{base64.urlsafe_b64encode(blob).decode('ascii').rstrip('=')}"


def decode_id(operation_id: str) -> Optional[Tuple[str, str, str]]:
    """``(verb, api_version, path)`` of an id made by :func:`encode_id`, ``None`` for anything else."""
    _, dot, blob = operation_id.partition(".")
    if not dot or len(blob) > 4096:
        return None
    try:
        verb, api_version, path = json.loads(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    except (ValueError, TypeError):
        return None
    if not all(isinstance(v, str) for v in (verb, api_version, path)) or not path.startswith("/subscriptions/"):
        return None
    return verb, api_version, path


class Entry:
    """One operation: the backend's ``Operation``, polled under a lock (one poll at a time)."""

    __slots__ = ("operation_id", "operation", "start", "end", "state", "lock", "finished_at", "resource_id")

    def __init__(self, operation_id: str, operation: Operation, resource_id: str = "") -> None:
        self.operation_id = operation_id
        self.operation = operation
        self.resource_id = resource_id
        self.start = _now()
        self.end: Optional[str] = None
        self.state: Optional[OperationState] = None
        self.lock = threading.Lock()
        self.finished_at: Optional[float] = None

    def poll(self, translate: Callable[[Callable[[], OperationState]], OperationState]) -> OperationState:
        """The current state; a terminal state is kept (the backend is not asked again)."""
        with self.lock:
            if self.state is not None and self.state.done:
                return self.state
            self.state = translate(self.operation.poll)
            if self.state.done:
                self.end = _now()
                self.finished_at = time.monotonic()
            return self.state


def resource_id(params: Dict[str, str]) -> str:
    """The operation result's ``properties.resourceId`` as the service wrote it: the names of the
    resource's path, ``$``-joined (``{sub}${rg}${ws}${exp}${job}``)."""
    order = ("sub", "rg", "ws", "exp", "cluster", "fs", "job")
    return "$".join(params[k] for k in order if k in params)


def status_body(url: str, operation_id: str, status: str, start: Optional[str], end: Optional[str],
                error: Optional[Dict[str, Any]], resource: str = "") -> Dict[str, Any]:
    """The operation-status resource (``id`` is the operation URL without its query)."""
    body: Dict[str, Any] = {"id": url, "name": operation_id, "status": status}
    if start:
        body["startTime"] = start
    if end:
        body["endTime"] = end
    if error:
        body["error"] = {"code": error.get("code", "Failed"), "message": error.get("message", "")}
    if status == "Succeeded" and resource:
        body["properties"] = {"resourceId": resource}
    return body


class Registry:
    """Operations by id; finished ones are forgotten ``keep_seconds`` after they finished, and the
    registry never holds more than ``max_entries`` (oldest first out)."""

    def __init__(self, keep_seconds: float = 3600.0, max_entries: int = 10000) -> None:
        self._entries: "OrderedDict[str, Entry]" = OrderedDict()
        self._lock = threading.Lock()
        self.keep_seconds = keep_seconds
        self.max_entries = max_entries

    def add(self, operation_id: str, operation: Operation, resource: str = "") -> Entry:
        entry = Entry(operation_id, operation, resource)
        with self._lock:
            self._entries[operation_id] = entry
            self._expire()
        return entry

    def get(self, operation_id: str) -> Optional[Entry]:
        with self._lock:
            self._expire()
            return self._entries.get(operation_id)

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self) -> None:
        now = time.monotonic()
        stale = [k for k, e in self._entries.items()
                 if e.finished_at is not None and now - e.finished_at > self.keep_seconds]
        for key in stale:
            del self._entries[key]
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def is_terminal(status: str) -> bool:
    return status in _TERMINAL
