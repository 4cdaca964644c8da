"""``client.operations``: the Batch AI resource provider's operation catalogue."""

from __future__ import annotations

from typing import Any

from batchai_compat import models
from batchai_compat.operations._base import OperationGroup


class Operations(OperationGroup):
    """Operations operations. Do not instantiate directly; use ``client.operations``."""

    def list(self, custom_headers=None, raw=False, **operation_config):
        """Lists the available Batch AI operations.

        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of Operation
        :rtype: ~batchai_compat.models.OperationPaged[~batchai_compat.models.Operation]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """

        def validate() -> None:
            self._validate_query("self.api_version", self.api_version, "str")

        def fetch(token: Any):
            from batchai_compat.backends.base import Page

            return Page(self._backend.list_operations())

        return self._paged(models.OperationPaged, validate, fetch, raw)
