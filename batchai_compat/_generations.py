"""Client generations: the pre-workspace surfaces (azure-mgmt-batchai 0.2.0 and 1.0.x) on the 2018-05-01 backends.

One obvious line picks a generation::

    import batchai_compat.v2017_09_01_preview as batchai   # azure-mgmt-batchai 0.2.0 (2017-09-01-preview)
    import batchai_compat.v2018_03_01 as batchai           # azure-mgmt-batchai 1.0.x (2018-03-01)
    import batchai_compat as batchai                       # azure-mgmt-batchai 2.0.0 (2018-05-01)

Those APIs had no workspaces and no experiments: clusters, file servers and jobs lived directly in a
resource group. Every pre-workspace call is mapped onto the **default workspace** ``default`` of the
same resource group and, for jobs, its **default experiment** ``default`` (:data:`DEFAULT_WORKSPACE`,
:data:`DEFAULT_EXPERIMENT`). They are created on first use, the workspace in the ``location`` of the
create parameters. So old and new code see the same resources: a 2.0.0 client listing workspace
``default`` sees the cluster a 0.2.0-style ``clusters.create(rg, name, params)`` made, and an old client
sees the clusters a new client created in that workspace (and only those).

This module is the ONE place where old-shape bodies are translated to and from the 2018-05-01 wire
bodies the backends take (:class:`Translator`), and where the old operation groups are built on the
2.0.0 operation layer (``batchai_compat.operations._base.OperationGroup``: validation, pollers, pages).
Deviations (each also in ``docs/compatibility.md``, "Client generations"):

* ``location``: the workspace's. A create whose ``location`` differs from the existing default
  workspace's is accepted; the resource reports the workspace's location.
* ``tags`` of clusters, jobs and file servers are not kept (2018-05-01 resources have none): they read
  back as ``None``.
* ``priority`` (an int, -1000..1000) becomes 2018-05-01's ``schedulingPriority``: below 0 ``low``, 0
  ``normal``, above 0 ``high``; read back as -1000, 0 and 1000.
* ``experimentName`` (a free label in those APIs) is not kept; ``setupTask.runElevated`` and the output
  directories' ``type`` / ``createNew`` are not kept (2018-05-01 dropped them; nodes run as the
  current user, output directories are always created).
* ``EnvironmentSetting`` without a value (0.2.0 allowed it) is sent with the empty string.
* Names: the old SDKs' pattern let ``.`` through in cluster, job and file-server names; the default
  workspace holds 2018-05-01 resources, so such names get the service's ``InvalidResourceName``.
* ``$filter`` / ``$select`` of the list operations are not implemented: a value raises
  ``BatchAICompatNotSupportedError``.
* 0.2.0's list_output_files lists the files directly in the output directory (no subdirectories;
  the 2017-09-01-preview service's answer for nested outputs was not recorded).
* 0.2.0's long-running operations return msrest's ``LROPoller`` (``result``/``wait``/``done``/
  ``add_done_callback`` as before) instead of msrestazure 0.4's ``AzureOperationPoller``.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from batchai_compat._generation_hints import PRE_WORKSPACE_HINT, install_pre_workspace_hints  # noqa: F401 (re-exported)
from batchai_compat.backends.base import (
    ClusterRef,
    ExperimentRef,
    FileServerRef,
    JobRef,
    Operation,
    OperationState,
    Page,
    WorkspaceRef,
)
from batchai_compat.backends.errors import BackendError, Conflict, NotFound, NotSupported, not_found
from batchai_compat.operations._base import LINK_EXPIRY, MAX_RESULTS, RESOURCE_GROUP, OperationGroup

DEFAULT_WORKSPACE = "default"
DEFAULT_EXPERIMENT = "default"

#: models package -> (REST API version, azure-mgmt-batchai release, module a user imports)
GENERATIONS: Dict[str, Tuple[str, str, str]] = {
    "batchai_compat.models": ("2018-05-01", "2.0.0", "batchai_compat"),
    "batchai_compat.v2018_03_01.models": ("2018-03-01", "1.0.x", "batchai_compat.v2018_03_01"),
    "batchai_compat.v2017_09_01_preview.models": ("2017-09-01-preview", "0.2.0", "batchai_compat.v2017_09_01_preview"),
}

# The old APIs' name pattern (path parameters): dots allowed, unlike 2018-05-01's.
OLD_NAME = {"max_length": 64, "min_length": 1, "pattern": r"^[-\w\._]+$"}
LOCATION = {"pattern": r"^[-\w\._]+$"}


# --------------------------------------------------------------------------------------- mixing errors


def model_generation(obj: Any) -> Optional[str]:
    """The models package of a batchai_compat model instance, or ``None`` for anything else."""
    module = type(obj).__module__
    for package in GENERATIONS:
        if module == package or module.startswith(package + "."):
            return package
    return None


def check_model_generation(obj: Any, expected_package: str) -> None:
    """``TypeError`` when a model of another client generation is passed to a client.

    msrest would serialize it with its own attribute map (a 0.2.0 ``JobCreateParameters`` carries
    ``location`` and ``EnvironmentSetting`` lists) and the request would mean something else."""
    package = model_generation(obj)
    if package is None or package == expected_package:
        return
    api, sdk, module = GENERATIONS[package]
    want_api, want_sdk, want_module = GENERATIONS[expected_package]
    raise TypeError(
        f"{type(obj).__name__} is a {package} model: the azure-mgmt-batchai {sdk} ({api}) shape; this client is "
        f"the {want_sdk} ({want_api}) one. Build the model from {expected_package}, or use "
        f"{module}.BatchAIManagementClient for {sdk} code.")


NEW_SHAPE_HINT = ("this is the azure-mgmt-batchai 2.0.0 shape (workspace and experiment names); "
                  "use batchai_compat.BatchAIManagementClient")


# ------------------------------------------------------------------------------------------ bodies

_PROVIDER = r"(?P<base>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.BatchAI)"
_OLD_ID = re.compile(_PROVIDER + r"/(?P<kind>clusters|fileservers|jobs)/(?P<name>[^/]+)$", re.IGNORECASE)
_NEW_ID = re.compile(_PROVIDER + r"/workspaces/" + DEFAULT_WORKSPACE
                     + r"(?:/experiments/" + DEFAULT_EXPERIMENT + r")?"
                     + r"/(?P<kind>clusters|fileservers|jobs)/(?P<name>[^/]+)$",
                     re.IGNORECASE)
# The type strings of the pre-workspace resources (``Microsoft.BatchAI/Clusters`` as recorded by the CLI).
_OLD_TYPES = {"clusters": "Microsoft.BatchAI/Clusters", "jobs": "Microsoft.BatchAI/Jobs",
              "fileservers": "Microsoft.BatchAI/FileServers"}
_PRIORITY_TO_NEW = (("low", lambda p: p < 0), ("high", lambda p: p > 0), ("normal", lambda p: True))
_PRIORITY_TO_OLD = {"low": -1000, "normal": 0, "high": 1000}


def old_to_new_id(arm_id: Any) -> Any:
    """``.../providers/Microsoft.BatchAI/clusters/c`` -> ``.../workspaces/default/clusters/c`` (jobs also
    get ``/experiments/default``); any other id (a 2018-05-01 id, a subnet) is returned unchanged."""
    if not isinstance(arm_id, str):
        return arm_id
    match = _OLD_ID.match(arm_id)
    if not match:
        return arm_id
    kind = match.group("kind").lower()
    middle = f"/workspaces/{DEFAULT_WORKSPACE}" + (f"/experiments/{DEFAULT_EXPERIMENT}" if kind == "jobs" else "")
    return f"{match.group('base')}{middle}/{match.group('kind')}/{match.group('name')}"


def new_to_old_id(arm_id: Any) -> Any:
    """The inverse of :func:`old_to_new_id` for resources of the default workspace/experiment."""
    if not isinstance(arm_id, str):
        return arm_id
    match = _NEW_ID.match(arm_id)
    if not match:
        return arm_id
    return f"{match.group('base')}/{match.group('kind')}/{match.group('name')}"


class Translator:
    """Old-shape (2017-09-01-preview / 2018-03-01) wire bodies <-> 2018-05-01 wire bodies."""

    def __init__(self, api_version: str) -> None:
        self.api_version = api_version
        self.preview = api_version == "2017-09-01-preview"

    # -- requests ---------------------------------------------------------------------------------
    @staticmethod
    def split_create(body: Dict[str, Any]) -> Tuple[Optional[str], Dict[str, Any]]:
        """(location, 2018-05-01 body) of a ``*CreateParameters`` body; ``tags`` are not kept."""
        body = dict(body)
        location = body.pop("location", None)
        body.pop("tags", None)
        props = dict(body.get("properties") or {})
        body["properties"] = props
        return location, body

    def cluster_request(self, body: Dict[str, Any]) -> Tuple[Optional[str], Dict[str, Any]]:
        location, new = self.split_create(body)
        props = new["properties"]
        setup = (props.get("nodeSetup") or {}).get("setupTask")
        if setup is not None:
            setup = dict(setup)
            setup.pop("runElevated", None)
            setup["environmentVariables"] = self._variables(setup.get("environmentVariables"))
            props["nodeSetup"] = {**props["nodeSetup"], "setupTask": setup}
        if props.get("nodeSetup") and props["nodeSetup"].get("mountVolumes"):
            props["nodeSetup"] = {**props["nodeSetup"],
                                  "mountVolumes": self._mount_volumes(props["nodeSetup"]["mountVolumes"])}
        return location, _without_none(new)

    def file_server_request(self, body: Dict[str, Any]) -> Tuple[Optional[str], Dict[str, Any]]:
        location, new = self.split_create(body)
        return location, _without_none(new)

    def job_request(self, body: Dict[str, Any]) -> Tuple[Optional[str], Dict[str, Any]]:
        location, new = self.split_create(body)
        props = new["properties"]
        props.pop("experimentName", None)
        priority = props.pop("priority", None)
        if priority is not None:
            props["schedulingPriority"] = next(name for name, test in _PRIORITY_TO_NEW if test(int(priority)))
        cluster = props.get("cluster")
        if isinstance(cluster, dict):
            props["cluster"] = {**cluster, "id": old_to_new_id(cluster.get("id"))}
        if props.get("outputDirectories"):
            props["outputDirectories"] = [{k: v for k, v in d.items() if k not in ("type", "createNew")}
                                          for d in props["outputDirectories"]]
        props["environmentVariables"] = self._variables(props.get("environmentVariables"))
        if props.get("mountVolumes"):
            props["mountVolumes"] = self._mount_volumes(props["mountVolumes"])
        return location, _without_none(new)

    @staticmethod
    def cluster_update_request(body: Dict[str, Any]) -> Dict[str, Any]:
        body = dict(body)
        body.pop("tags", None)
        return body

    @staticmethod
    def _variables(variables: Optional[List[Dict[str, Any]]]) -> Optional[List[Dict[str, Any]]]:
        if variables is None:
            return None
        return [{**v, "value": "" if v.get("value") is None else v["value"]} for v in variables]

    @staticmethod
    def _mount_volumes(volumes: Dict[str, Any]) -> Dict[str, Any]:
        servers = volumes.get("fileServers")
        if not servers:
            return volumes
        mapped = [{**s, "fileServer": {**s["fileServer"], "id": old_to_new_id(s["fileServer"].get("id"))}}
                  if isinstance(s.get("fileServer"), dict) else s for s in servers]
        return {**volumes, "fileServers": mapped}

    # -- responses --------------------------------------------------------------------------------
    def resource_response(self, body: Optional[Dict[str, Any]], location: Optional[str]) -> Optional[Dict[str, Any]]:
        """A 2018-05-01 cluster / job / file-server body in the old shape (ids, type, location)."""
        if body is None:
            return None
        out = dict(body)
        match = _NEW_ID.match(out.get("id") or "")
        if match:
            out["id"] = new_to_old_id(out["id"])
            out["type"] = _OLD_TYPES[match.group("kind").lower()]
        out["location"] = location
        out.pop("tags", None)
        props = dict(out.get("properties") or {})
        props.pop("experimentName", None)  # the old free label is not kept; never report the default's name
        if "schedulingPriority" in props:
            props["priority"] = _PRIORITY_TO_OLD.get(props.pop("schedulingPriority"), 0)
        if isinstance(props.get("cluster"), dict):
            props["cluster"] = {**props["cluster"], "id": new_to_old_id(props["cluster"].get("id"))}
        for holder in (props, props.get("nodeSetup") or {}):
            servers = (holder.get("mountVolumes") or {}).get("fileServers") or []
            for server in servers:
                if isinstance(server.get("fileServer"), dict):
                    server["fileServer"] = {**server["fileServer"], "id": new_to_old_id(server["fileServer"].get("id"))}
        out["properties"] = props
        return out

    def file_response(self, body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """A 2018-05-01 ``File`` in the old shape; ``None`` for a directory in the 2017-09-01-preview API."""
        is_directory = body.get("fileType") == "directory"
        if self.preview and is_directory:
            return None
        out = {k: v for k, v in body.items() if k != "fileType"}
        if not self.preview:
            out["isDirectory"] = is_directory
        return out


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


class _Translated(Operation):
    """A backend operation whose bodies (initial and final) are shown in the old shape."""

    def __init__(self, inner: Operation, convert: Callable[[Optional[Dict[str, Any]]], Optional[Dict[str, Any]]]):
        self._inner = inner
        self._convert = convert
        self.initial = convert(inner.initial)
        self.delay = inner.delay

    def poll(self) -> OperationState:
        state = self._inner.poll()
        return OperationState(state.status, self._convert(state.resource), state.error)


# ---------------------------------------------------------------------------------- operation groups


class _ResourceNotFound:
    """The backend as the old groups call it: a missing default workspace or experiment is, for an old client,
    a missing cluster / job / file server (the service's ``ClusterNotFound`` ... answer), not a
    ``WorkspaceNotFound`` it cannot have caused."""

    _KINDS = ((ClusterRef, "Cluster", "cluster"), (JobRef, "Job", "job"), (FileServerRef, "FileServer", "file_server"))

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except NotFound as exc:
                if exc.code not in ("WorkspaceNotFound", "ExperimentNotFound"):
                    raise
                for ref_type, kind, field in self._KINDS:
                    ref = next((a for a in args if isinstance(a, ref_type)), None)
                    if ref is not None:
                        raise not_found(kind, getattr(ref, field)) from None
                raise

        return call


def _check_headers(method: Callable[..., Any]) -> Callable[..., Any]:
    """``custom_headers`` that is not a dict means a 2.0.0-shaped call (``get(rg, workspace, name)``): the
    original failed on ``dict.update(custom_headers)``; the same exception type, with :data:`NEW_SHAPE_HINT`."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        headers = signature.bind(*args, **kwargs).arguments.get("custom_headers")
        if headers is not None and not isinstance(headers, dict):
            try:
                {}.update(headers)
                raise TypeError(f"custom_headers must be a dict, not {type(headers).__name__}")
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{exc}: {NEW_SHAPE_HINT}") from None
        return method(*args, **kwargs)

    return call


class PreWorkspaceGroup(OperationGroup):
    """Shared machinery of the 0.2.0/1.0.x groups: refs into the default workspace, translation, lists."""

    api_version_of_generation = "2018-03-01"
    models_package = "batchai_compat.v2018_03_01.models"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, method in list(vars(cls).items()):
            if not name.startswith("_") and inspect.isfunction(method) \
                    and "custom_headers" in inspect.signature(method).parameters:
                setattr(cls, name, _check_headers(method))

    def __init__(self, client: Any, config: Any, serializer: Any, deserializer: Any, backend: Any) -> None:
        super().__init__(client, config, serializer, deserializer, backend)
        self._backend = _ResourceNotFound(self._backend)
        self.api_version = self.api_version_of_generation
        self._translate = Translator(self.api_version_of_generation)

    # -- refs -----------------------------------------------------------------------------------------
    def _names(self, resource_group_name: Any, name_param: str, name: Any) -> Tuple[str, str]:
        rg, value = self._validate_path(("resource_group_name", resource_group_name, RESOURCE_GROUP),
                                        (name_param, name, OLD_NAME))
        return rg, value

    def _workspace(self, rg: str) -> WorkspaceRef:
        return WorkspaceRef(self._subscription(), rg, DEFAULT_WORKSPACE)

    def _location(self, ref: WorkspaceRef) -> Optional[str]:
        try:
            return self._backend.get_workspace(ref).get("location")
        except NotFound:
            return None

    def _ensure_workspace(self, ref: WorkspaceRef, location: Optional[str]) -> None:
        """Create the default workspace (in ``location``) unless it exists; waits for it.

        Another client may create it in between (in another location): the workspace that exists wins,
        as when it existed before (``InvalidResourceLocation`` is not the old client's error)."""
        try:
            self._backend.get_workspace(ref)
            return
        except NotFound:
            pass
        try:
            _wait(self._backend.create_workspace(ref, {"location": location}))
        except Conflict as exc:
            if exc.code != "InvalidResourceLocation":
                raise

    def _ensure_experiment(self, ref: ExperimentRef) -> None:
        try:
            self._backend.get_experiment(ref)
        except NotFound:
            _wait(self._backend.create_experiment(ref))

    # -- lists ----------------------------------------------------------------------------------------
    def _odata(self, options: Any) -> Tuple[Optional[int], Callable[[], None]]:
        """``max_results`` and a check run at fetch time for ``$filter``/``$select`` (not implemented)."""
        max_results = getattr(options, "max_results", None) if options is not None else None
        odata = [n for n in ("filter", "select") if options is not None and getattr(options, n, None) is not None]

        def refuse() -> None:
            if odata:
                raise NotSupported("ODataNotSupported",
                                   f"${odata[0]} is not implemented by batchai_compat (the backends have no OData).")

        return max_results, refuse

    def _list(self, options: Any, options_model: Any, paged_class: Any, rg: Any, list_fn: Callable[..., Page],
              raw: bool, convert: Callable[[Dict[str, Any], Optional[str]], Optional[Dict[str, Any]]]) -> Any:
        """A ``list`` (rg is ``None``: every resource group's default workspace) or ``list_by_resource_group``."""
        options = self._options(options, options_model)
        max_results, refuse = self._odata(options)
        holder: Dict[str, Any] = {}

        def validate() -> None:
            if rg is not None:
                holder["rgs"] = [self._validate_path(("resource_group_name", rg, RESOURCE_GROUP))[0]]
            else:
                self._validate_subscription()
                holder["rgs"] = None
            if max_results is not None:
                self._validate_query("max_results", max_results, "int", **MAX_RESULTS)

        def fetch(token: Optional[str]) -> Page:
            refuse()
            rgs = holder["rgs"]
            if rgs is None:
                rgs = [w["id"].split("/")[4] for w in _all(lambda t: self._backend.list_workspaces(
                    self._subscription(), None, 1000, t)) if w.get("name", "").lower() == DEFAULT_WORKSPACE]
            items: List[Dict[str, Any]] = []
            for group in rgs:
                ref = self._workspace(group)
                try:
                    found = _all(functools.partial(list_fn, ref, 1000))
                except NotFound:
                    continue
                location = self._location(ref)
                items += [c for c in (convert(body, location) for body in found) if c is not None]
            start = int(token or 0)
            size = max_results or 1000
            rest = items[start + size:]
            return Page(items[start:start + size], str(start + size) if rest else None)

        return self._paged(paged_class, validate, fetch, raw)


def _all(fetch: Callable[[Optional[str]], Page]) -> List[Dict[str, Any]]:
    items: List[Dict[str, Any]] = []
    token: Optional[str] = None
    while True:
        page = fetch(token)
        items += page.value
        token = page.next_link
        if not token:
            return items


def _wait(operation: Operation) -> None:
    import time

    while True:
        state = operation.poll()
        if state.done:
            if state.status == "Failed":
                error = state.error or {}
                raise BackendError(error.get("code"), error.get("message", "The default workspace could not be made."))
            return
        time.sleep(operation.delay)


class ClustersOperations(PreWorkspaceGroup):
    """ClustersOperations of azure-mgmt-batchai 1.0.x (2018-03-01): clusters of a resource group.

    They live in the resource group's default workspace (see :mod:`batchai_compat._generations`)."""

    def _ref(self, resource_group_name: Any, cluster_name: Any) -> ClusterRef:
        rg, name = self._names(resource_group_name, "cluster_name", cluster_name)
        return ClusterRef(self._subscription(), rg, DEFAULT_WORKSPACE, name)

    def _out(self, ref: ClusterRef) -> Callable[[Optional[Dict[str, Any]]], Optional[Dict[str, Any]]]:
        return lambda body: self._translate.resource_response(body, self._location(ref.workspace_ref))

    def _create(self, resource_group_name, cluster_name, parameters, raw, polling):
        ref = self._ref(resource_group_name, cluster_name)
        location, body = self._translate.cluster_request(self._serialize_body(parameters, "ClusterCreateParameters"))

        def start() -> Operation:
            self._ensure_workspace(ref.workspace_ref, location)
            return _Translated(self._backend.create_cluster(ref, body), self._out(ref))

        return self._long_running(start, "Cluster", raw, polling)

    def create(self, resource_group_name, cluster_name, parameters, custom_headers=None, raw=False, polling=True,
               **operation_config):
        """Adds a cluster (in the resource group's default workspace, made in ``parameters.location``).

        :param parameters: ClusterCreateParameters (a model or a dict)
        :return: An instance of LROPoller that returns Cluster
        :raises: :class:`CloudError<msrestazure.azure_exceptions.CloudError>`
        """
        return self._create(resource_group_name, cluster_name, parameters, raw, polling)

    def update(self, resource_group_name, cluster_name, tags=None, scale_settings=None, custom_headers=None,
               raw=False, **operation_config):
        """Update the scale settings of a cluster (``tags`` are accepted and not kept)."""
        models = self._deserialize.dependencies
        if isinstance(scale_settings, dict):
            scale_settings = models["ScaleSettings"].from_dict(scale_settings)
        parameters = models["ClusterUpdateParameters"](tags=tags, scale_settings=scale_settings)
        ref = self._ref(resource_group_name, cluster_name)
        body = self._translate.cluster_update_request(self._serialize_body(parameters, "ClusterUpdateParameters"))
        out = self._out(ref)
        return self._call(lambda: out(self._backend.update_cluster(ref, body)), "Cluster", raw)

    def _delete(self, resource_group_name, cluster_name, raw, polling):
        ref = self._ref(resource_group_name, cluster_name)
        return self._long_running(lambda: self._backend.delete_cluster(ref), None, raw, polling)

    def delete(self, resource_group_name, cluster_name, custom_headers=None, raw=False, polling=True,
               **operation_config):
        """Deletes a Cluster; jobs running on it are killed."""
        return self._delete(resource_group_name, cluster_name, raw, polling)

    def get(self, resource_group_name, cluster_name, custom_headers=None, raw=False, **operation_config):
        """Gets information about the specified Cluster."""
        ref = self._ref(resource_group_name, cluster_name)
        out = self._out(ref)
        return self._call(lambda: out(self._backend.get_cluster(ref)), "Cluster", raw)

    def list_remote_login_information(self, resource_group_name, cluster_name, custom_headers=None, raw=False,
                                      **operation_config):
        """Get the IP address, port of all the compute nodes in the cluster."""
        holder: Dict[str, Any] = {}

        def validate() -> None:
            holder["ref"] = self._ref(resource_group_name, cluster_name)

        paged = self._deserialize.dependencies["RemoteLoginInformationPaged"]
        return self._paged(paged, validate,
                           lambda t: self._backend.list_cluster_remote_login_information(holder["ref"], t), raw)

    def list(self, clusters_list_options=None, custom_headers=None, raw=False, **operation_config):
        """Gets information about the Clusters (of every resource group's default workspace)."""
        deps = self._deserialize.dependencies
        return self._list(clusters_list_options, deps["ClustersListOptions"], deps["ClusterPaged"], None,
                          self._backend.list_clusters, raw, self._translate.resource_response)

    def list_by_resource_group(self, resource_group_name, clusters_list_by_resource_group_options=None,
                               custom_headers=None, raw=False, **operation_config):
        """Gets information about the Clusters of the resource group (its default workspace)."""
        deps = self._deserialize.dependencies
        return self._list(clusters_list_by_resource_group_options, deps["ClustersListByResourceGroupOptions"],
                          deps["ClusterPaged"], resource_group_name, self._backend.list_clusters, raw,
                          self._translate.resource_response)


class FileServersOperations(PreWorkspaceGroup):
    """FileServersOperations of azure-mgmt-batchai 1.0.x: file servers of the default workspace."""

    def _ref(self, resource_group_name: Any, file_server_name: Any) -> FileServerRef:
        rg, name = self._names(resource_group_name, "file_server_name", file_server_name)
        return FileServerRef(self._subscription(), rg, DEFAULT_WORKSPACE, name)

    def _create(self, resource_group_name, file_server_name, parameters, raw, polling):
        ref = self._ref(resource_group_name, file_server_name)
        location, body = self._translate.file_server_request(
            self._serialize_body(parameters, "FileServerCreateParameters"))

        def start() -> Operation:
            self._ensure_workspace(ref.workspace_ref, location)
            return _Translated(self._backend.create_file_server(ref, body),
                               lambda b: self._translate.resource_response(b, self._location(ref.workspace_ref)))

        return self._long_running(start, "FileServer", raw, polling)

    def create(self, resource_group_name, file_server_name, parameters, custom_headers=None, raw=False, polling=True,
               **operation_config):
        """Creates a file server (in the resource group's default workspace)."""
        return self._create(resource_group_name, file_server_name, parameters, raw, polling)

    def _delete(self, resource_group_name, file_server_name, raw, polling):
        ref = self._ref(resource_group_name, file_server_name)
        return self._long_running(lambda: self._backend.delete_file_server(ref), None, raw, polling)

    def delete(self, resource_group_name, file_server_name, custom_headers=None, raw=False, polling=True,
               **operation_config):
        """Delete a file Server."""
        return self._delete(resource_group_name, file_server_name, raw, polling)

    def get(self, resource_group_name, file_server_name, custom_headers=None, raw=False, **operation_config):
        """Gets information about the specified file server."""
        ref = self._ref(resource_group_name, file_server_name)
        location = self._location
        return self._call(lambda: self._translate.resource_response(
            self._backend.get_file_server(ref), location(ref.workspace_ref)), "FileServer", raw)

    def list(self, file_servers_list_options=None, custom_headers=None, raw=False, **operation_config):
        """To list all the file servers (of every resource group's default workspace)."""
        deps = self._deserialize.dependencies
        return self._list(file_servers_list_options, deps["FileServersListOptions"], deps["FileServerPaged"], None,
                          self._backend.list_file_servers, raw, self._translate.resource_response)

    def list_by_resource_group(self, resource_group_name, file_servers_list_by_resource_group_options=None,
                               custom_headers=None, raw=False, **operation_config):
        """Gets the file servers of the resource group (its default workspace)."""
        deps = self._deserialize.dependencies
        return self._list(file_servers_list_by_resource_group_options, deps["FileServersListByResourceGroupOptions"],
                          deps["FileServerPaged"], resource_group_name, self._backend.list_file_servers, raw,
                          self._translate.resource_response)


class JobsOperations(PreWorkspaceGroup):
    """JobsOperations of azure-mgmt-batchai 1.0.x: jobs of the default workspace's default experiment."""

    def _ref(self, resource_group_name: Any, job_name: Any) -> JobRef:
        rg, name = self._names(resource_group_name, "job_name", job_name)
        return JobRef(self._subscription(), rg, DEFAULT_WORKSPACE, DEFAULT_EXPERIMENT, name)

    def _out(self, ref: JobRef) -> Callable[[Optional[Dict[str, Any]]], Optional[Dict[str, Any]]]:
        return lambda body: self._translate.resource_response(body, self._location(ref.workspace_ref))

    def _create(self, resource_group_name, job_name, parameters, raw, polling):
        ref = self._ref(resource_group_name, job_name)
        location, body = self._translate.job_request(self._serialize_body(parameters, "JobCreateParameters"))

        def start() -> Operation:
            self._ensure_workspace(ref.workspace_ref, location)
            self._ensure_experiment(ref.experiment_ref)
            return _Translated(self._backend.create_job(ref, body), self._out(ref))

        return self._long_running(start, "Job", raw, polling)

    def create(self, resource_group_name, job_name, parameters, custom_headers=None, raw=False, polling=True,
               **operation_config):
        """Adds a Job that gets executed on a cluster (in the default experiment of the default workspace)."""
        return self._create(resource_group_name, job_name, parameters, raw, polling)

    def _lro(self, verb, resource_group_name, job_name, raw, polling):
        ref = self._ref(resource_group_name, job_name)
        return self._long_running(lambda: getattr(self._backend, verb)(ref), None, raw, polling)

    def delete(self, resource_group_name, job_name, custom_headers=None, raw=False, polling=True, **operation_config):
        """Deletes the specified Batch AI job, killing it first if it is running."""
        return self._lro("delete_job", resource_group_name, job_name, raw, polling)

    def terminate(self, resource_group_name, job_name, custom_headers=None, raw=False, polling=True,
                  **operation_config):
        """Terminates a job; a no-op for a job that has already finished."""
        return self._lro("terminate_job", resource_group_name, job_name, raw, polling)

    def get(self, resource_group_name, job_name, custom_headers=None, raw=False, **operation_config):
        """Gets information about the specified Batch AI job."""
        ref = self._ref(resource_group_name, job_name)
        out = self._out(ref)
        return self._call(lambda: out(self._backend.get_job(ref)), "Job", raw)

    def list_remote_login_information(self, resource_group_name, job_name, custom_headers=None, raw=False,
                                      **operation_config):
        """Gets the IP address and port information of the nodes which run the job."""
        holder: Dict[str, Any] = {}

        def validate() -> None:
            holder["ref"] = self._ref(resource_group_name, job_name)

        paged = self._deserialize.dependencies["RemoteLoginInformationPaged"]
        return self._paged(paged, validate,
                           lambda t: self._backend.list_job_remote_login_information(holder["ref"], t), raw)

    def _jobs_of(self, ref: WorkspaceRef, max_results: int, token: Optional[str]) -> Page:
        return self._backend.list_jobs(ExperimentRef(*ref, DEFAULT_EXPERIMENT), max_results, token)

    def list(self, jobs_list_options=None, custom_headers=None, raw=False, **operation_config):
        """Gets information about the jobs (of every resource group's default experiment)."""
        deps = self._deserialize.dependencies
        return self._list(jobs_list_options, deps["JobsListOptions"], deps["JobPaged"], None, self._jobs_of, raw,
                          self._translate.resource_response)

    def list_by_resource_group(self, resource_group_name, jobs_list_by_resource_group_options=None,
                               custom_headers=None, raw=False, **operation_config):
        """Gets information about the jobs of the resource group (its default experiment)."""
        deps = self._deserialize.dependencies
        return self._list(jobs_list_by_resource_group_options, deps["JobsListByResourceGroupOptions"],
                          deps["JobPaged"], resource_group_name, self._jobs_of, raw, self._translate.resource_response)

    def list_output_files(self, resource_group_name, job_name, jobs_list_output_files_options, custom_headers=None,
                          raw=False, **operation_config):
        """List the files (1.0.x: and directories) of a job's output directory.

        Like the original, the options are validated when iteration starts (``outputdirectoryid`` is
        required, ``linkexpiryinminutes`` 5..600, ``max_results`` 1..1000)."""
        deps = self._deserialize.dependencies
        options = self._options(jobs_list_output_files_options, deps["JobsListOutputFilesOptions"])
        holder: Dict[str, Any] = {}

        def validate() -> None:
            holder["ref"] = self._ref(resource_group_name, job_name)
            get = (lambda name: getattr(options, name, None)) if options is not None else (lambda name: None)
            holder["id"] = self._validate_query("outputdirectoryid", get("outputdirectoryid"), "str")
            holder["directory"] = "."
            if get("directory") is not None:
                holder["directory"] = self._validate_query("directory", get("directory"), "str")
            holder["expiry"] = 60
            if get("linkexpiryinminutes") is not None:
                holder["expiry"] = int(self._validate_query("linkexpiryinminutes", get("linkexpiryinminutes"), "int",
                                                            **LINK_EXPIRY))
            holder["max"] = 1000
            if get("max_results") is not None:
                holder["max"] = int(self._validate_query("max_results", get("max_results"), "int", **MAX_RESULTS))

        def fetch(token: Optional[str]) -> Page:
            page = self._backend.list_output_files(holder["ref"], holder["id"], holder["directory"], holder["expiry"],
                                                   holder["max"], token)
            files = [f for f in (self._translate.file_response(b) for b in page.value) if f is not None]
            return Page(files, page.next_link)

        return self._paged(deps["FilePaged"], validate, fetch, raw)


class UsageOperations(PreWorkspaceGroup):
    """UsageOperations of azure-mgmt-batchai 1.0.x (``client.usage``)."""

    def list(self, location, custom_headers=None, raw=False, **operation_config):
        """Gets the current usage information as well as limits for Batch AI resources."""
        holder: Dict[str, Any] = {}

        def validate() -> None:
            self._validate_subscription()
            holder["location"] = self._serialize.url("location", location, "str", skip_quote=True, **LOCATION)

        def fetch(token: Optional[str]) -> Page:
            return Page(self._backend.list_usages(self._subscription(), holder["location"]))

        return self._paged(self._deserialize.dependencies["UsagePaged"], validate, fetch, raw)


class Operations(PreWorkspaceGroup):
    """Operations of the resource provider (``client.operations``)."""

    def list(self, custom_headers=None, raw=False, **operation_config):
        """Lists available operations for the Microsoft.BatchAI provider."""

        def validate() -> None:
            self._validate_query("self.api_version", self.api_version, "str")

        return self._paged(self._deserialize.dependencies["OperationPaged"], validate,
                           lambda t: Page(self._backend.list_operations()), raw)


# --------------------------------------------------------------------------------------------- clients


def make_client(package: str, models_module: Any, groups: Dict[str, type]) -> type:
    """The ``BatchAIManagementClient`` class of the pre-workspace generation ``package`` (groups on ``backend``)."""
    api_version, sdk, _ = GENERATIONS[package + ".models"]
    doc = f"""The Azure BatchAI Management API of azure-mgmt-batchai {sdk} ({api_version}), served by a backend.

    Operation groups: {", ".join(groups)}; clusters, jobs and file servers are those of the resource
    group's default workspace (see :mod:`batchai_compat._generations`).

    :param credentials: Credentials (any object for the local backend).
    :param str subscription_id: The subscriptionID for the Azure user.
    :param str base_url: Service URL
    :param backend: as for :class:`batchai_compat.BatchAIManagementClient`.
    :param options: Backend options, e.g. ``home=`` for the local backend.
    """
    from msrest import Deserializer, Serializer
    from msrest.service_client import SDKClient

    from batchai_compat._client import BatchAIManagementClientConfiguration

    def __init__(self, credentials, subscription_id, base_url=None, *, backend=None, **options):
        from batchai_compat.backends.registry import get_backend

        self.config = BatchAIManagementClientConfiguration(credentials, subscription_id, base_url)
        SDKClient.__init__(self, self.config.credentials, self.config)
        client_models = {k: v for k, v in models_module.__dict__.items() if isinstance(v, type)}
        self.api_version = api_version
        self._serialize = Serializer(client_models)
        self._deserialize = Deserializer(client_models)
        self._backend = get_backend(backend, **options)
        self._backend.attach_client(credentials, subscription_id)
        args = (self._client, self.config, self._serialize, self._deserialize, self._backend)
        for attr, group in groups.items():
            setattr(self, attr, group(*args))

    def close(self) -> None:
        try:
            self._backend.close()
        finally:
            SDKClient.close(self)

    def __getattr__(self, name: str) -> Any:
        hint = (f": client.{name} belongs to azure-mgmt-batchai 2.0.0 (2018-05-01), not to this pre-workspace "
                "generation; use batchai_compat.BatchAIManagementClient")
        raise AttributeError(f"'BatchAIManagementClient' object has no attribute {name!r}"
                             + (hint if name in ("workspaces", "experiments", "usages") else ""))

    return type("BatchAIManagementClient", (SDKClient,), {
        "__init__": __init__, "close": close, "__doc__": doc, "__getattr__": __getattr__, "__module__": package,
        "backend": property(lambda self: self._backend, doc="The engine serving this client (read-only)."),
    })
