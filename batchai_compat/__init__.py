"""batchai_compat: a drop-in replacement for the retired ``azure-mgmt-batchai`` 2.0.0 SDK.

Change only the imports of legacy Batch AI code::

    import batchai_compat as training            # was: import azure.mgmt.batchai as training
    import batchai_compat.models as models       # was: import azure.mgmt.batchai.models as models

Jobs run on the embedded local backend (no Azure account, no network) unless another backend is
chosen; see :mod:`batchai_compat.backends.registry`. Importing this package never imports azureml.
"""

from typing import TYPE_CHECKING, Any, List

from batchai_compat._version import DISTRIBUTION_VERSION as DISTRIBUTION_VERSION
from batchai_compat._version import VERSION as VERSION
from batchai_compat._version import __version__ as __version__

if TYPE_CHECKING:  # pragma: no cover
    from batchai_compat._client import BatchAIManagementClient, BatchAIManagementClientConfiguration

__all__ = ["BatchAIManagementClient", "BatchAIManagementClientConfiguration", "install"]

# The client (and with it msrest, requests and urllib3) is imported on first use (PEP 562), so that
# processes which only need a submodule -- the ``batchai`` command answering ``--help``, the launcher on a
# node, ``batchai-migrate`` -- do not pay for it. ``from batchai_compat import BatchAIManagementClient``
# and ``batchai_compat.BatchAIManagementClient`` behave as before.
_LAZY = {"BatchAIManagementClient", "BatchAIManagementClientConfiguration"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from batchai_compat import _client

        value = getattr(_client, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | _LAZY)


def install(backend: Any = None) -> None:
    """Make ``azure.mgmt.batchai``, the legacy storage classes and credentials resolve to batchai_compat,
    and, on the local backend, ``azure.mgmt.resource`` / ``azure.mgmt.storage`` too.

    For code that cannot be edited at all; ``backend`` as for ``BatchAIManagementClient`` (default:
    ``$BATCHAI_COMPAT_BACKEND``, the config file, ``local``). See :mod:`batchai_compat._install` for
    the limits.
    """
    from batchai_compat._install import install as _install

    _install(backend)
