"""What the package's management clients share: the msrestazure configuration of their originals, and the
operation groups a stand-in client does not provide.

``BatchAIManagementClient`` (every generation), ``ResourceManagementClient`` and ``StorageManagementClient``
each had an ``AzureConfiguration`` subclass with the same checks and user agents; only the agent's
package name differed.
"""

from __future__ import annotations

from typing import Any, Optional

from msrestazure import AzureConfiguration


class ArmClientConfiguration(AzureConfiguration):
    """An ARM client's configuration, as the originals built it (subclasses set :attr:`user_agent_package`).

    :param credentials: The credentials object (``None`` is refused, as by the originals).
    :param str subscription_id: The subscription id (``None`` is refused).
    :param str base_url: Service URL (default ``https://management.azure.com``).
    """

    #: ``<package>/<version>`` added to the user agent first, as the original's generated code did.
    user_agent_package = ""

    def __init__(self, credentials: Any, subscription_id: str, base_url: Optional[str] = None) -> None:
        if credentials is None:
            raise ValueError("Parameter 'credentials' must not be None.")
        if subscription_id is None:
            raise ValueError("Parameter 'subscription_id' must not be None.")
        super().__init__(base_url or "https://management.azure.com")
        self.add_user_agent(self.user_agent_package)
        self.add_user_agent("Azure-SDK-For-Python")
        self.add_user_agent("batchai-compat")
        self.credentials = credentials
        self.subscription_id = subscription_id


def not_provided(client: str, group: str, provided: str, real_package: str) -> property:
    """A client attribute for an operation group batchai_compat does not provide: reading it raises
    ``BatchAICompatNotSupportedError`` naming what is provided and where the real thing is."""

    def getter(self: Any) -> Any:
        from batchai_compat.exceptions import BatchAICompatNotSupportedError

        raise BatchAICompatNotSupportedError(
            f"{client}.{group} is not provided by batchai_compat (only {provided} is); "
            f"use the real {real_package} against Azure for it.")

    return property(getter, doc="Not provided: raises ``BatchAICompatNotSupportedError``.")
