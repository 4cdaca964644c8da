"""``client.experiments``: create, get, delete and list experiments of a workspace."""

from __future__ import annotations

from batchai_compat import models
from batchai_compat.operations._base import OperationGroup


class ExperimentsOperations(OperationGroup):
    """ExperimentsOperations operations. Do not instantiate directly; use ``client.experiments``."""

    def list_by_workspace(
        self,
        resource_group_name,
        workspace_name,
        experiments_list_by_workspace_options=None,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Gets a list of Experiments within the specified Workspace.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiments_list_by_workspace_options: Additional parameters for the operation
        :type experiments_list_by_workspace_options: ~batchai_compat.models.ExperimentsListByWorkspaceOptions
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of Experiment
        :rtype: ~batchai_compat.models.ExperimentPaged[~batchai_compat.models.Experiment]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        return self._list_children(
            lambda: self._workspace_ref(resource_group_name, workspace_name),
            experiments_list_by_workspace_options,
            models.ExperimentsListByWorkspaceOptions,
            models.ExperimentPaged,
            self._backend.list_experiments,
            raw,
        )

    def create(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Creates an Experiment.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment: 1-64 characters from letters, digits,
         ``-`` and ``_``.
        :type experiment_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of the model
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns Experiment
        :rtype: ~msrest.polling.LROPoller[~batchai_compat.models.Experiment]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._experiment_ref(resource_group_name, workspace_name, experiment_name)
        return self._long_running(lambda: self._backend.create_experiment(ref), "Experiment", raw, polling)

    def delete(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Deletes an Experiment and all its jobs (running jobs are killed).

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of ``None``
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns None
        :rtype: ~msrest.polling.LROPoller[None]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._experiment_ref(resource_group_name, workspace_name, experiment_name)
        return self._long_running(lambda: self._backend.delete_experiment(ref), None, raw, polling)

    def get(
        self, resource_group_name, workspace_name, experiment_name, custom_headers=None, raw=False, **operation_config
    ):
        """Gets information about an Experiment.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: returns the direct response alongside the deserialized response
        :return: Experiment or ClientRawResponse if raw=true
        :rtype: ~batchai_compat.models.Experiment or ~msrest.pipeline.ClientRawResponse
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._experiment_ref(resource_group_name, workspace_name, experiment_name)
        return self._call(lambda: self._backend.get_experiment(ref), "Experiment", raw)
