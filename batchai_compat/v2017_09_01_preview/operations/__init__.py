"""The operation groups of azure-mgmt-batchai 0.2.0 (``azure.mgmt.batchai.operations``), on the default workspace.

0.2.0's long-running operations had no ``polling`` parameter (they always polled); otherwise these are
the 1.0.x groups without ``usage``. See :mod:`batchai_compat._generations`.
"""

from batchai_compat import _generations as _g


class _Generation:
    api_version_of_generation = "2017-09-01-preview"
    models_package = "batchai_compat.v2017_09_01_preview.models"


class ClustersOperations(_Generation, _g.ClustersOperations):
    __doc__ = _g.ClustersOperations.__doc__

    def create(self, resource_group_name, cluster_name, parameters, custom_headers=None, raw=False,
               **operation_config):
        """Adds a cluster (in the resource group's default workspace, made in ``parameters.location``)."""
        return self._create(resource_group_name, cluster_name, parameters, raw, True)

    def delete(self, resource_group_name, cluster_name, custom_headers=None, raw=False, **operation_config):
        """Deletes a Cluster; jobs running on it are killed."""
        return self._delete(resource_group_name, cluster_name, raw, True)


class FileServersOperations(_Generation, _g.FileServersOperations):
    __doc__ = _g.FileServersOperations.__doc__

    def create(self, resource_group_name, file_server_name, parameters, custom_headers=None, raw=False,
               **operation_config):
        """Creates a file server (in the resource group's default workspace)."""
        return self._create(resource_group_name, file_server_name, parameters, raw, True)

    def delete(self, resource_group_name, file_server_name, custom_headers=None, raw=False, **operation_config):
        """Delete a file Server."""
        return self._delete(resource_group_name, file_server_name, raw, True)


class JobsOperations(_Generation, _g.JobsOperations):
    __doc__ = _g.JobsOperations.__doc__

    def create(self, resource_group_name, job_name, parameters, custom_headers=None, raw=False, **operation_config):
        """Adds a Job that gets executed on a cluster (in the default experiment of the default workspace)."""
        return self._create(resource_group_name, job_name, parameters, raw, True)

    def delete(self, resource_group_name, job_name, custom_headers=None, raw=False, **operation_config):
        """Deletes the specified Batch AI job, killing it first if it is running."""
        return self._lro("delete_job", resource_group_name, job_name, raw, True)

    def terminate(self, resource_group_name, job_name, custom_headers=None, raw=False, **operation_config):
        """Terminates a job; a no-op for a job that has already finished."""
        return self._lro("terminate_job", resource_group_name, job_name, raw, True)


class Operations(_Generation, _g.Operations):
    __doc__ = _g.Operations.__doc__


__all__ = ["ClustersOperations", "FileServersOperations", "JobsOperations", "Operations"]
