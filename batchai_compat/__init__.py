"""batchai_compat: a drop-in replacement for the retired ``azure-mgmt-batchai`` 2.0.0 SDK.

Change only the imports of legacy Batch AI code::

    import batchai_compat as training            # was: import azure.mgmt.batchai as training
    import batchai_compat.models as models       # was: import azure.mgmt.batchai.models as models

Jobs run on the embedded local backend (no Azure account, no network) unless another backend is
chosen; see :mod:`batchai_compat.backends.registry`. Importing this package never imports azureml.
"""

from typing import Any

from batchai_compat._client import BatchAIManagementClient, BatchAIManagementClientConfiguration
from batchai_compat._version import DISTRIBUTION_VERSION as DISTRIBUTION_VERSION
from batchai_compat._version import VERSION as VERSION
from batchai_compat._version import __version__ as __version__

__all__ = ["BatchAIManagementClient", "BatchAIManagementClientConfiguration", "install"]


def install(backend: Any = None) -> None:
    """Make ``azure.mgmt.batchai``, the legacy storage classes and credentials resolve to batchai_compat,
    and, on the local backend, ``azure.mgmt.resource`` / ``azure.mgmt.storage`` too.

    For code that cannot be edited at all; ``backend`` as for ``BatchAIManagementClient`` (default:
    ``$BATCHAI_COMPAT_BACKEND``, the config file, ``local``). See :mod:`batchai_compat._install` for
    the limits.
    """
    from batchai_compat._install import install as _install

    _install(backend)
