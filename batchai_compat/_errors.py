"""The one place where backend errors become the exceptions the original SDK raised."""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator

from msrestazure.azure_exceptions import CloudError

from batchai_compat.backends.errors import BackendError
from batchai_compat.exceptions import make_cloud_error


def cloud_error_from_body(status: int, error: Dict[str, Any]) -> CloudError:
    """A ``CloudError`` for an ARM error object ``{"code", "message", "details"?}``."""
    return make_cloud_error(
        int(error.get("status", status)), error.get("code", "Failed"), error.get("message", ""), error.get("details")
    )


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise :class:`BackendError` as the genuine ``CloudError`` (the most specific subclass)."""
    try:
        yield
    except BackendError as exc:
        raise make_cloud_error(exc.status, exc.code, exc.message, exc.details) from exc
