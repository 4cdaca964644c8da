"""Exceptions and warnings raised by batchai_compat.

The tree users see::

    Exception
     ├── msrest.exceptions.ValidationError          bad input, raised before anything runs (as in 2.0.0)
     ├── msrestazure.azure_exceptions.CloudError     what the service answered (404 JobNotFound, ...)
     │    └── BatchAICompatNotSupportedError        the backend cannot express this feature at all
     │         (also a NotImplementedError)
     └── BackendNotAvailableError (ImportError)      a backend's optional dependencies are missing

    Warning
     └── BatchAICompatWarning                        accepted, but degraded or ignored; filterable

``CloudError`` instances are genuine ``msrestazure`` objects, built around an in-memory
``requests.Response`` carrying the ARM error body, so ``err.status_code``, ``err.error.error``
(the code), ``err.message`` and ``str(err)`` read exactly as they did against the service.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import requests
from msrestazure.azure_exceptions import CloudError

__all__ = [
    "BackendNotAvailableError",
    "BatchAICompatNotSupportedError",
    "BatchAICompatWarning",
    "CloudError",
    "make_cloud_error",
]


class BatchAICompatWarning(UserWarning):
    """A Batch AI feature was accepted but is emulated, degraded or ignored by the chosen backend."""


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
