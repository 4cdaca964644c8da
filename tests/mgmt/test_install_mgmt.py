"""``batchai_compat.install()`` and the management names: aliased on the local backend only.

Each case runs in a fresh interpreter (``sys.modules`` and the meta path start clean). The real
azure-mgmt-resource / azure-mgmt-storage (today's versions, which azureml-core needs) are installed
in the test environment, so "left alone" is observable: the real classes come back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import batchai_compat
batchai_compat.install({arg})
light = "batchai_compat.backends.registry" not in sys.modules and "batchai_compat.resource" not in sys.modules
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient
import azure.mgmt.storage.models
from azure.mgmt.resource.resources.models import ResourceGroup
import azure.storage.file.models
from msrestazure.azure_active_directory import ServicePrincipalCredentials
print(json.dumps({{"light": light,
                  "resource": ResourceManagementClient.__module__, "storage": StorageManagementClient.__module__,
                  "storage_models": azure.mgmt.storage.models.Sku.__module__, "rg_model": ResourceGroup.__module__,
                  "file": azure.storage.file.models.File.__module__,
                  "spc": ServicePrincipalCredentials.__module__}}))
"""


def _run(code: str, home: Path, env_extra: Optional[Dict[str, str]] = None) -> dict:
    from tests.samples.conftest import sample_environment

    env = sample_environment(home)
    env.update(env_extra or {})
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_backend_aliases_resource_and_storage_management(home):
    got = _run(PROBE.format(arg=""), home)
    assert got == {"light": True, "resource": "batchai_compat.resource", "storage": "batchai_compat.storage_mgmt",
                   "storage_models": "batchai_compat.storage_mgmt.models", "rg_model": "batchai_compat.resource.models",
                   "file": "batchai_compat.storage.models", "spc": "batchai_compat.credentials"}


@pytest.mark.parametrize("how", ["argument", "environment", "config file"])
def test_azureml_backend_leaves_the_real_packages_alone(home, how):
    arg, extra = "", {}
    if how == "argument":
        arg = "backend='azureml'"
    elif how == "environment":
        extra = {"BATCHAI_COMPAT_BACKEND": "azureml"}
    else:
        (home / "config.json").write_text(json.dumps({"backend": "azureml"}))
    got = _run(PROBE.format(arg=arg), home, extra)
    assert got["resource"].startswith("azure.mgmt.resource.")
    assert got["storage"].startswith("azure.mgmt.storage.")
    assert got["storage_models"].startswith("azure.mgmt.storage.")
    # The Batch AI, storage and credentials names are aliased on every backend, as before.
    assert (got["file"], got["spc"]) == ("batchai_compat.storage.models", "batchai_compat.credentials")


def test_an_explicit_local_argument_wins_over_the_environment(home):
    got = _run(PROBE.format(arg="backend='local'"), home, {"BATCHAI_COMPAT_BACKEND": "azureml"})
    assert got["resource"] == "batchai_compat.resource"


def test_already_imported_real_modules_are_replaced_and_uninstall_restores(home):
    code = """
import json, warnings
import azure.mgmt.resource as before
import batchai_compat
from batchai_compat._install import uninstall
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    batchai_compat.install()
import azure.mgmt.resource as during
uninstall()
import azure.mgmt.resource as after
print(json.dumps({"warned": any("azure.mgmt.resource" in str(w.message) for w in caught),
                  "during": during.ResourceManagementClient.__module__,
                  "after_is_real": after.ResourceManagementClient.__module__.startswith("azure.mgmt.resource.")}))
"""
    got = _run(code, home)
    assert got == {"warned": True, "during": "batchai_compat.resource", "after_is_real": True}


def test_import_batchai_compat_stays_light(home):
    code = """
import json, sys
import batchai_compat
new = ("batchai_compat.resource", "batchai_compat.storage_mgmt", "batchai_compat._mgmt", "batchai_compat.legacy")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(new))))
"""
    assert _run(code, home) == []
