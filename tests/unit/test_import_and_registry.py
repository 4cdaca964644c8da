"""Import cost rules and backend selection order."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

import batchai_compat
from batchai_compat.backends import registry
from batchai_compat.exceptions import BackendNotAvailableError

from .scripted_backend import ScriptedBackend


def test_import_does_not_load_azureml_or_storage_sdks():
    code = (
        "import sys, batchai_compat, batchai_compat.models;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('azureml',) or m.startswith('azure.storage')];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# What users import first, each in a fresh interpreter: no import cycle may depend on another module having
# been imported before (``import batchai_compat`` defers the client, so it no longer hides one).
FIRST_IMPORTS = [
    "import batchai_compat.v2018_03_01 as batchai; batchai.BatchAIManagementClient",
    "import batchai_compat.v2017_09_01_preview as batchai; batchai.BatchAIManagementClient",
    "import batchai_compat.v7 as batchai; batchai.BatchAI",
    "import batchai_compat.models as models; models.ClusterCreateParameters",
    "import batchai_compat.operations; batchai_compat.operations.JobsOperations",
    "from batchai_compat import BatchAIManagementClient",
    "import batchai_compat.resource, batchai_compat.storage_mgmt, batchai_compat.storage, batchai_compat.legacy",
    "import batchai_compat._generations",
]


@pytest.mark.parametrize("statement", FIRST_IMPORTS)
def test_every_entry_module_imports_first_in_a_fresh_interpreter(statement):
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_the_package_import_defers_the_client_and_msrest():
    deferred = "('msrest', 'requests', 'batchai_compat._client')"
    assert _run(f"import sys, batchai_compat; print(sorted(m for m in {deferred} if m in sys.modules))") == "[]"
    code = "import batchai_compat as b; print(b.BatchAIManagementClient.__module__, 'install' in dir(b))"
    assert _run(code) == "batchai_compat._client True"


def test_backend_instance_is_used_as_is():
    backend = ScriptedBackend()
    client = batchai_compat.BatchAIManagementClient(object(), "sub", backend=backend)
    assert client.backend is backend


def test_selection_order_argument_env_config_default(monkeypatch, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"backend": "from-config"}))
    monkeypatch.setenv("BATCHAI_COMPAT_CONFIG", str(config))
    monkeypatch.setenv("BATCHAI_COMPAT_BACKEND", "from-env")
    assert registry.resolve("from-arg") == ("from-arg", "the backend= argument")
    assert registry.resolve(None)[0] == "from-env"
    monkeypatch.delenv("BATCHAI_COMPAT_BACKEND")
    assert registry.resolve(None)[0] == "from-config"
    config.unlink()
    assert registry.resolve(None) == ("local", "the default")


def test_malformed_config_fails_loudly(monkeypatch, tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{not json")
    monkeypatch.setenv("BATCHAI_COMPAT_CONFIG", str(config))
    with pytest.raises(ValueError, match="not valid JSON"):
        registry.resolve(None)


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(ValueError, match="known backends: .*azureml.*local"):
        registry.get_backend("nonexistent")


def test_missing_optional_dependency_gives_install_hint(monkeypatch):
    monkeypatch.setitem(
        registry.KNOWN_BACKENDS,
        "phantom",
        {"class": "batchai_compat_phantom_pkg:Backend", "err": "pip install phantom"},
    )
    with pytest.raises(BackendNotAvailableError, match="pip install phantom"):
        registry.get_backend("phantom")


def test_choice_is_logged_once(caplog):
    registry._logged.clear()
    with caplog.at_level(logging.INFO, logger="batchai_compat"):
        for _ in range(3):
            batchai_compat.BatchAIManagementClient(object(), "sub", backend=ScriptedBackend())
    assert sum("backend" in r.getMessage() for r in caplog.records) == 1


def test_compat_warnings_point_at_the_users_line(tmp_path):
    import warnings

    import batchai_compat.models as models
    from batchai_compat.exceptions import BatchAICompatWarning

    client = batchai_compat.BatchAIManagementClient(object(), "sub", home=tmp_path)
    client.workspaces.create("rg", "ws", "eastus").result()
    client.experiments.create("rg", "ws", "exp").result()
    client.clusters.create(
        "rg",
        "ws",
        "c",
        models.ClusterCreateParameters(
            vm_size="STANDARD_D1",
            user_account_settings=models.UserAccountSettings(admin_user_name="u"),
            scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=0)),
        ),
    ).result()
    parameters = models.JobCreateParameters(
        cluster=models.ResourceId(
            id="/subscriptions/sub/resourceGroups/rg/providers/Microsoft.BatchAI/workspaces/ws/clusters/c"
        ),
        node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_JOB_TEMP",
        container_settings=models.ContainerSettings(image_source_registry=models.ImageSourceRegistry(image="ubuntu")),
        custom_toolkit_settings=models.CustomToolkitSettings(command_line="true"),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.jobs.create("rg", "ws", "exp", "job", parameters)  # the line the warning must name
    compat = [w for w in caught if issubclass(w.category, BatchAICompatWarning)]
    assert len(compat) == 1 and "ubuntu" in str(compat[0].message)
    assert compat[0].filename == __file__
