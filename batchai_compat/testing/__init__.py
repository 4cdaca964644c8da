"""Offline testing helpers for code migrated from Batch AI to Azure Machine Learning (azureml-core, SDK v1).

:class:`AzureMLEmulator` answers azureml-core's HTTP traffic on 127.0.0.1 and executes submitted runs as local
processes, so ``Workspace``/``AmlCompute``/``Experiment``/``ScriptRunConfig``/``Run`` code can be tested
without an Azure subscription::

    from azureml.core import Workspace
    from batchai_compat.testing import AzureMLEmulator

    with AzureMLEmulator(workspaces=[("sub", "rg", "ws")]) as emu:
        ws = Workspace("sub", "rg", "ws", auth=emu.auth())
        ...                                   # create clusters, submit runs, list/download outputs
    assert not emu.unrouted                   # every request was answered

Importing this package does not import azureml; :meth:`AzureMLEmulator.auth` does.
"""

from .amlemu.auth import emulator_auth_class, fake_jwt, make_auth
from .amlemu.emulator import AzureMLEmulator, local_storage_datastore_dirs
from .amlemu.hygiene import fast_polling, isolated_azureml_home, no_compute_sleep
from .amlemu.server import RequestRecord

__all__ = ["AzureMLEmulator", "RequestRecord", "emulator_auth_class", "fake_jwt", "fast_polling",
           "isolated_azureml_home", "local_storage_datastore_dirs", "make_auth", "no_compute_sleep"]
