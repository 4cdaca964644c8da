"""Errors a backend raises. The operation layer turns each into the genuine ``CloudError``.

Audience: backend authors. ``code`` and ``message`` follow the service's wording where it is known
(``JobNotFound`` / "The specified job {name} is not found").
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class BackendError(Exception):
    """Base class: an error the service would have answered with ``status`` and ``code``."""

    status: int = 400
    default_code: str = "BadRequest"

    def __init__(self, code: Optional[str] = None, message: str = "", details: Optional[List[Dict[str, Any]]] = None):
        self.code = code or self.default_code
        self.message = message
        self.details = details
        super().__init__(f"{self.code}: {message}")


class NotFound(BackendError):
    status = 404
    default_code = "ResourceNotFound"


class Conflict(BackendError):
    status = 409
    default_code = "Conflict"


class InvalidInput(BackendError):
    status = 400
    default_code = "BadRequest"


class NotSupported(BackendError):
    """The backend cannot express this Batch AI feature at all (surfaces as ``BatchAICompatNotSupportedError``)."""

    status = 501
    default_code = "NotSupportedByBackend"


class BackendUnavailable(BackendError):
    status = 503
    default_code = "ServiceUnavailable"


def not_found(kind: str, name: str) -> NotFound:
    """The 404 the service sent for a missing resource: ``JobNotFound`` / "The specified job x is not found"."""
    words = {"FileServer": "file server"}.get(kind, kind.lower())
    return NotFound(f"{kind}NotFound", f"The specified {words} {name} is not found")
