"""``AzureMLBackend``: Batch AI operations delegated to azureml-core (SDK v1).

State lives in the Azure ML workspace, nothing is kept locally: clusters are AmlCompute targets
(original Batch AI settings in compute tags), experiments are Experiments, a job is a run tagged
``batchai.job_name`` whose properties hold the original job spec with secrets blanked. See
``docs/azureml-mapping.md`` (the specification) and :attr:`AzureMLBackend.notes` (the deviations).

azureml-core is imported lazily: constructing the backend (and the client) makes no network call
and imports nothing from azureml; the first operation does.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Dict, List, Optional

from batchai_compat.backends import errors
from batchai_compat.backends.base import (
    Backend,
    Body,
    ExperimentRef,
    FileServerRef,
    Operation,
    Page,
    WorkspaceRef,
    completed,
)

from . import _internals, clusters, translate
from . import auth as authmod
from .cluster_ops import ClusterOperations
from .config import WorkspaceMapping
from .errors import is_not_found, translated
from .paging import page
from .runs import JobOperations

logger = logging.getLogger("batchai_compat.azureml")


def warn(message: str) -> None:
    """One ``BatchAICompatWarning`` per degraded mapping, attributed to the user's line."""
    from batchai_compat.exceptions import warn_compat

    warn_compat(message)


class AzureMLBackend(ClusterOperations, JobOperations, Backend):
    """Batch AI on Azure Machine Learning.

    Options (client keyword arguments or ``options.azureml`` in the config file):

    :param auth: an azureml ``AbstractAuthentication`` to use instead of the client's credentials.
    :param workspace_map: Batch AI workspace → AML workspace (see :mod:`.config`).
    :param subscription_id, resource_group, workspace_name: override parts of the AML workspace.
    :param config: a ``config.json`` (or its directory) as ``Workspace.from_config`` reads.
    :param allow_workspace_create: let ``workspaces.create`` call ``Workspace.create`` (an ARM deployment
        of storage, Key Vault and App Insights: minutes, and costs money). Off by default.
    :param allow_workspace_delete: let ``workspaces.delete`` delete the AML workspace. Off by default.
    :param location: location for ``Workspace.create`` when the Batch AI call gives none.
    :param idle_seconds_before_scaledown: AmlCompute idle time for new clusters (Azure ML default 1800).
    :param cloud: azureml cloud name (``AzureCloud``...).
    """

    name = "azureml"
    notes: Dict[str, str] = {
        "workspaces.create": "partial: maps to an existing Azure ML workspace; Workspace.create (an ARM deployment "
                             "of storage, Key Vault and App Insights) only with allow_workspace_create=True",
        "workspaces.delete": "partial: refused unless allow_workspace_delete=True (it deletes the Azure ML "
                             "workspace, not its dependent resources)",
        "workspaces.list": "partial: lists the Azure ML workspaces of the subscription/resource group",
        "clusters.create": "partial: AmlCompute; nodeDeallocationOption, autoScale.initialNodeCount, marketplace "
                           "VM images and performance counters are ignored (warning); custom VM images are refused; "
                           "the setup task and cluster mounts are applied in every job's container (warning)",
        "clusters.update": "partial: nodeDeallocationOption is not kept",
        "clusters.list_remote_login_information": "partial: only when the cluster was created with "
                                                  "userAccountSettings (remote login port enabled)",
        "experiments.delete": "partial: runs are canceled and the experiment deleted when Azure ML allows it, "
                              "else archived (warning); run history stays in Azure ML",
        "jobs.create": "partial: every job runs in a container (default image without containerSettings); "
                       "multi-node jobs spread over the nodes (one launcher per node), but "
                       "$AZ_BATCHAI_SHARED_JOB_TEMP is per node (warned for Caffe2 and jobs naming it); "
                       "schedulingPriority ignored",
        "jobs.delete": "partial: Azure ML runs cannot be deleted: the run is canceled and hidden (tag "
                       "batchai.deleted); its history stays in Azure ML",
        "jobs.list_output_files": "partial: outputs are Azure ML run artifacts (./outputs is uploaded when the "
                                  "job ends, stdouterr while it runs); linkexpiryinminutes is ignored",
        "jobs.list_remote_login_information": "partial: the nodes Azure ML reports for the run",
        "file_servers.create": "unsupported: Azure ML has no managed NFS server (use Azure Files/NetApp Files)",
        "file_servers.get": "unsupported: always ResourceNotFound",
        "file_servers.delete": "unsupported: always ResourceNotFound",
        "file_servers.list_by_workspace": "partial: always empty",
        "mounts.file_servers": "unsupported: NotSupported error",
        "mounts.unmanaged_file_systems": "unsupported: NotSupported error",
        "usages.list": "partial: Azure ML vCPU quotas of the subscription",
        "toolkit.tensor_flow": "yes: per-role arguments and placement on the nodes' addresses as in Batch AI",
        "toolkit.horovod": "yes: one mpirun from node 0 over the nodes (needs ssh between them)",
        "toolkit.custom_mpi": "yes: one mpirun from node 0 over the nodes (needs ssh between them)",
        "toolkit.py_torch": "partial: multi-node gloo/nccl rendezvous is tcp:// on node 0 instead of file://",
        "toolkit.cntk": "partial: needs containerSettings (no curated images)",
        "toolkit.caffe": "partial: needs containerSettings (no curated images)",
        "toolkit.caffe2": "partial: needs containerSettings (no curated images); multi-node file-store "
                          "rendezvous needs a shared job temp directory (per node on Azure ML)",
        "toolkit.chainer": "partial: needs containerSettings (no curated images)",
    }

    def __init__(self, auth: Any = None, workspace_map: Optional[Dict[str, Any]] = None,
                 subscription_id: Optional[str] = None, resource_group: Optional[str] = None,
                 workspace_name: Optional[str] = None, config: Optional[str] = None,
                 allow_workspace_create: bool = False, allow_workspace_delete: bool = False,
                 location: Optional[str] = None, idle_seconds_before_scaledown: Optional[int] = None,
                 cloud: str = authmod.DEFAULT_CLOUD) -> None:
        self.mapping = WorkspaceMapping(workspace_map, subscription_id, resource_group, workspace_name, config)
        self.allow_workspace_create = bool(allow_workspace_create)
        self.allow_workspace_delete = bool(allow_workspace_delete)
        self.default_location = location
        self.idle_seconds = idle_seconds_before_scaledown
        self.cloud = cloud
        self._explicit_auth = auth
        self._credentials: Any = None
        self._auth: Any = None
        self._workspaces: Dict[tuple, Any] = {}
        self._cluster_settings: Dict[tuple, Dict[str, Any]] = {}
        self._computes: Dict[tuple, Any] = {}
        self._vm_sizes: Dict[tuple, Dict[str, Any]] = {}  # (AML workspace, location) -> {vm size: vmSizes entry}
        self._scales: Dict[tuple, Body] = {}  # scaleSettings last asked for, per cluster (this process)
        self._experiments: set = set()  # (AML workspace, name) of experiments seen to exist
        self._job_runs: Dict[tuple, str] = {}  # (AML workspace, experiment, job) -> run id created or found
        self._lock = threading.RLock()

    # -- lifecycle -----------------------------------------------------------------------------
    def attach_client(self, credentials: Any, subscription_id: str) -> None:
        self._credentials = credentials
        logger.debug("azureml backend: will authenticate with %s",
                     authmod.describe(credentials, self._explicit_auth))

    def close(self) -> None:
        self._workspaces.clear()

    def aml_auth(self) -> Any:
        with self._lock:
            if self._auth is None:
                _internals.check_version()
                self._auth = authmod.build_auth(self._credentials, self._explicit_auth, self.cloud)
            return self._auth

    # -- workspaces ----------------------------------------------------------------------------
    def workspace(self, ref: WorkspaceRef, fresh: bool = False) -> Any:
        """The azureml ``Workspace`` for a Batch AI workspace (cached; one ARM GET the first time)."""
        ref = WorkspaceRef(*ref[:3])
        target = self.mapping.target(ref)
        with self._lock:
            cached = self._workspaces.get(target)
        if cached is not None and not fresh:
            return cached
        from azureml.core import Workspace

        with translated("Workspace", ref.workspace):
            ws = Workspace(target[0], target[1], target[2], auth=self.aml_auth())
        with self._lock:
            self._workspaces[target] = ws
        return ws

    def _workspace_body(self, ref: WorkspaceRef, ws: Any, tags: Optional[Dict[str, str]] = None) -> Body:
        # Read the ARM answer already held: ws.tags would GET the workspace again when it has no tags.
        details = _internals.workspace_details(ws)
        created = translate.iso(getattr(details, "creation_time", None)) if details is not None else None
        if tags is None:
            tags = (getattr(details, "tags", None) if details is not None else ws.tags) or None
        location = getattr(details, "location", None) if details is not None else None
        return translate.workspace_body(ref, location or ws.location, tags, created)

    def create_workspace(self, ref: WorkspaceRef, body: Body) -> Operation:
        try:
            ws = self.workspace(ref, fresh=True)
        except errors.NotFound:
            ws = self._create_aml_workspace(ref, body)
        else:
            tags = body.get("tags")
            if tags is not None and dict(tags) != dict(ws.tags or {}):
                with translated("Workspace", ref.workspace):
                    updated = ws.update(tags=dict(tags))
                return completed(self._workspace_body(ref, ws, dict(updated.get("tags") or {})))
        return completed(self._workspace_body(ref, ws))

    def _create_aml_workspace(self, ref: WorkspaceRef, body: Body) -> Any:
        target = self.mapping.target(ref)
        if not self.allow_workspace_create:
            raise errors.NotSupported(
                "WorkspaceCreationDisabled",
                f"The Azure ML workspace {target[2]!r} (subscription {target[0]}, resource group {target[1]}) does "
                "not exist. The azureml backend maps Batch AI workspaces onto existing Azure ML workspaces: create "
                "one (portal, az ml workspace create) or map this workspace to one with the workspace_map= / "
                "workspace_name= / config= backend options, or pass allow_workspace_create=True to let "
                "workspaces.create run Workspace.create (an ARM deployment of storage, Key Vault and Application "
                "Insights that takes minutes and costs money).")
        from azureml.core import Workspace

        warn(f"workspaces.create: creating Azure ML workspace {target[2]!r} with Workspace.create (storage, Key "
             "Vault and Application Insights are deployed too)")
        with translated("Workspace", ref.workspace):
            ws = Workspace.create(target[2], auth=self.aml_auth(), subscription_id=target[0],
                                  resource_group=target[1], location=body.get("location") or self.default_location,
                                  create_resource_group=False, tags=body.get("tags"), exist_ok=True,
                                  show_output=False)
        with self._lock:
            self._workspaces[target] = ws
        return ws

    def get_workspace(self, ref: WorkspaceRef) -> Body:
        return self._workspace_body(ref, self.workspace(ref, fresh=True))

    def update_workspace(self, ref: WorkspaceRef, body: Body) -> Body:
        ws = self.workspace(ref, fresh=True)
        with translated("Workspace", ref.workspace):
            updated = ws.update(tags=dict(body.get("tags") or {}))
        return self._workspace_body(ref, ws, dict(updated.get("tags") or {}))

    def delete_workspace(self, ref: WorkspaceRef) -> Operation:
        target = self.mapping.target(ref)
        if not self.allow_workspace_delete:
            raise errors.NotSupported(
                "WorkspaceDeletionDisabled",
                f"workspaces.delete would delete the Azure ML workspace {target[2]!r} with all its runs, models "
                "and compute. The azureml backend refuses unless the client is built with "
                "allow_workspace_delete=True; delete clusters and experiments individually instead.")
        ws = self.workspace(ref, fresh=True)
        warn(f"workspaces.delete: deleting Azure ML workspace {target[2]!r}; its storage account, Key Vault and "
             "Application Insights are kept")
        with translated("Workspace", ref.workspace):
            ws.delete(delete_dependent_resources=False, no_wait=False)
        with self._lock:
            self._workspaces.pop(target, None)
        return completed(None, accepted=True)

    def list_workspaces(self, subscription_id: str, resource_group: Optional[str], max_results: int,
                        continuation: Optional[str]) -> Page:
        from azureml.core import Workspace

        with translated("ResourceGroup", resource_group or subscription_id):
            found = Workspace.list(subscription_id, auth=self.aml_auth(), resource_group=resource_group)
        bodies = []
        for name in sorted(found):
            for ws in found[name]:
                batchai_name = self.mapping.batchai_name(ws.subscription_id, ws.resource_group, ws.name)
                if batchai_name is None:
                    continue
                ref = WorkspaceRef(ws.subscription_id, ws.resource_group, batchai_name)
                bodies.append(self._workspace_body(ref, ws))
        return page(bodies, max_results, continuation)

    # -- experiments ---------------------------------------------------------------------------
    def _find_experiment(self, ref: ExperimentRef) -> Any:
        from azureml.core import Experiment

        ws = self.workspace(ref.workspace_ref)
        with translated("Experiment", ref.experiment):
            found = Experiment.list(ws, experiment_name=ref.experiment)
        # Checked, not trusted: a server that ignored the name filter must not make another experiment pass.
        found = [e for e in found or [] if str(e.name).lower() == ref.experiment.lower()]
        if not found:
            raise errors.not_found("Experiment", ref.experiment)
        self._experiment_seen(ref, True)
        return found[0]

    def _experiment_seen(self, ref: ExperimentRef, exists: bool) -> None:
        key = (self.mapping.target(ref.workspace_ref), ref.experiment)
        with self._lock:
            (self._experiments.add if exists else self._experiments.discard)(key)

    def experiment_known(self, ref: ExperimentRef) -> bool:
        """Whether this backend saw the experiment exist (created, got or listed it, never deleted it)."""
        with self._lock:
            return (self.mapping.target(ref.workspace_ref), ref.experiment) in self._experiments

    @staticmethod
    def _experiment_created(exp: Any) -> Optional[str]:
        return translate.iso(_internals.experiment_created(exp))

    def create_experiment(self, ref: ExperimentRef) -> Operation:
        from azureml.core import Experiment

        ws = self.workspace(ref.workspace_ref)
        with translated("Experiment", ref.experiment):
            exp = Experiment(ws, ref.experiment)  # get-or-create
        self._experiment_seen(ref, True)
        return completed(translate.experiment_body(ref, self._experiment_created(exp)))

    def get_experiment(self, ref: ExperimentRef) -> Body:
        exp = self._find_experiment(ref)
        return translate.experiment_body(ref, self._experiment_created(exp))

    def delete_experiment(self, ref: ExperimentRef) -> Operation:
        from azureml.core import Experiment

        exp = self._find_experiment(ref)
        self._experiment_seen(ref, False)
        self.hide_experiment_runs(exp)
        with translated("Experiment", ref.experiment):
            try:
                Experiment.delete(exp.workspace, exp.id)
            except Exception as exc:  # non-empty experiments cannot be deleted: archive instead
                if is_not_found(exc):
                    raise
                warn(f"experiments.delete: Azure ML refused to delete experiment {ref.experiment!r} (it has runs); "
                     "it was archived instead: its jobs are hidden from Batch AI calls but their run history "
                     "stays in Azure ML")
                exp.archive()
        return completed(None, accepted=True)

    def list_experiments(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        from azureml.core import Experiment

        ws = self.workspace(ref)
        with translated("Workspace", ref.workspace):
            found = Experiment.list(ws)
        bodies = [translate.experiment_body(ExperimentRef(*ref, e.name), self._experiment_created(e))
                  for e in sorted(found, key=lambda e: e.name)]
        for body in bodies:
            self._experiment_seen(ExperimentRef(*ref, body["name"]), True)
        return page(bodies, max_results, continuation)

    # -- file servers --------------------------------------------------------------------------
    def create_file_server(self, ref: FileServerRef, body: Body) -> Operation:
        raise errors.NotSupported("FileServersNotSupported",
                                  f"file_servers.create {ref.file_server}: {clusters.FILE_SERVER_HINT}")

    def get_file_server(self, ref: FileServerRef) -> Body:
        raise errors.not_found("FileServer", ref.file_server)

    def delete_file_server(self, ref: FileServerRef) -> Operation:
        raise errors.not_found("FileServer", ref.file_server)

    def list_file_servers(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page:
        return Page([])

    # -- usages --------------------------------------------------------------------------------
    def _any_workspace(self, subscription_id: str) -> Any:
        with self._lock:
            for target, ws in self._workspaces.items():
                if target[0] == subscription_id:
                    return ws
        if self.mapping.configured and self.mapping.config:
            cfg = self.mapping.config
            return self.workspace(WorkspaceRef(cfg["subscription_id"], cfg["resource_group"],
                                               cfg["workspace_name"]))
        from azureml.core import Workspace

        with translated("Subscription", subscription_id):
            found = Workspace.list(subscription_id, auth=self.aml_auth())
        for workspaces in found.values():
            if workspaces:
                return workspaces[0]
        raise errors.NotFound("WorkspaceNotFound", f"usages.list needs an Azure ML workspace in subscription "
                                                   f"{subscription_id} (Azure ML reads quotas through one); none found")

    def list_usages(self, subscription_id: str, location: str) -> List[Body]:
        from azureml.core.compute import AmlCompute

        ws = self._any_workspace(subscription_id)
        with translated("Location", location):
            usages = AmlCompute.list_usages(ws, show_all=False, location=location)
        result = []
        for usage in usages:
            name = usage.get("name") or {}
            result.append({"unit": usage.get("unit") or "Count", "currentValue": int(usage.get("currentValue") or 0),
                           "limit": int(usage.get("limit") or 0),
                           "name": {"value": name.get("value"), "localizedValue": name.get("localizedValue")}})
        return result
