"""Helpers for the Batch AI samples, in the shape of the recipes repository's ``utilities`` package.

Batch AI notebooks imported this package with ``sys.path.append(...)`` and ``import utilities as
utils``. This is our own small re-implementation (same function names, same printed lines) for the
samples of batchai_compat. ``samples/_legacy/utilities`` is the same code with the 2018 imports
(``azure.mgmt.batchai``, ``azure.storage``, ``azure.common``); the two differ only in import lines,
which ``tests/samples/test_only_imports_differ.py`` checks.
"""

from . import cluster, config, dataset, experiment, job, job_factory

__all__ = ["cluster", "config", "dataset", "experiment", "job", "job_factory"]
