"""Legacy Azure Storage clients for Batch AI notebooks: ``BlockBlobService`` and ``FileService``.

Drop-in for ``azure.storage.blob.BlockBlobService`` and ``azure.storage.file.FileService`` (the
azure-storage 1.x/2.x SDKs, which cannot be installed beside today's v12 packages)::

    from batchai_compat.storage import BlockBlobService, FileService

Two modes, chosen per service object (rule in ``docs/storage.md``): **local** reads and writes the
storage root under ``BATCHAI_COMPAT_HOME`` that the local backend mounts into jobs; **remote**
delegates to ``azure-storage-blob``/``azure-storage-file-share`` 12, imported only then.
"""

from batchai_compat.storage._errors import (
    AzureConflictHttpError,
    AzureException,
    AzureHttpError,
    AzureMissingResourceHttpError,
)
from batchai_compat.storage.blob import BlockBlobService
from batchai_compat.storage.file import FileService
from batchai_compat.storage.models import (
    AccountPermissions,
    Blob,
    BlobPermissions,
    BlobPrefix,
    BlobProperties,
    Container,
    ContainerPermissions,
    ContainerProperties,
    ContentSettings,
    DeleteSnapshot,
    Directory,
    DirectoryProperties,
    File,
    FilePermissions,
    FileProperties,
    Include,
    ListGenerator,
    PublicAccess,
    ResourceProperties,
    ResourceTypes,
    Share,
    SharePermissions,
    ShareProperties,
)

__all__ = [
    "AccountPermissions", "AzureConflictHttpError", "AzureException", "AzureHttpError",
    "AzureMissingResourceHttpError", "Blob", "BlobPermissions", "BlobPrefix", "BlobProperties", "BlockBlobService",
    "Container", "ContainerPermissions", "ContainerProperties", "ContentSettings", "DeleteSnapshot", "Directory",
    "DirectoryProperties", "File", "FilePermissions", "FileProperties", "FileService", "Include", "ListGenerator",
    "PublicAccess", "ResourceProperties", "ResourceTypes", "Share", "SharePermissions", "ShareProperties",
]
