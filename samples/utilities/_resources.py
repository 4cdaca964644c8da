"""Offline stand-in for ``azure.mgmt.resource.ResourceManagementClient`` (resource groups only).

Only the compat variant of ``utilities`` imports this module; the legacy variant imports the real
``azure.mgmt.resource``. batchai_compat has no resource-management client of its own, and the local
backend has no notion of resource groups: any name is accepted by every Batch AI operation. So
``resource_groups.create_or_update`` here only checks its arguments and echoes the group back,
which is all the samples need from it.
"""

from __future__ import print_function


class ResourceGroup(object):
    def __init__(self, name, location):
        self.name = name
        self.location = location
        self.properties = {'provisioningState': 'Succeeded'}


class _ResourceGroupsOperations(object):
    def create_or_update(self, resource_group_name, parameters):
        if not resource_group_name:
            raise ValueError("resource_group_name must not be empty")
        location = parameters['location'] if isinstance(parameters, dict) else parameters.location
        return ResourceGroup(resource_group_name, location)


class ResourceManagementClient(object):
    def __init__(self, credentials, subscription_id, base_url=None):
        self.credentials = credentials
        self.subscription_id = subscription_id
        self.base_url = base_url
        self.resource_groups = _ResourceGroupsOperations()
