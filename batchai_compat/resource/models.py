"""Models of the resource-group operations, as ``azure.mgmt.resource.resources.models`` (API 2018-05-01).

Same class names, attribute maps (wire keys and types), ``_validation`` tables and keyword-only
constructors as ``azure-mgmt-resource`` 2.0.0; checked against a snapshot of that package by
``tests/mgmt/test_parity.py``. Only the models of ``resource_groups`` are provided.
"""

from __future__ import annotations

from msrest.paging import Paged

from batchai_compat._mgmt._modelkit import REQUIRED, define, merge, readonly, required

_M = __name__

ResourceGroupProperties = define(
    "ResourceGroupProperties", _M, "The resource group properties (``provisioning_state`` is read-only).",
    [("provisioning_state", "provisioningState", "str")],
    validation=readonly("provisioning_state"))

ResourceGroup = define(
    "ResourceGroup", _M,
    "Resource group information. ``location`` is required and cannot be changed after creation.",
    [("id", "id", "str"), ("name", "name", "str"), ("properties", "properties", "ResourceGroupProperties"),
     ("location", "location", "str"), ("managed_by", "managedBy", "str"), ("tags", "tags", "{str}")],
    [("location", REQUIRED), "name", "properties", "managed_by", "tags"],
    validation=merge(readonly("id"), required("location")))

ResourceGroupPatchable = define(
    "ResourceGroupPatchable", _M, "The changes of a resource group update (tags, managed_by).",
    [("name", "name", "str"), ("properties", "properties", "ResourceGroupProperties"),
     ("managed_by", "managedBy", "str"), ("tags", "tags", "{str}")],
    ["name", "properties", "managed_by", "tags"])

ResourceGroupFilter = define(
    "ResourceGroupFilter", _M, "A tag filter for resource groups.",
    [("tag_name", "tagName", "str"), ("tag_value", "tagValue", "str")], ["tag_name", "tag_value"])

ExportTemplateRequest = define(
    "ExportTemplateRequest", _M, "What to export from a resource group.",
    [("resources", "resources", "[str]"), ("options", "options", "str")], ["resources", "options"])

ResourceManagementErrorWithDetails = define(
    "ResourceManagementErrorWithDetails", _M, "An error with details (all read-only).",
    [("code", "code", "str"), ("message", "message", "str"), ("target", "target", "str"),
     ("details", "details", "[ResourceManagementErrorWithDetails]")],
    validation=readonly("code", "message", "target", "details"))

ResourceGroupExportResult = define(
    "ResourceGroupExportResult", _M, "An exported template, or the error that prevented it.",
    [("template", "template", "object"), ("error", "error", "ResourceManagementErrorWithDetails")],
    ["template", "error"])


class ResourceGroupPaged(Paged):
    """A paging container for iterating over a list of :class:`ResourceGroup` objects."""

    _attribute_map = {
        "next_link": {"key": "nextLink", "type": "str"},
        "current_page": {"key": "value", "type": "[ResourceGroup]"},
    }


__all__ = [
    "ExportTemplateRequest",
    "ResourceGroup",
    "ResourceGroupExportResult",
    "ResourceGroupFilter",
    "ResourceGroupPaged",
    "ResourceGroupPatchable",
    "ResourceGroupProperties",
    "ResourceManagementErrorWithDetails",
]
