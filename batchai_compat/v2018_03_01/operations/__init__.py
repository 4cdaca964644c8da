"""The operation groups of azure-mgmt-batchai 1.0.x (``azure.mgmt.batchai.operations``), on the default workspace.

See :mod:`batchai_compat._generations` for the mapping onto the 2018-05-01 backends.
"""

from batchai_compat import _generations as _g


class _Generation:
    api_version_of_generation = "2018-03-01"
    models_package = "batchai_compat.v2018_03_01.models"


class ClustersOperations(_Generation, _g.ClustersOperations):
    __doc__ = _g.ClustersOperations.__doc__


class FileServersOperations(_Generation, _g.FileServersOperations):
    __doc__ = _g.FileServersOperations.__doc__


class JobsOperations(_Generation, _g.JobsOperations):
    __doc__ = _g.JobsOperations.__doc__


class UsageOperations(_Generation, _g.UsageOperations):
    __doc__ = _g.UsageOperations.__doc__


class Operations(_Generation, _g.Operations):
    __doc__ = _g.Operations.__doc__


__all__ = ["ClustersOperations", "FileServersOperations", "JobsOperations", "Operations", "UsageOperations"]
