"""Version numbers.

``__version__`` is the version of ``azure-mgmt-batchai`` whose surface we reproduce, because legacy code
reads ``azure.mgmt.batchai.__version__``; ``DISTRIBUTION_VERSION`` is this project's own release.
"""

__version__ = "2.0.0"
VERSION = __version__
DISTRIBUTION_VERSION = "0.1.0"
