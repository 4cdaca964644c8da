"""Long-running operations: msrest's own ``LROPoller`` driven by a backend ``Operation``.

The original SDK returned ``msrest.polling.LROPoller`` objects polled by ``ARMPolling`` over HTTP.
We keep the genuine ``LROPoller`` (so ``result``, ``wait``, ``done``, ``add_done_callback`` and
``polling=False`` behave exactly as before) and plug :class:`BackendPolling` in where ``ARMPolling``
was. The initial response handed to the poller is an in-memory ``requests.Response`` shaped like
the service's first answer (``200`` with the resource, or ``202`` with an empty body), so a
user-supplied custom ``PollingMethod`` sees what it saw before; it also carries the backend's
``Operation`` as ``response.batchai_operation``.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Optional

import requests
from msrest.polling import PollingMethod

from batchai_compat._errors import cloud_error_from_body, translate_errors
from batchai_compat.backends.base import Body, Operation, OperationState


def make_response(status: int, body: Optional[Body]) -> requests.Response:
    """An in-memory ``requests.Response`` carrying a JSON body (or none)."""
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode("utf-8")
    response.encoding = "utf-8"
    if body is not None:
        response.headers["Content-Type"] = "application/json; charset=utf-8"
    return response


def initial_response(operation: Operation) -> requests.Response:
    """The first answer of a long-running operation, as the service would have sent it."""
    response = make_response(202 if operation.initial is None else 200, operation.initial)
    response.batchai_operation = operation  # type: ignore[attr-defined]
    return response


def body_of(response: Any) -> Optional[Body]:
    """The JSON body of one of our responses, or ``None`` for an empty one."""
    content = getattr(response, "content", None)
    return json.loads(content) if content else None


class BackendPolling(PollingMethod):
    """Polls a backend :class:`Operation` until it reports a terminal state.

    The pause between polls comes from the backend (``Operation.delay``), not from ARM's 30 s
    default: nothing here crosses a network, and the local backend finishes most operations at once.
    """

    def __init__(self) -> None:
        self._operation: Optional[Operation] = None
        self._state: Optional[OperationState] = None
        self._deserialize: Optional[Callable[[Any], Any]] = None
        self._stop = threading.Event()

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Callable[[Any], Any]) -> None:
        self._operation = initial_response.batchai_operation
        self._deserialize = deserialization_callback
        self._refresh()

    def _refresh(self) -> None:
        assert self._operation is not None
        with translate_errors():
            self._state = self._operation.poll()
        if self._state.status == "Failed":
            error = self._state.error or {"code": "Failed", "message": "The operation failed."}
            raise cloud_error_from_body(500, error)

    def run(self) -> None:
        assert self._operation is not None
        while not self.finished():
            self._stop.wait(self._operation.delay)
            self._refresh()

    def status(self) -> str:
        return "InProgress" if self._state is None else self._state.status

    def finished(self) -> bool:
        return self._state is not None and self._state.done

    def resource(self) -> Any:
        assert self._deserialize is not None and self._state is not None
        return self._deserialize(make_response(200, self._state.resource))
