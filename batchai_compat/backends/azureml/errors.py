"""The one place where azureml-core exceptions become backend errors (then genuine ``CloudError``\\ s).

``translated(kind, name)`` wraps every azureml call of an operation. "Not found" is recognised from
the exception type plus its message or HTTP status, because azureml-core reports most failures as
one generic class per area (``ComputeTargetException``, ``ProjectSystemException``...):

* ``ProjectSystemException`` "Workspace not found", ``ComputeTargetException`` mentioning
  ``ComputeTargetNotFound`` / 404, ``ServiceException`` / msrest ``HttpOperationError`` with status 404
  → :class:`NotFound` with Batch AI's code for ``kind`` (``JobNotFound``...);
* client-side validation (``UserErrorException``, ``ComputeTargetException`` without an HTTP status)
  → :class:`InvalidInput` (400), keeping azureml's message;
* 409 → :class:`Conflict`; 5xx and connection errors → :class:`BackendUnavailable`.
"""

from __future__ import annotations

import contextlib
import re
from typing import Iterator, Optional

from batchai_compat.backends import errors

_STATUS_RE = re.compile(r"Response Code: (\d{3})")


def status_of(exc: BaseException) -> Optional[int]:
    """The HTTP status behind an azureml/msrest exception, when one can be found."""
    for attr in ("status_code",):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    if isinstance(value, int):
        return value
    inner = getattr(exc, "inner_exception", None)
    if isinstance(inner, BaseException) and inner is not exc:
        found = status_of(inner)
        if found is not None:
            return found
    match = _STATUS_RE.search(str(getattr(exc, "message", "") or exc))
    return int(match.group(1)) if match else None


def is_not_found(exc: BaseException) -> bool:
    text = str(getattr(exc, "message", "") or exc)
    if "ComputeTargetNotFound" in text or "Workspace not found" in text or "WorkspaceNotFound" in text:
        return True
    return status_of(exc) == 404


def translate(exc: BaseException, kind: str, name: str) -> errors.BackendError:
    """The backend error for an exception raised by azureml-core while handling ``kind`` ``name``."""
    if isinstance(exc, errors.BackendError):
        return exc
    message = str(getattr(exc, "message", "") or exc).strip()
    if is_not_found(exc):
        return errors.not_found(kind, name)
    status = status_of(exc)
    short = message.splitlines()[0] if message else type(exc).__name__
    if status == 409:
        return errors.Conflict("Conflict", f"Azure ML refused the request for {kind.lower()} {name}: {short}")
    if status is not None and status >= 500:
        return errors.BackendUnavailable("ServiceUnavailable", f"Azure ML is unavailable ({status}): {short}")
    if status is not None and status in (401, 403):
        return errors.BackendError("AuthorizationFailed", f"Azure ML denied access ({status}): {short}")
    if status is None and _is_connection_error(exc):
        return errors.BackendUnavailable("ServiceUnavailable", f"Azure ML could not be reached: {short}")
    error = errors.InvalidInput("BadRequest", f"Azure ML rejected the request for {kind.lower()} {name}: {message}")
    if status is not None:
        error.status = status
    return error


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover - requests comes with msrest
        return False
    seen: object = exc
    for _ in range(5):
        if isinstance(seen, requests.exceptions.ConnectionError):
            return True
        if not isinstance(seen, BaseException):
            return False
        inner = getattr(seen, "inner_exception", None)
        seen = inner if isinstance(inner, BaseException) else (seen.__cause__ or seen.__context__)
    return False


@contextlib.contextmanager
def translated(kind: str, name: str) -> Iterator[None]:
    """Run azureml calls; re-raise anything they throw as a backend error (``kind`` e.g. ``"Job"``)."""
    try:
        yield
    except errors.BackendError:
        raise
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as exc:  # azureml-core raises many unrelated classes for the same situations
        raise translate(exc, kind, name) from exc
