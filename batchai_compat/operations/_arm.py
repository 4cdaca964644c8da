"""What the service side checked on a request's path before any Batch AI code ran.

msrest's client-side validation (``_base.OperationGroup._validate_path``) only applied the patterns of
the OpenAPI description (``specs/batchai-2018-05-01/BatchAI.json``), and those admit names no Azure
resource could have: ``^[-\\w\\._]+$`` accepts ``..``, ``.``, a trailing period, 300 characters, and
(``$`` matching before a final newline) ``"rg\\n"``. The original SDK sent such requests and Azure
Resource Manager answered them. :class:`ServiceChecks` wraps the backend so those answers come at
the moment the service's answer came: after every client-side check (path, subscription, query,
body), when the "request" reaches the backend.

* Subscription id: Azure required a GUID and answered anything else with HTTP 400
  ``InvalidSubscriptionId`` "The provided subscription identifier '…' is malformed or invalid.".
  Deviation: local homes are routinely used with ids like ``"sub"``, so any 1-90 characters of
  letters, digits, ``-``, ``_`` and inner periods are accepted; everything else (``/``, ``..``,
  spaces, NUL, …) gets the service's answer.
* Resource group: ARM's rule is 1-90 letters, digits, ``_``, ``-``, ``(``, ``)`` and ``.``, not ending
  in a period. ``(`` and ``)`` never pass the SDK's pattern; a name that passes it but breaks the
  rule (``.``, ``..``, ``a.``, 91+ characters, a trailing newline) names no resource group that
  can exist, and ARM's gateway answered 404 ``ResourceGroupNotFound`` "Resource group '…' could not
  be found." (the code and wording ARM uses for a missing group; the answer for these exact names
  was not recorded). With the original SDK ``.`` and ``..`` did not even reach the group: the HTTP
  stack normalised the URL to another path, which ARM also refused.
* Workspace, experiment, job, cluster and file-server names must match ``^[-\\w_]+$`` *entirely* (1-64
  characters; the SDK's check lets a final newline through): otherwise HTTP 400
  ``InvalidResourceName`` "The resource name '…' is invalid." (ours: the service's code for this
  case was never recorded).

These checks are also what keeps every name a single, harmless path segment; the local backend
does not rely on them alone (``batchai_compat._home.segment`` / ``inside_home``).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from batchai_compat.backends.errors import InvalidInput, NotFound

_SUBSCRIPTION_RE = re.compile(r"[-\w]([-\w.]{0,88}[-\w])?")
_RESOURCE_GROUP_RE = re.compile(r"[-\w.()]{0,89}[-\w()]")
_NAME_RE = re.compile(r"[-\w]{1,64}")

_NAME_FIELDS = ("workspace", "experiment", "job", "cluster", "file_server")


def check_subscription(subscription_id: Any) -> None:
    if not isinstance(subscription_id, str) or not _SUBSCRIPTION_RE.fullmatch(subscription_id):
        raise InvalidInput("InvalidSubscriptionId",
                           f"The provided subscription identifier '{subscription_id}' is malformed or invalid.")


def check_resource_group(resource_group: Any) -> None:
    if not isinstance(resource_group, str) or not _RESOURCE_GROUP_RE.fullmatch(resource_group):
        raise NotFound("ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def check_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InvalidInput("InvalidResourceName", f"The resource name '{name}' is invalid.")


def check_ref(ref: Any) -> None:
    """Subscription, then resource group, then each name of a ``*Ref`` (the order of the URL)."""
    check_subscription(ref.subscription_id)
    check_resource_group(ref.resource_group)
    for field in _NAME_FIELDS:
        if field in ref._fields:
            check_name(getattr(ref, field))


def _is_ref(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields") and "resource_group" in value._fields


class ServiceChecks:
    """The backend, as the operation groups call it: each call first gets the service's path checks."""

    def __init__(self, backend: Any) -> None:
        self._inner = backend

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return _checked(name, attr)


def _checked(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if name == "list_workspaces":  # (subscription_id, resource_group or None, ...)
            check_subscription(args[0])
            if args[1] is not None:
                check_resource_group(args[1])
        elif name == "list_usages":  # (subscription_id, location)
            check_subscription(args[0])
        for arg in args:
            if _is_ref(arg):
                check_ref(arg)
        return method(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call

