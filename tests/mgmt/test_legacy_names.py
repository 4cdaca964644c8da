"""``from batchai_compat.legacy import azure``: full dotted legacy names without ``install()``."""

from __future__ import annotations

import sys

import pytest

import batchai_compat
import batchai_compat.models
import batchai_compat.storage.models
from batchai_compat import credentials, resource, storage, storage_mgmt
from batchai_compat.legacy import azure


def test_dotted_names_resolve_to_batchai_compat():
    assert azure.storage.file.models.File is batchai_compat.storage.models.File
    assert azure.storage.file.FileService is storage.FileService
    assert azure.storage.blob.BlockBlobService is storage.BlockBlobService
    assert azure.storage.blob.models.Include is batchai_compat.storage.models.Include
    assert azure.mgmt.batchai.BatchAIManagementClient is batchai_compat.BatchAIManagementClient
    assert azure.mgmt.batchai.models.JobCreateParameters is batchai_compat.models.JobCreateParameters
    assert azure.common.credentials.ServicePrincipalCredentials is credentials.ServicePrincipalCredentials
    assert azure.mgmt.resource.ResourceManagementClient is resource.ResourceManagementClient
    assert azure.mgmt.resource.resources.models.ResourceGroup is resource.models.ResourceGroup
    assert azure.mgmt.storage.StorageManagementClient is storage_mgmt.StorageManagementClient
    assert azure.mgmt.storage.models.Sku is storage_mgmt.models.Sku
    assert "storage" in dir(azure) and "File" in dir(azure.storage.file.models)


def test_unknown_names_say_so_and_nothing_is_installed():
    modules = dict(sys.modules)
    with pytest.raises(AttributeError, match="azure.mgmt.network has no batchai_compat equivalent"):
        azure.mgmt.network  # noqa: B018
    with pytest.raises(AttributeError, match="no batchai_compat equivalent"):
        azure.storage.file.models.NoSuchThing  # noqa: B018
    with pytest.raises(AttributeError):
        azure.storage = None
    assert {k: v for k, v in sys.modules.items() if k.startswith("azure")} == \
        {k: v for k, v in modules.items() if k.startswith("azure")}
