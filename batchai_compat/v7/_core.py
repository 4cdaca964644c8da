"""azure-core plumbing of the 7.0.0 (track 2) surface: errors, pollers, pages, deserialization.

Everything here wraps the 2.0.0 operation layer (``batchai_compat.operations``): the 7.0.0 groups call
the 2.0.0 group methods with ``raw=True``, take the wire body (2018-05-01 JSON) of the answer and
deserialize it with the 7.0.0 models. What users get are genuine azure-core objects:
``azure.core.polling.LROPoller``, ``azure.core.paging.ItemPaged`` and the ``azure.core.exceptions``
classes, built from the same in-memory responses the 2.0.0 layer's ``CloudError`` carries.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.core.paging import ItemPaged
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.transport import RequestsTransportResponse
from azure.core.polling import PollingMethod
from azure.mgmt.core.exceptions import ARMErrorFormat
from msrest.exceptions import ValidationError
from msrestazure.azure_exceptions import CloudError

from batchai_compat._polling import body_of, make_response
from batchai_compat.backends.errors import BackendError
from batchai_compat.exceptions import _response

# The error types 7.0.0's operations map statuses to (its ``error_map``); anything else: HttpResponseError.
ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}


def pipeline_response(response: Any) -> PipelineResponse:
    """A genuine azure-core ``PipelineResponse`` around one of our in-memory ``requests.Response``."""
    return PipelineResponse(None, RequestsTransportResponse(None, response), context=None)  # type: ignore[arg-type]


def http_error(status: int, response: Any) -> HttpResponseError:
    """The azure-core exception 7.0.0 raised for an error answer (``.status_code``, ``.error.code``,
    ``.message``, ``.response``), from the same ARM error body the 2.0.0 ``CloudError`` carries."""
    transport_response = RequestsTransportResponse(None, response)  # type: ignore[arg-type]
    error_type = ERROR_MAP.get(status)
    if error_type is not None:  # 7.0.0: map_error(...) -> error_type(response=response)
        return error_type(response=transport_response)
    return HttpResponseError(response=transport_response, error_format=ARMErrorFormat)


@contextlib.contextmanager
def azure_errors() -> Iterator[None]:
    """Re-raise what the 2.0.0 layer raised as the azure-core exception 7.0.0 raised.

    * ``CloudError`` (the service's answer) -> ``ResourceNotFoundError`` (404), ``ResourceExistsError``
      (409), ``ClientAuthenticationError`` (401) or ``HttpResponseError``, same code and message.
    * msrest ``ValidationError`` -> ``HttpResponseError`` 400 ``BadRequest``. Deviation: 7.0.0 turned
      client-side validation off and sent the request; the service's code for a body missing a
      required property was not recorded, ours is ``BadRequest`` with msrest's message.
    """
    try:
        yield
    except CloudError as exc:
        raise http_error(exc.status_code, exc.response) from exc
    except BackendError as exc:
        raise http_error(exc.status, _response(exc.status, exc.code, exc.message, exc.details)) from exc
    except ValidationError as exc:
        raise http_error(400, _response(400, "BadRequest", str(exc))) from exc


# ------------------------------------------------------------------------------------------ pollers


def encode_token(operation: str, path: List[str]) -> str:
    """An opaque continuation token naming the operation and its resource (no secrets: names only)."""
    raw = json.dumps({"batchai_compat": 1, "operation": operation, "path": path}, sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def decode_token(token: str) -> Tuple[str, List[str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8"))
        return str(data["operation"]), [str(p) for p in data["path"]]
    except (ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise ValueError(f"not a batchai_compat continuation token: {token!r}") from exc


class Resumed:
    """A long-running operation resumed from a continuation token: polls the resource itself.

    ``create``: done when ``provisioningState`` is ``succeeded`` or ``failed``; ``delete``: when the
    resource is gone (404); ``terminate``: when the job's ``executionState`` is ``succeeded`` or
    ``failed``. Same ``wait``/``done``/``status``/``result`` shape as the 2.0.0 layer's msrest poller.
    Deviation: a resumed create that failed has status ``Failed`` and its result is the resource (with
    ``provisioning_state`` ``failed``); the error of the operation is not kept past the first poller."""

    interval = 0.2

    def __init__(self, kind: str, get: Callable[[], Any]) -> None:
        self._kind, self._get = kind, get
        self._status = "InProgress"
        self._body: Optional[Dict[str, Any]] = None

    def _poll(self) -> None:
        try:
            raw = self._get()
        except CloudError as exc:
            if self._kind == "delete" and exc.status_code == 404:
                self._status = "Succeeded"
                return
            raise
        self._body = body_of(raw.response)
        props = (self._body or {}).get("properties", {})
        if self._kind == "create":
            state = props.get("provisioningState")
        elif self._kind == "terminate":
            state = props.get("executionState")
        else:
            state = None
        if state in ("succeeded", "failed"):
            self._status = "Succeeded" if state == "succeeded" or self._kind == "terminate" else "Failed"

    def done(self) -> bool:
        if self._status == "InProgress":
            self._poll()
        return self._status != "InProgress"

    def status(self) -> str:
        return self._status

    def wait(self, timeout: Optional[float] = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(self.interval)

    def result(self) -> Any:
        self.wait()
        if self._kind == "create":
            return _Raw(make_response(200, self._body))
        return _Raw(make_response(200, None))


class _Raw:
    def __init__(self, response: Any) -> None:
        self.response = response
        self.output = None


class BackendLROPolling(PollingMethod):
    """An azure-core ``PollingMethod`` driving the 2.0.0 layer's poller of a backend operation.

    ``initial_response`` is that poller (msrest ``LROPoller`` over the backend's ``Operation``, or a
    :class:`Resumed` one); ``status()`` is its status (``InProgress``, ``Succeeded``, ``Failed``).
    ``polling_interval`` is accepted and not used: the backend decides the pause between polls
    (``docs/compatibility.md``, "azure-mgmt-batchai 7.0.0")."""

    def __init__(self, operation: str = "", path: Optional[List[str]] = None, resume: Any = None) -> None:
        self._operation = operation
        self._path = list(path or [])
        self._resume = resume
        self._inner: Any = None
        self._callback: Callable[[Any], Any] = lambda raw: raw
        self._resource: Any = None
        self._done = False

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Callable[[Any], Any]) -> None:
        self._inner = initial_response
        self._callback = deserialization_callback

    def run(self) -> None:
        with azure_errors():
            self._inner.wait()
            raw = self._inner.result()  # raises the CloudError of a failed operation
        self._resource = self._callback(raw)
        self._done = True

    def status(self) -> str:
        return str(self._inner.status())

    def finished(self) -> bool:
        return self._done or bool(self._inner.done())

    def resource(self) -> Any:
        if not self._done:
            self.run()
        return self._resource

    def get_continuation_token(self) -> str:
        return encode_token(self._operation, self._path)

    @classmethod
    def from_continuation_token(cls, continuation_token: str, **kwargs: Any) -> Tuple[Any, Any, Any]:
        group = kwargs["client"]
        operation, path = decode_token(continuation_token)
        return group, group._resume(operation, path), kwargs["deserialization_callback"]


# -------------------------------------------------------------------------------------------- pages


def item_paged(paged: Any, list_model: str, deserialize: Any, cls: Optional[Callable[[Any], Any]],
               check: Callable[[], None]) -> ItemPaged:
    """An ``ItemPaged`` over a 2.0.0-layer ``Paged`` (lazy: nothing is checked or fetched before the first
    page; ``check`` runs then). Continuation tokens are the pages' ``next_link`` values, as in 7.0.0."""
    checked: List[bool] = []

    def get_next(next_link: Optional[str] = None) -> Dict[str, Any]:
        if not checked:
            check()
            checked.append(True)
        with azure_errors():
            body: Dict[str, Any] = paged._get_next(next_link)
        return body

    def extract_data(body: Dict[str, Any]) -> Tuple[Optional[str], Any]:
        result = deserialize(list_model, body)
        elements = result.value or []
        if cls:
            elements = cls(elements)
        return result.next_link or None, iter(elements)

    return ItemPaged(get_next, extract_data)
