"""What the resource-group and storage-account clients share: backend check, validation, calls.

The operation groups reuse the Batch AI operation machinery (:mod:`batchai_compat.operations._base`):
msrest's serializer validates path parameters and bodies in the order the 2018 SDKs did (so the
same ``ValidationError`` comes at the same moment), long-running operations return the genuine
``msrest.polling.LROPoller``, lists are lazy ``*Paged`` iterators, and service errors are genuine
``msrestazure`` ``CloudError``s.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Union

from msrest import Deserializer, Serializer
from msrest.paging import Paged

from batchai_compat.backends.base import Backend, Body, Page
from batchai_compat.operations._base import OperationGroup

# Path-parameter constraints of the 2018 resource and storage APIs.
RESOURCE_GROUP = {"max_length": 90, "min_length": 1, "pattern": r"^[-\w\._\(\)]+$"}
ACCOUNT_NAME = {"max_length": 24, "min_length": 3}


def local_state(what: str, backend: Union[str, Backend, None], home: Any) -> Any:
    """The :class:`~batchai_compat._mgmt._state.ArmState` of the local backend's home.

    These clients exist for the local backend only: with the Azure ML backend (chosen by
    ``backend=``, ``$BATCHAI_COMPAT_BACKEND`` or the config file, the same precedence as
    ``BatchAIManagementClient``) the real Azure packages are the right tool, and constructing one
    of these raises ``BatchAICompatNotSupportedError`` saying so.
    """
    from batchai_compat.backends.registry import resolve
    from batchai_compat.exceptions import BatchAICompatNotSupportedError

    from ._state import ArmState

    chosen, source = resolve(backend)
    if isinstance(chosen, Backend):
        name = chosen.name
        home = home if home is not None else getattr(chosen, "home", None)
    else:
        name = str(chosen).lower()
    if name != "local":
        raise BatchAICompatNotSupportedError(
            f"batchai_compat's {what} is the local backend's offline stand-in, but the {name!r} backend is selected "
            f"(by {source}); with a real Azure subscription use the real package (azure-mgmt-resource / "
            "azure-mgmt-storage), which talks to Azure Resource Manager.")
    return ArmState(home)


def serializers(namespace: dict) -> tuple:
    classes = {k: v for k, v in namespace.items() if isinstance(v, type)}
    return Serializer(classes), Deserializer(classes)


class ArmOperationGroup(OperationGroup):
    """An operation group of one of the ARM clients; ``self._backend`` is an ``ArmState``."""

    def __init__(self, client: Any, config: Any, serializer: Any, deserializer: Any, state: Any,
                 api_version: str) -> None:
        super().__init__(client, config, serializer, deserializer, state)
        self.api_version = api_version

    @property
    def _state(self) -> Any:
        return self._backend

    def _group_name(self, resource_group_name: Any) -> None:
        self._serialize.url("resource_group_name", resource_group_name, "str", **RESOURCE_GROUP)

    def _account(self, resource_group_name: Any, account_name: Any) -> None:
        self._group_name(resource_group_name)
        self._serialize.url("account_name", account_name, "str", **ACCOUNT_NAME)
        self._validate_subscription()

    def _single_page(self, paged_class: type, validate: Callable[[], None], fetch: Callable[[], List[Body]],
                     raw: bool) -> Paged:
        """Every item in one page (the local state is small); validation at first iteration."""
        def fetch_page(token: Optional[str]) -> Page:
            return Page(fetch(), None)

        return self._paged(paged_class, validate, fetch_page, raw)
