"""The Azure ML backend (azureml-core, SDK v1). Importing this package does not import azureml."""

from .backend import AzureMLBackend

__all__ = ["AzureMLBackend"]
