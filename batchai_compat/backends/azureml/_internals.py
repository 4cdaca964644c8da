"""Every use of a private azureml-core (SDK v1) internal, in one place.

The backend needs a few things azureml-core has no public call for, or only one that costs requests the
backend does not need. Each is wrapped here, with the reason and the public alternative when there is one;
no other module of the backend touches an underscored azureml attribute. They were checked against the
azureml-core versions in :data:`CHECKED_VERSIONS` (``tests/azureml/test_findings_internals.py`` pins it: a
different installed version fails that test with a message naming this module). At run time, another
version only warns once (``BatchAICompatWarning``): most releases keep these internals.

=================================  =========================================================================
internal                           why (public alternative)
=================================  =========================================================================
``Run._run_dto``                   status / times / error of a run already fetched (``get_details()``: one
                                   more GET per run and job)
``Run._client.artifacts``,         a run's file URLs by prefix, in one request (``get_file_names()`` +
``Run._container``                 ``download_file``: one request per file)
``Experiment(_create_in_cloud=)``  an Experiment object without a request (``Experiment(ws, name)``
                                   creates the experiment)
``Experiment._experiment_dto``     its creation time (no public attribute)
``Workspace._workspace_autorest_   the ARM answer already held (``ws.tags``/``ws.get_details()``: a GET)
object``
``ComputeTarget._get_operation_    the ARM provisioning operation only (``wait_for_completion`` also waits
state``                            for ``min_nodes`` nodes, which Batch AI's create did not)
``azureml._base_sdk_common.        run properties on the PATCH ``submit`` sends anyway (``add_properties``:
tracking``                         one more request per job; used as the fallback)
``TokenAuthentication.             an azure-identity credential serving Azure ML tokens too (no public
_get_azureml_client_token``,       hook)
``_get_workspace``
``Environment.                     an Environment without the ``EXAMPLE_ENV_VAR`` every new one carries
_environment_variables``           (the public setter logs "Property environment_variables is deprecated"
                                   on every call; the runtime variables are on ``RunConfiguration``)
=================================  =========================================================================
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, Dict, Optional, Tuple

# The azureml-core releases these internals were read in (azureml/core/run.py, experiment.py,
# workspace.py, compute/compute.py, authentication.py, _base_sdk_common/tracking.py): [low, high).
CHECKED_VERSIONS = ((1, 61, 0), (1, 62, 0))
_warned = threading.Event()


def version_tuple(text: str) -> Tuple[int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", text)[:3]]
    while len(numbers) < 3:
        numbers.append(0)
    return numbers[0], numbers[1], numbers[2]


def installed_version() -> str:
    from azureml.core import VERSION

    return str(VERSION)


def version_checked(version: Optional[str] = None) -> bool:
    low, high = CHECKED_VERSIONS
    return low <= version_tuple(version or installed_version()) < high


def check_version() -> None:
    """Warn once when the installed azureml-core is not one these internals were checked against."""
    if _warned.is_set() or version_checked():
        return
    _warned.set()
    from batchai_compat.exceptions import warn_compat

    low, high = CHECKED_VERSIONS
    warn_compat(f"azureml-core {installed_version()} is installed; the azureml backend's uses of azureml-core "
                f"internals (batchai_compat/backends/azureml/_internals.py) were checked against "
                f"{'.'.join(map(str, low))} <= version < {'.'.join(map(str, high))}")


# -- runs ------------------------------------------------------------------------------------------
def run_dto(run: Any) -> Dict[str, Any]:
    """The run's DTO as fetched with it (``status``, ``created_utc``, ``start_time_utc``, ``end_time_utc``,
    ``error``), as a dict-like; ``{}`` when absent."""
    dto = getattr(run, "_run_dto", None)
    return dto if dto is not None and hasattr(dto, "get") else {}


def run_file_uri(run: Any, path: str) -> str:
    """A download URL of one of the run's artifacts."""
    return str(run._client.artifacts.get_file_uri("ExperimentRun", run._container, path))


def run_files_by_prefix(run: Any, prefix: str) -> Any:
    """``[(artifact path, download URL)]`` of the run's artifacts under ``prefix``, in one request."""
    return run._client.artifacts.get_files_by_artifact_prefix_id(f"ExperimentRun/{run._container}/{prefix}")


# -- experiments and workspaces ------------------------------------------------------------------
def experiment_without_request(ws: Any, name: str) -> Any:
    from azureml.core import Experiment

    return Experiment(ws, name, _create_in_cloud=False)


def experiment_created(exp: Any) -> Any:
    dto = getattr(exp, "_experiment_dto", None)
    return getattr(dto, "created_utc", None) if dto is not None else None


def workspace_details(ws: Any) -> Any:
    """The ARM workspace object azureml-core already holds (``creation_time``, ``tags``, ``location``)."""
    return getattr(ws, "_workspace_autorest_object", None)


# -- compute ---------------------------------------------------------------------------------------
def operation_state(ct: Any) -> Tuple[Any, Any]:
    """``(state, error)`` of the compute's last ARM operation (create/delete)."""
    state, error = ct._get_operation_state()
    return state, error


# -- submission --------------------------------------------------------------------------------------
def tracking_hook() -> Optional[Tuple[type, Any]]:
    """``(TrackingInfoProvider, global_tracking_info_registry)``, or None if this azureml-core has none."""
    try:
        from azureml._base_sdk_common.tracking import TrackingInfoProvider, global_tracking_info_registry
    except ImportError:
        return None
    return TrackingInfoProvider, global_tracking_info_registry


# -- environments ------------------------------------------------------------------------------------
def clear_environment_variables(env: Any) -> None:
    """Drop the variables of an ``Environment`` (a new one has ``{"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}``, which
    every process of the run would see). azureml-core 1.61's only public way is the ``environment_variables``
    setter, deprecated (it logs a warning each time, azureml/core/environment.py) in favour of
    ``RunConfiguration.environment_variables``, where the backend puts the job's variables; the Environment's
    own dict has no public non-deprecated writer, so the field is set here."""
    env._environment_variables = {}


# -- authentication ----------------------------------------------------------------------------------
def credential_authentication(get_token_for_audience: Callable[[str], str], cloud: str) -> Any:
    """``TokenAuthentication`` that also serves the Azure ML client token from the same credential."""
    from azureml.core.authentication import TokenAuthentication

    class _CredentialAuthentication(TokenAuthentication):
        def _get_azureml_client_token(self) -> str:
            return self._get_arm_token()

        def _get_workspace(self, subscription_id: Any, resource_group: Any, name: Any) -> None:
            return None

    return _CredentialAuthentication(get_token_for_audience, cloud=cloud)
