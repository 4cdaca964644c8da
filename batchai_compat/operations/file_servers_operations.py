"""``client.file_servers``: create, get, delete and list Batch AI file servers."""

from __future__ import annotations

from batchai_compat import models
from batchai_compat.backends.base import FileServerRef
from batchai_compat.operations._base import NAME, RESOURCE_GROUP, OperationGroup


class FileServersOperations(OperationGroup):
    """FileServersOperations operations. Do not instantiate directly; use ``client.file_servers``."""

    def _ref(self, resource_group_name, workspace_name, file_server_name) -> FileServerRef:
        rg, ws, name = self._validate_path(
            ("resource_group_name", resource_group_name, RESOURCE_GROUP),
            ("workspace_name", workspace_name, NAME),
            ("file_server_name", file_server_name, NAME),
        )
        return FileServerRef(self._subscription(), rg, ws, name)

    def create(
        self,
        resource_group_name,
        workspace_name,
        file_server_name,
        parameters,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Creates a File Server in the given workspace.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param file_server_name: The name of the file server: 1-64 characters from letters,
         digits, ``-`` and ``_``.
        :type file_server_name: str
        :param parameters: The parameters to provide for File Server creation (a model or a dict).
        :type parameters: ~batchai_compat.models.FileServerCreateParameters
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of the model
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns FileServer
        :rtype: ~msrest.polling.LROPoller[~batchai_compat.models.FileServer]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, file_server_name)
        body = self._serialize_body(parameters, "FileServerCreateParameters")
        return self._long_running(lambda: self._backend.create_file_server(ref, body), "FileServer", raw, polling)

    def delete(
        self,
        resource_group_name,
        workspace_name,
        file_server_name,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Deletes a File Server.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param file_server_name: The name of the file server.
        :type file_server_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of ``None``
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns None
        :rtype: ~msrest.polling.LROPoller[None]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, file_server_name)
        return self._long_running(lambda: self._backend.delete_file_server(ref), None, raw, polling)

    def get(
        self, resource_group_name, workspace_name, file_server_name, custom_headers=None, raw=False, **operation_config
    ):
        """Gets information about a File Server.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param file_server_name: The name of the file server.
        :type file_server_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: returns the direct response alongside the deserialized response
        :return: FileServer or ClientRawResponse if raw=true
        :rtype: ~batchai_compat.models.FileServer or ~msrest.pipeline.ClientRawResponse
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, file_server_name)
        return self._call(lambda: self._backend.get_file_server(ref), "FileServer", raw)

    def list_by_workspace(
        self,
        resource_group_name,
        workspace_name,
        file_servers_list_by_workspace_options=None,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Gets a list of File Servers associated with the specified workspace.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param file_servers_list_by_workspace_options: Additional parameters for the operation
        :type file_servers_list_by_workspace_options: ~batchai_compat.models.FileServersListByWorkspaceOptions
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of FileServer
        :rtype: ~batchai_compat.models.FileServerPaged[~batchai_compat.models.FileServer]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        return self._list_children(
            lambda: self._workspace_ref(resource_group_name, workspace_name),
            file_servers_list_by_workspace_options,
            models.FileServersListByWorkspaceOptions,
            models.FileServerPaged,
            self._backend.list_file_servers,
            raw,
        )
