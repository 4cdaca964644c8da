"""``client.workspaces``: create, get, update, delete and list workspaces."""

from __future__ import annotations

from batchai_compat import models
from batchai_compat.operations._base import RESOURCE_GROUP, OperationGroup


class WorkspacesOperations(OperationGroup):
    """WorkspacesOperations operations. Do not instantiate directly; use ``client.workspaces``."""

    def list(self, workspaces_list_options=None, custom_headers=None, raw=False, **operation_config):
        """Gets a list of Workspaces associated with the given subscription.

        :param workspaces_list_options: Additional parameters for the operation
        :type workspaces_list_options: ~batchai_compat.models.WorkspacesListOptions
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of Workspace
        :rtype: ~batchai_compat.models.WorkspacePaged[~batchai_compat.models.Workspace]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """

        def list_fn(_, max_results, token):
            return self._backend.list_workspaces(self._subscription(), None, max_results, token)

        return self._list_children(
            self._validate_subscription,
            workspaces_list_options,
            models.WorkspacesListOptions,
            models.WorkspacePaged,
            list_fn,
            raw,
        )

    def list_by_resource_group(
        self,
        resource_group_name,
        workspaces_list_by_resource_group_options=None,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Gets a list of Workspaces within the specified resource group.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspaces_list_by_resource_group_options: Additional parameters for the operation
        :type workspaces_list_by_resource_group_options:
         ~batchai_compat.models.WorkspacesListByResourceGroupOptions
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of Workspace
        :rtype: ~batchai_compat.models.WorkspacePaged[~batchai_compat.models.Workspace]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """

        def make_parent():
            return self._validate_path(("resource_group_name", resource_group_name, RESOURCE_GROUP))[0]

        def list_fn(resource_group, max_results, token):
            return self._backend.list_workspaces(self._subscription(), resource_group, max_results, token)

        return self._list_children(
            make_parent,
            workspaces_list_by_resource_group_options,
            models.WorkspacesListByResourceGroupOptions,
            models.WorkspacePaged,
            list_fn,
            raw,
        )

    def create(
        self,
        resource_group_name,
        workspace_name,
        location,
        tags=None,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Creates a Workspace (or updates the tags of an existing one).

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace: 1-64 characters from letters, digits,
         ``-`` and ``_``.
        :type workspace_name: str
        :param location: The region in which to create the Workspace.
        :type location: str
        :param tags: The user specified tags associated with the Workspace.
        :type tags: dict[str, str]
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of the model
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns Workspace
        :rtype: ~msrest.polling.LROPoller[~batchai_compat.models.Workspace]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        parameters = models.WorkspaceCreateParameters(location=location, tags=tags)
        ref = self._workspace_ref(resource_group_name, workspace_name)
        body = self._serialize_body(parameters, "WorkspaceCreateParameters")
        return self._long_running(lambda: self._backend.create_workspace(ref, body), "Workspace", raw, polling)

    def delete(
        self, resource_group_name, workspace_name, custom_headers=None, raw=False, polling=True, **operation_config
    ):
        """Deletes a Workspace and everything in it (clusters, file servers, experiments, jobs).

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of ``None``
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns None
        :rtype: ~msrest.polling.LROPoller[None]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._workspace_ref(resource_group_name, workspace_name)
        return self._long_running(lambda: self._backend.delete_workspace(ref), None, raw, polling)

    def get(self, resource_group_name, workspace_name, custom_headers=None, raw=False, **operation_config):
        """Gets information about a Workspace.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: returns the direct response alongside the deserialized response
        :return: Workspace or ClientRawResponse if raw=true
        :rtype: ~batchai_compat.models.Workspace or ~msrest.pipeline.ClientRawResponse
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._workspace_ref(resource_group_name, workspace_name)
        return self._call(lambda: self._backend.get_workspace(ref), "Workspace", raw)

    def update(
        self, resource_group_name, workspace_name, tags=None, custom_headers=None, raw=False, **operation_config
    ):
        """Updates the tags of a Workspace (synchronously).

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param tags: The user specified tags associated with the Workspace.
        :type tags: dict[str, str]
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: returns the direct response alongside the deserialized response
        :return: Workspace or ClientRawResponse if raw=true
        :rtype: ~batchai_compat.models.Workspace or ~msrest.pipeline.ClientRawResponse
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        parameters = models.WorkspaceUpdateParameters(tags=tags)
        ref = self._workspace_ref(resource_group_name, workspace_name)
        body = self._serialize_body(parameters, "WorkspaceUpdateParameters")
        return self._call(lambda: self._backend.update_workspace(ref, body), "Workspace", raw)
