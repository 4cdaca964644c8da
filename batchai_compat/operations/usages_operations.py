"""``client.usages``: quota usage per location."""

from __future__ import annotations

from batchai_compat import models
from batchai_compat.backends.base import Page
from batchai_compat.operations._base import LOCATION, OperationGroup


class UsagesOperations(OperationGroup):
    """UsagesOperations operations. Do not instantiate directly; use ``client.usages``."""

    def list(self, location, custom_headers=None, raw=False, **operation_config):
        """Gets the current usage information and limits for Batch AI resources for a location.

        :param location: The location for which resource usage is queried.
        :type location: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of Usage
        :rtype: ~batchai_compat.models.UsagePaged[~batchai_compat.models.Usage]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """

        holder = {}

        def validate() -> None:
            holder["location"] = self._validate_path(("location", location, LOCATION), subscription_first=True)[0]

        def fetch(token):
            return Page(self._backend.list_usages(self._subscription(), holder["location"]))

        return self._paged(models.UsagePaged, validate, fetch, raw)
