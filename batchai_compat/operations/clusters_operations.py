"""``client.clusters``: create, get, update (scale), delete and list clusters of a workspace."""

from __future__ import annotations

from batchai_compat import models
from batchai_compat.backends.base import ClusterRef
from batchai_compat.operations._base import NAME, RESOURCE_GROUP, OperationGroup


class ClustersOperations(OperationGroup):
    """ClustersOperations operations. Do not instantiate directly; use ``client.clusters``."""

    def _ref(self, resource_group_name, workspace_name, cluster_name) -> ClusterRef:
        rg, ws, cluster = self._validate_path(
            ("resource_group_name", resource_group_name, RESOURCE_GROUP),
            ("workspace_name", workspace_name, NAME),
            ("cluster_name", cluster_name, NAME),
        )
        return ClusterRef(self._subscription(), rg, ws, cluster)

    def create(
        self,
        resource_group_name,
        workspace_name,
        cluster_name,
        parameters,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Creates a Cluster in the given Workspace.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param cluster_name: The name of the cluster: 1-64 characters from letters, digits, ``-``
         and ``_``.
        :type cluster_name: str
        :param parameters: The parameters to provide for the Cluster creation (a model or a dict).
        :type parameters: ~batchai_compat.models.ClusterCreateParameters
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of the model
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns Cluster
        :rtype: ~msrest.polling.LROPoller[~batchai_compat.models.Cluster]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, cluster_name)
        body = self._serialize_body(parameters, "ClusterCreateParameters")
        return self._long_running(lambda: self._backend.create_cluster(ref, body), "Cluster", raw, polling)

    def update(
        self,
        resource_group_name,
        workspace_name,
        cluster_name,
        scale_settings=None,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Updates the scale settings of a Cluster (synchronously; nodes follow in the background).

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param cluster_name: The name of the cluster.
        :type cluster_name: str
        :param scale_settings: Desired scale settings: manual or auto-scale.
        :type scale_settings: ~batchai_compat.models.ScaleSettings
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: returns the direct response alongside the deserialized response
        :return: Cluster or ClientRawResponse if raw=true
        :rtype: ~batchai_compat.models.Cluster or ~msrest.pipeline.ClientRawResponse
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        if isinstance(scale_settings, dict):
            scale_settings = models.ScaleSettings.from_dict(scale_settings)
        parameters = models.ClusterUpdateParameters(scale_settings=scale_settings)
        ref = self._ref(resource_group_name, workspace_name, cluster_name)
        body = self._serialize_body(parameters, "ClusterUpdateParameters")
        return self._call(lambda: self._backend.update_cluster(ref, body), "Cluster", raw)

    def delete(
        self,
        resource_group_name,
        workspace_name,
        cluster_name,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Deletes a Cluster; jobs running on it are killed.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param cluster_name: The name of the cluster.
        :type cluster_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of ``None``
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns None
        :rtype: ~msrest.polling.LROPoller[None]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, cluster_name)
        return self._long_running(lambda: self._backend.delete_cluster(ref), None, raw, polling)

    def get(
        self, resource_group_name, workspace_name, cluster_name, custom_headers=None, raw=False, **operation_config
    ):
        """Gets information about a Cluster.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param cluster_name: The name of the cluster.
        :type cluster_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: returns the direct response alongside the deserialized response
        :return: Cluster or ClientRawResponse if raw=true
        :rtype: ~batchai_compat.models.Cluster or ~msrest.pipeline.ClientRawResponse
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, cluster_name)
        return self._call(lambda: self._backend.get_cluster(ref), "Cluster", raw)

    def list_remote_login_information(
        self, resource_group_name, workspace_name, cluster_name, custom_headers=None, raw=False, **operation_config
    ):
        """Get the IP address, port of all the compute nodes in the Cluster.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param cluster_name: The name of the cluster.
        :type cluster_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of RemoteLoginInformation
        :rtype: ~batchai_compat.models.RemoteLoginInformationPaged[~batchai_compat.models.RemoteLoginInformation]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        holder = {}

        def validate() -> None:
            holder["ref"] = self._ref(resource_group_name, workspace_name, cluster_name)

        def fetch(token):
            return self._backend.list_cluster_remote_login_information(holder["ref"], token)

        return self._paged(models.RemoteLoginInformationPaged, validate, fetch, raw)

    def list_by_workspace(
        self,
        resource_group_name,
        workspace_name,
        clusters_list_by_workspace_options=None,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Gets information about Clusters associated with the given Workspace.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param clusters_list_by_workspace_options: Additional parameters for the operation
        :type clusters_list_by_workspace_options: ~batchai_compat.models.ClustersListByWorkspaceOptions
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of Cluster
        :rtype: ~batchai_compat.models.ClusterPaged[~batchai_compat.models.Cluster]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        return self._list_children(
            lambda: self._workspace_ref(resource_group_name, workspace_name),
            clusters_list_by_workspace_options,
            models.ClustersListByWorkspaceOptions,
            models.ClusterPaged,
            self._backend.list_clusters,
            raw,
        )
