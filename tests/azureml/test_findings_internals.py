"""Issue 12, finding 13: the backend's uses of private azureml-core internals live in one module
(``backends/azureml/_internals.py``), checked against a pinned azureml-core version range.

A different installed azureml-core fails :func:`test_installed_azureml_core_is_the_checked_range` with a message
saying what to re-check; the other tests keep every other module of the backend off private azureml
attributes and check that each internal still exists in the installed release.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from batchai_compat.backends.azureml import _internals

BACKEND = Path(_internals.__file__).resolve().parent
# Private azureml-core names the backend relies on (see the table in _internals.py).
PRIVATE = re.compile(r"\._run_dto\b|\._client\b|\._container\b|_get_operation_state|_create_in_cloud|_experiment_dto"
                     r"|_workspace_autorest_object|\._environment_variables\b|_base_sdk_common|"
                     r"_get_azureml_client_token|\b_get_workspace\b")


def test_installed_azureml_core_is_the_checked_range():
    version = _internals.installed_version()
    low, high = (".".join(map(str, v)) for v in _internals.CHECKED_VERSIONS)
    assert _internals.version_checked(version), (
        f"azureml-core {version} is installed, but the azureml backend's uses of azureml-core internals were checked "
        f"against {low} <= version < {high}: re-check each entry of batchai_compat/backends/azureml/_internals.py "
        "against this release's source, then widen CHECKED_VERSIONS")
    assert not _internals.version_checked("1.60.0") and not _internals.version_checked("1.62.0")


def test_no_other_backend_module_touches_azureml_internals():
    offenders = []
    for path in sorted(BACKEND.glob("*.py")):
        if path.name == "_internals.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if PRIVATE.search(code) and not code.lstrip().startswith(("\"", "'", "``")):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == [], "private azureml-core use outside _internals.py:\n" + "\n".join(offenders)


def test_every_wrapped_internal_exists_in_the_installed_release():
    from azureml._base_sdk_common import tracking
    from azureml.core import Environment, Experiment, Run, Workspace
    from azureml.core.authentication import TokenAuthentication
    from azureml.core.compute import ComputeTarget

    assert hasattr(ComputeTarget, "_get_operation_state")
    assert "_create_in_cloud" in inspect.signature(Experiment.__init__).parameters
    assert "self._run_dto" in inspect.getsource(Run) and "self._client" in inspect.getsource(Run)
    assert "_container" in inspect.getsource(Run)
    assert "_experiment_dto" in inspect.getsource(Experiment)
    assert "_workspace_autorest_object" in inspect.getsource(Workspace)
    assert Environment("e")._environment_variables == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}  # what is cleared
    assert hasattr(TokenAuthentication, "_get_azureml_client_token") and hasattr(TokenAuthentication, "_get_workspace")
    assert hasattr(tracking, "TrackingInfoProvider") and hasattr(tracking, "global_tracking_info_registry")
    from azureml._restclient.artifacts_client import ArtifactsClient

    assert hasattr(ArtifactsClient, "get_file_uri") and hasattr(ArtifactsClient, "get_files_by_artifact_prefix_id")
