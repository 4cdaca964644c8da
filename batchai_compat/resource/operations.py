"""``ResourceGroupsOperations``: ``client.resource_groups`` of ``azure-mgmt-resource`` 2.0.0 (API 2018-05-01)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from msrest.pipeline import ClientRawResponse

from batchai_compat._errors import translate_errors
from batchai_compat._mgmt._ops import ArmOperationGroup
from batchai_compat._polling import make_response
from batchai_compat.backends.base import Body
from batchai_compat.backends.errors import InvalidInput, NotSupported
from batchai_compat.resource import models

# Property names and operators in any case, as ARM accepts them: azure-cli 2.0.x's `az group list --tag` sends
# "tagname eq 'k' and tagvalue eq 'v'" (azure-cli-resource 2.1.0, resource/custom.py list_resource_groups).
_TAG_FILTER = re.compile(r"^\s*tagName\s+eq\s+'([^']*)'(?:\s+and\s+tagValue\s+eq\s+'([^']*)')?\s*$", re.I)


class ResourceGroupsOperations(ArmOperationGroup):
    """ResourceGroupsOperations operations, on the local backend's state.

    Deviations (also in ``docs/compatibility.md``): any location name is accepted; ``list``'s
    ``filter`` understands ``tagName eq '...'`` (optionally ``and tagValue eq '...'``) only;
    ``export_template`` is not supported (``BatchAICompatNotSupportedError``); ``delete`` removes the
    resources batchai_compat keeps (storage accounts, Batch AI workspaces and everything in them).
    """

    models = models

    def check_existence(self, resource_group_name: str, custom_headers: Optional[Dict[str, str]] = None,
                        raw: bool = False, **operation_config: Any) -> Any:
        """``True`` if the group exists (the service's 204), ``False`` otherwise (its 404)."""
        self._group_name(resource_group_name)
        self._validate_subscription()
        with translate_errors():
            exists = self._state.group_exists(self.config.subscription_id, resource_group_name)
        if raw:
            return ClientRawResponse(exists, make_response(204 if exists else 404, None))
        return exists

    def create_or_update(self, resource_group_name: str, parameters: Any,
                         custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
                         **operation_config: Any) -> Any:
        """Create the group (201) or update its tags and ``managed_by`` (200); returns ``ResourceGroup``."""
        self._group_name(resource_group_name)
        self._validate_subscription()
        body = self._serialize_body(parameters, "ResourceGroup")
        with translate_errors():
            result, created = self._state.create_or_update_group(self.config.subscription_id, resource_group_name,
                                                                 body)
        deserialized = self._deserialize("ResourceGroup", result)
        if raw:
            return ClientRawResponse(deserialized, make_response(201 if created else 200, result))
        return deserialized

    def delete(self, resource_group_name: str, custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
               polling: Any = True, **operation_config: Any) -> Any:
        """Delete the group and what it contains; an ``LROPoller`` whose result is ``None``."""
        self._group_name(resource_group_name)
        self._validate_subscription()
        return self._long_running(lambda: self._state.delete_group(self.config.subscription_id, resource_group_name),
                                  None, raw, polling)

    def get(self, resource_group_name: str, custom_headers: Optional[Dict[str, str]] = None, raw: bool = False,
            **operation_config: Any) -> Any:
        """The group, or ``CloudError`` 404 ``ResourceGroupNotFound``."""
        self._group_name(resource_group_name)
        self._validate_subscription()
        return self._call(lambda: self._state.get_group(self.config.subscription_id, resource_group_name),
                          "ResourceGroup", raw)

    def update(self, resource_group_name: str, parameters: Any, custom_headers: Optional[Dict[str, str]] = None,
               raw: bool = False, **operation_config: Any) -> Any:
        """Change the tags or ``managed_by`` of an existing group (``ResourceGroupPatchable``)."""
        self._group_name(resource_group_name)
        self._validate_subscription()
        body = self._serialize_body(parameters, "ResourceGroupPatchable")
        return self._call(lambda: self._state.update_group(self.config.subscription_id, resource_group_name, body),
                          "ResourceGroup", raw)

    def export_template(self, resource_group_name: str, resources: Optional[List[str]] = None,
                        options: Optional[str] = None, custom_headers: Optional[Dict[str, str]] = None,
                        raw: bool = False, **operation_config: Any) -> Any:
        """Not supported by the local backend: there are no ARM templates behind its resources."""
        self._group_name(resource_group_name)
        self._validate_subscription()

        def refuse() -> Body:
            raise NotSupported(message="resource_groups.export_template is not supported by batchai_compat's local "
                               "resource groups: the local backend keeps no ARM templates.")

        return self._call(refuse, "ResourceGroupExportResult", raw)

    def list(self, filter: Optional[str] = None, top: Optional[int] = None,  # noqa: A002 (the SDK's name)
             custom_headers: Optional[Dict[str, str]] = None, raw: bool = False, **operation_config: Any) -> Any:
        """The subscription's groups in creation order, as a ``ResourceGroupPaged``."""
        sub = self.config.subscription_id

        def validate() -> None:
            self._validate_subscription()

        def fetch() -> List[Body]:
            groups = self._state.list_groups(sub)
            if filter:
                match = _TAG_FILTER.match(filter)
                if match is None:
                    raise InvalidInput("InvalidFilter", f"The filter {filter!r} is not supported by batchai_compat's "
                                       "local resource groups (only tagName eq '<name>' [and tagValue eq '<value>']).")
                name, value = match.group(1), match.group(2)
                groups = [g for g in groups if name in (g.get("tags") or {})
                          and (value is None or g["tags"][name] == value)]
            return groups[:top] if top is not None and top > 0 else groups

        return self._single_page(models.ResourceGroupPaged, validate, fetch, raw)
