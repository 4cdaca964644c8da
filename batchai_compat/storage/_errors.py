"""The exceptions legacy storage code catches: ``azure.common``'s ``AzureHttpError`` family.

When ``azure-common`` is installed (it usually is: ``msrestazure``-era code brings it) these are the
very same classes, so ``except azure.common.AzureMissingResourceHttpError`` keeps working. Otherwise
identical stand-ins are defined here, and :func:`batchai_compat.install` exposes them as
``azure.common``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AzureConflictHttpError",
    "AzureException",
    "AzureHttpError",
    "AzureMissingResourceHttpError",
    "http_error",
]

try:  # pragma: no branch - depends on the environment
    from azure.common import (  # type: ignore[import-not-found]
        AzureConflictHttpError,
        AzureException,
        AzureHttpError,
        AzureMissingResourceHttpError,
    )
except ImportError:  # pragma: no cover - exercised only without azure-common

    class AzureException(Exception):  # type: ignore[no-redef]
        pass

    class AzureHttpError(AzureException):  # type: ignore[no-redef]
        """An error answer from the storage service; ``status_code`` is the HTTP status.

        Like the original, constructing the base class picks the subclass for 404 and 409.
        """

        def __init__(self, message: str, status_code: int) -> None:
            super().__init__(message)
            self.status_code = status_code

        def __new__(cls, message: str, status_code: int, *args: Any, **kwargs: Any) -> "AzureHttpError":
            if cls is AzureHttpError:
                if status_code == 404:
                    cls = AzureMissingResourceHttpError
                elif status_code == 409:
                    cls = AzureConflictHttpError
            return AzureException.__new__(cls, message, status_code, *args, **kwargs)

    class AzureConflictHttpError(AzureHttpError):  # type: ignore[no-redef]
        pass

    class AzureMissingResourceHttpError(AzureHttpError):  # type: ignore[no-redef]
        pass


def http_error(status: int, message: str, code: str) -> AzureHttpError:
    """The legacy exception for a service answer, message shaped as the 2.x SDK shaped it."""
    return AzureHttpError(f"{message} ErrorCode: {code}", status)
