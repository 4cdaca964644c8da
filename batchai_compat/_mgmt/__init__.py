"""Offline Azure Resource Manager pieces that Batch AI notebooks called around the Batch AI client.

Private support for :mod:`batchai_compat.resource` (resource groups, as ``azure-mgmt-resource``
2.0.0) and :mod:`batchai_compat.storage_mgmt` (storage accounts, as ``azure-mgmt-storage`` 2.0.0):
``_modelkit`` (msrest model classes from compact tables), ``_state`` (their tables in the local
backend's ``state.db``), ``_ops`` (validation, pollers, pages and errors shared by both clients).
"""
