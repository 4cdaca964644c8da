"""Exceptions and warnings raised by batchai_compat.

The tree users see::

    Exception
     ├── msrest.exceptions.ValidationError          bad input, raised before anything runs (as in 2.0.0)
     ├── msrestazure.azure_exceptions.CloudError     what the service answered (404 JobNotFound, ...)
     │    └── BatchAICompatNotSupportedError        the backend cannot express this feature at all
     │         (also a NotImplementedError)
     ├── BackendNotAvailableError (ImportError)      a backend's optional dependencies are missing
     └── BatchAICompatStateError (RuntimeError)      the local backend's state.db is damaged or lost
          (names the file and the remedy: restore it, or ``python -m batchai_compat.backends.local reset``)

    Warning
     └── BatchAICompatWarning                        accepted, but degraded or ignored; filterable

``CloudError`` instances are genuine ``msrestazure`` objects, built around an in-memory
``requests.Response`` carrying the ARM error body, so ``err.status_code``, ``err.error.error``
(the code), ``err.message`` and ``str(err)`` read exactly as they did against the service.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any, Dict, List, Optional

import requests
from msrestazure.azure_exceptions import CloudError

from batchai_compat._state_errors import BatchAICompatStateError

__all__ = [
    "BackendNotAvailableError",
    "BatchAICompatNotSupportedError",
    "BatchAICompatStateError",
    "BatchAICompatWarning",
    "CloudError",
    "make_cloud_error",
    "warn_compat",
]


class BatchAICompatWarning(UserWarning):
    """A Batch AI feature was accepted but is emulated, degraded or ignored by the chosen backend."""


def warn_compat(message: str) -> None:
    """Emit a :class:`BatchAICompatWarning` attributed to the user's line, not to library code.

    The warning's location is the first stack frame outside ``batchai_compat``, so
    ``warnings.filterwarnings(..., module=...)`` and the printed file/line point at the call the
    user wrote (``client.jobs.create(...)``).
    """
    frame = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "batchai_compat":
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, BatchAICompatWarning, stacklevel=level)


class BackendNotAvailableError(ImportError):
    """The requested backend needs packages that are not installed; the message says which."""


def _response(
    status: int, code: str, message: str, details: Optional[List[Dict[str, Any]]] = None
) -> requests.Response:
    body: Dict[str, Any] = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode("utf-8")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.reason = requests.status_codes._codes.get(status, ("",))[0].replace("_", " ").title()
    response.encoding = "utf-8"
    return response


class BatchAICompatNotSupportedError(CloudError, NotImplementedError):
    """The selected backend has no equivalent for this Batch AI feature.

    Catch it as ``CloudError`` (status 501, code ``NotSupportedByBackend``) or as
    ``NotImplementedError``. The message names the feature and what to use instead.
    """

    def __init__(self, message: str, code: str = "NotSupportedByBackend") -> None:
        super().__init__(_response(501, code, message))


def make_cloud_error(
    status: int, code: str, message: str, details: Optional[List[Dict[str, Any]]] = None
) -> CloudError:
    """A genuine ``CloudError`` as the service would have produced for this answer."""
    if status == 501:
        return BatchAICompatNotSupportedError(message, code)
    return CloudError(_response(status, code, message, details))
