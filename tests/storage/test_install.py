"""``install()`` and import hygiene, each in a fresh interpreter so nothing leaks into other tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .conftest import python_env


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning:batchai_compat", "-c",
                             textwrap.dedent(code)], capture_output=True, text=True, env=python_env(), timeout=120)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def test_import_batchai_compat_does_not_load_storage_sdks() -> None:
    _run("""
        import sys
        import batchai_compat, batchai_compat.storage, batchai_compat.credentials, batchai_compat._install
        loaded = sorted(m for m in sys.modules if m.startswith(("azure.storage", "azure.identity")))
        assert not loaded, loaded
        from batchai_compat.storage import BlockBlobService
        BlockBlobService("acct", "a2V5").create_container("cont")  # local mode needs no SDK either
        assert not [m for m in sys.modules if m.startswith("azure.storage")]
    """)


def test_install_aliases_legacy_storage_and_credentials() -> None:
    _run("""
        import sys
        import batchai_compat
        import batchai_compat.storage as compat_storage, batchai_compat.credentials as compat_credentials
        batchai_compat.install()
        batchai_compat.install()  # idempotent

        from azure.storage.blob import BlockBlobService
        assert BlockBlobService is compat_storage.BlockBlobService
        from azure.storage.blob.models import BlobPermissions, ContainerPermissions
        assert BlobPermissions is compat_storage.BlobPermissions
        from azure.storage.blob.blockblobservice import BlockBlobService as B2
        assert B2 is BlockBlobService
        from azure.storage.file import FileService, FilePermissions
        assert FileService is compat_storage.FileService
        from azure.storage.file.fileservice import FileService as F2
        from azure.storage.file.models import File, Directory
        assert F2 is FileService and File is compat_storage.File
        from azure.common.credentials import ServicePrincipalCredentials
        assert ServicePrincipalCredentials is compat_credentials.ServicePrincipalCredentials
        from azure.common import AzureMissingResourceHttpError
        assert AzureMissingResourceHttpError is compat_storage.AzureMissingResourceHttpError

        # The real v12 package keeps working for its own names.
        import azure.storage.blob as blob_pkg
        from azure.storage.blob import BlobServiceClient, ContentSettings, generate_blob_sas
        assert blob_pkg.__file__.endswith("azure/storage/blob/__init__.py")
        assert ContentSettings.__module__.startswith("azure.storage.blob.")
        assert type(blob_pkg.__loader__).__name__ == "SourceFileLoader"
        client = BlobServiceClient.from_connection_string(
            "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/a")
        assert client.account_name == "a"
        from azure.storage.fileshare import ShareServiceClient
        print("ok")
    """)


def test_install_aliases_batchai_even_over_the_original() -> None:
    out = _run("""
        import warnings
        import azure.mgmt.batchai as original          # the real 2.0.0, installed as the test oracle
        original_client = original.BatchAIManagementClient
        import batchai_compat
        from batchai_compat._install import install, uninstall
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            install()
        assert any("already been imported" in str(w.message) for w in caught)

        import azure.mgmt.batchai as training
        import azure.mgmt.batchai.models as models
        import batchai_compat.models as compat_models
        assert training.__batchai_compat_target__ == "batchai_compat"
        assert models.__batchai_compat_target__ == "batchai_compat.models"
        assert models.ClusterCreateParameters is compat_models.ClusterCreateParameters
        assert training.BatchAIManagementClient is batchai_compat.BatchAIManagementClient
        assert training.BatchAIManagementClient is not original_client
        from azure.mgmt.batchai.models import JobCreateParameters
        assert JobCreateParameters is compat_models.JobCreateParameters
        from azure.mgmt.batchai.exceptions import BatchAICompatWarning   # any batchai_compat submodule

        uninstall()
        import sys
        assert "azure.mgmt.batchai" not in sys.modules
        import azure.storage.blob as blob_pkg
        assert not hasattr(blob_pkg, "BlockBlobService")
        print("done")
    """)
    assert "done" in out


def test_install_without_azure_common_provides_it() -> None:
    _run("""
        import sys
        from batchai_compat import _install
        real_elsewhere = _install._CompatFinder._elsewhere
        def elsewhere(self, name, path, target):  # as if azure-common were not installed
            if name == "azure.common" or name.startswith("azure.common."):
                return None
            return real_elsewhere(self, name, path, target)
        _install._CompatFinder._elsewhere = elsewhere
        assert "azure.common" not in sys.modules
        _install.install()
        from azure.common.credentials import ServicePrincipalCredentials
        from azure.common import AzureHttpError, AzureMissingResourceHttpError
        import batchai_compat.credentials as c, batchai_compat.storage as s
        assert ServicePrincipalCredentials is c.ServicePrincipalCredentials
        assert AzureMissingResourceHttpError is s.AzureMissingResourceHttpError
        assert type(AzureHttpError("x", 404)) is AzureMissingResourceHttpError
    """)
