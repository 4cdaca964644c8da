"""``client.jobs``: create, get, terminate, delete and list jobs; list their output files."""

from __future__ import annotations

from batchai_compat import models
from batchai_compat.backends.base import JobRef
from batchai_compat.operations._base import LINK_EXPIRY, MAX_RESULTS, NAME, RESOURCE_GROUP, OperationGroup


class JobsOperations(OperationGroup):
    """JobsOperations operations. Do not instantiate directly; use ``client.jobs``."""

    def _ref(self, resource_group_name, workspace_name, experiment_name, job_name) -> JobRef:
        rg, ws, exp, job = self._validate_path(
            ("resource_group_name", resource_group_name, RESOURCE_GROUP),
            ("workspace_name", workspace_name, NAME),
            ("experiment_name", experiment_name, NAME),
            ("job_name", job_name, NAME),
        )
        return JobRef(self._subscription(), rg, ws, exp, job)

    def list_by_experiment(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        jobs_list_by_experiment_options=None,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Gets a list of Jobs within the specified Experiment.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param jobs_list_by_experiment_options: Additional parameters for the operation
        :type jobs_list_by_experiment_options: ~batchai_compat.models.JobsListByExperimentOptions
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of Job
        :rtype: ~batchai_compat.models.JobPaged[~batchai_compat.models.Job]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        return self._list_children(
            lambda: self._experiment_ref(resource_group_name, workspace_name, experiment_name),
            jobs_list_by_experiment_options,
            models.JobsListByExperimentOptions,
            models.JobPaged,
            self._backend.list_jobs,
            raw,
        )

    def create(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        job_name,
        parameters,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Creates a Job in the given Experiment.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param job_name: The name of the job: 1-64 characters from letters, digits, ``-`` and ``_``.
        :type job_name: str
        :param parameters: The parameters to provide for job creation (a model or a dict).
        :type parameters: ~batchai_compat.models.JobCreateParameters
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of the model
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns Job
        :rtype: ~msrest.polling.LROPoller[~batchai_compat.models.Job]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, experiment_name, job_name)
        body = self._serialize_body(parameters, "JobCreateParameters")
        return self._long_running(lambda: self._backend.create_job(ref, body), "Job", raw, polling)

    def delete(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        job_name,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Deletes a Job, killing it first if it is running.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param job_name: The name of the job.
        :type job_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of ``None``
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns None
        :rtype: ~msrest.polling.LROPoller[None]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, experiment_name, job_name)
        return self._long_running(lambda: self._backend.delete_job(ref), None, raw, polling)

    def get(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        job_name,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Gets information about a Job.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param job_name: The name of the job.
        :type job_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: returns the direct response alongside the deserialized response
        :return: Job or ClientRawResponse if raw=true
        :rtype: ~batchai_compat.models.Job or ~msrest.pipeline.ClientRawResponse
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, experiment_name, job_name)
        return self._call(lambda: self._backend.get_job(ref), "Job", raw)

    def list_output_files(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        job_name,
        jobs_list_output_files_options,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """List all directories and files inside the given directory of the Job's output directory.

        Like the original, the options are only read here; they are validated when iteration starts
        (``outputdirectoryid`` is required, ``linkexpiryinminutes`` 5..600, ``max_results`` 1..1000).

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param job_name: The name of the job.
        :type job_name: str
        :param jobs_list_output_files_options: Additional parameters for the operation
        :type jobs_list_output_files_options: ~batchai_compat.models.JobsListOutputFilesOptions
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of File
        :rtype: ~batchai_compat.models.FilePaged[~batchai_compat.models.File]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        options = self._options(jobs_list_output_files_options, models.JobsListOutputFilesOptions)
        outputdirectoryid = directory = linkexpiryinminutes = max_results = None
        if options is not None:
            outputdirectoryid = options.outputdirectoryid
            directory = options.directory
            linkexpiryinminutes = options.linkexpiryinminutes
            max_results = options.max_results
        holder = {}

        def validate() -> None:
            # The query values as the URL carried them (``outputdirectoryid=0`` is the id "0").
            holder["ref"] = self._ref(resource_group_name, workspace_name, experiment_name, job_name)
            holder["id"] = self._validate_query("outputdirectoryid", outputdirectoryid, "str")
            holder["directory"] = "."
            holder["expiry"], holder["max"] = 60, 1000
            if directory is not None:
                holder["directory"] = self._validate_query("directory", directory, "str")
            if linkexpiryinminutes is not None:
                holder["expiry"] = int(
                    self._validate_query("linkexpiryinminutes", linkexpiryinminutes, "int", **LINK_EXPIRY))
            if max_results is not None:
                holder["max"] = int(self._validate_query("max_results", max_results, "int", **MAX_RESULTS))

        def fetch(token):
            return self._backend.list_output_files(
                holder["ref"], holder["id"], holder["directory"], holder["expiry"], holder["max"], token)

        return self._paged(models.FilePaged, validate, fetch, raw)

    def list_remote_login_information(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        job_name,
        custom_headers=None,
        raw=False,
        **operation_config,
    ):
        """Gets a list of currently existing nodes which were used for the Job execution.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param job_name: The name of the job.
        :type job_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: pages also expose ``.raw``
        :return: An iterator like instance of RemoteLoginInformation
        :rtype: ~batchai_compat.models.RemoteLoginInformationPaged[~batchai_compat.models.RemoteLoginInformation]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        holder = {}

        def validate() -> None:
            holder["ref"] = self._ref(resource_group_name, workspace_name, experiment_name, job_name)

        def fetch(token):
            return self._backend.list_job_remote_login_information(holder["ref"], token)

        return self._paged(models.RemoteLoginInformationPaged, validate, fetch, raw)

    def terminate(
        self,
        resource_group_name,
        workspace_name,
        experiment_name,
        job_name,
        custom_headers=None,
        raw=False,
        polling=True,
        **operation_config,
    ):
        """Terminates a job; a no-op for a job that has already finished.

        :param resource_group_name: Name of the resource group to which the resource belongs.
        :type resource_group_name: str
        :param workspace_name: The name of the workspace.
        :type workspace_name: str
        :param experiment_name: The name of the experiment.
        :type experiment_name: str
        :param job_name: The name of the job.
        :type job_name: str
        :param dict custom_headers: accepted for compatibility; there is no HTTP request to add them to
        :param bool raw: the poller returns ``ClientRawResponse`` instead of ``None``
        :param polling: True to poll the backend, False for no polling, or a polling object
        :return: An instance of LROPoller that returns None
        :rtype: ~msrest.polling.LROPoller[None]
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        ref = self._ref(resource_group_name, workspace_name, experiment_name, job_name)
        return self._long_running(lambda: self._backend.terminate_job(ref), None, raw, polling)
