"""The URL layout of Microsoft.BatchAI per REST API version, and what each operation calls.

Paths are those of ``specs/batchai-<version>/BatchAI.json`` (matched segment by segment, literal
segments case-insensitively, as ARM matched them). Each operation is carried out by the operation
group of the in-process client of that generation (``batchai_compat.BatchAIManagementClient`` for
2018-05-01, ``batchai_compat.v2018_03_01`` and ``batchai_compat.v2017_09_01_preview`` for the older
two), so request validation (msrest's constraints, the service-side checks of
``operations/_arm.py``), the translation of old-shape bodies (``_generations.Translator``) and the
error translation (``_errors.py``) are the Python client's own, in one place each.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from batchai_compat.gateway._arm import ArmError

NEW = ("2018-05-01",)
OLD = ("2018-03-01", "2017-09-01-preview")

_PROVIDER = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.BatchAI"
_WS = _PROVIDER + "/workspaces/{ws}"
_EXP = _WS + "/experiments/{exp}"
_SUB = "/subscriptions/{sub}/providers/Microsoft.BatchAI"


class Call(NamedTuple):
    """What a route does: ``kind`` is ``plain``, ``lro``, ``page`` or ``status``; ``run(client, p, q, body)``."""

    kind: str
    run: Callable[..., Any]
    verb: str = ""  # for LROs: create, delete, terminate


class Route(NamedTuple):
    method: str
    segments: Tuple[str, ...]
    operation_id: str
    versions: Tuple[str, ...]
    call: Call
    resource_type: str
    body: bool  # the request carries a JSON body


def _segments(template: str) -> Tuple[str, ...]:
    return tuple(template.strip("/").split("/"))


def _resource_type(segments: Tuple[str, ...]) -> str:
    """``workspaces/experiments/jobs`` for a job path: the type ARM names in its errors."""
    try:
        start = [s.lower() for s in segments].index("microsoft.batchai") + 1
    except ValueError:
        return ""
    rest = segments[start:]
    return "/".join(s for i, s in enumerate(rest) if i % 2 == 0)


# ------------------------------------------------------------------------------------------ queries
def _int(q: Dict[str, str], name: str) -> Optional[int]:
    value = q.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ArmError(400, "InvalidQueryParameterValue",
                       f"The value '{value}' of the query parameter '{name}' is not a valid integer.") from None


def _list_options(q: Dict[str, str], odata: bool = False) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    max_results = _int(q, "maxresults")
    if max_results is not None:
        options["max_results"] = max_results
    if odata:
        for key, name in (("$filter", "filter"), ("$select", "select")):
            if key in q:
                options[name] = q[key]
    return options


def _output_options(c: Any, q: Dict[str, str], directory: bool = True) -> Any:
    """The generation's ``JobsListOutputFilesOptions`` (built with keywords: 0.2.0's model takes
    ``outputdirectoryid`` as a required argument, which the group validates when a page is fetched)."""
    options = _list_options(q)
    options["outputdirectoryid"] = q.get("outputdirectoryid")
    if directory and "directory" in q:
        options["directory"] = q["directory"]
    expiry = _int(q, "linkexpiryinminutes")
    if expiry is not None:
        options["linkexpiryinminutes"] = expiry
    return c.jobs._deserialize.dependencies["JobsListOutputFilesOptions"](**options)


def _object(body: Any) -> Dict[str, Any]:
    """The JSON object of a request body; ``{}`` when there is none (the model validation then says
    which required property is missing)."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidRequestContent",
                       "The request content was invalid and could not be deserialized: "
                       f"'a JSON object was expected, not {type(body).__name__}'.")
    return body


def _parameters(body: Any) -> Any:
    return None if body is None else _object(body)


def _scale_settings(client: Any, body: Any, model: str) -> Any:
    """``properties.scaleSettings`` of a ``ClusterUpdateParameters`` body, as the model."""
    update = client._deserialize(model, _object(body))
    return update.scale_settings


# ------------------------------------------------------------------------------------------ 2018-05-01
def _new_routes() -> List[Tuple[str, str, str, Call, bool]]:
    P, L, C = "plain", "lro", "page"
    return [
        ("GET", "/providers/Microsoft.BatchAI/operations", "Operations_List",
         Call(C, lambda c, p, q, b: c.operations.list()), False),
        ("GET", _SUB + "/locations/{loc}/usages", "Usages_List",
         Call(C, lambda c, p, q, b: c.usages.list(p["loc"])), False),
        ("GET", _SUB + "/workspaces", "Workspaces_List",
         Call(C, lambda c, p, q, b: c.workspaces.list(_list_options(q))), False),
        ("GET", _PROVIDER + "/workspaces", "Workspaces_ListByResourceGroup",
         Call(C, lambda c, p, q, b: c.workspaces.list_by_resource_group(p["rg"], _list_options(q))), False),
        ("PUT", _WS, "Workspaces_Create",
         Call(L, lambda c, p, q, b, poll: c.workspaces.create(
             p["rg"], p["ws"], _object(b).get("location"), _object(b).get("tags"), polling=poll), "create"), True),
        ("PATCH", _WS, "Workspaces_Update",
         Call(P, lambda c, p, q, b: c.workspaces.update(p["rg"], p["ws"], _object(b).get("tags"), raw=True)), True),
        ("DELETE", _WS, "Workspaces_Delete",
         Call(L, lambda c, p, q, b, poll: c.workspaces.delete(p["rg"], p["ws"], polling=poll), "delete"), False),
        ("GET", _WS, "Workspaces_Get",
         Call(P, lambda c, p, q, b: c.workspaces.get(p["rg"], p["ws"], raw=True)), False),
        ("GET", _WS + "/experiments", "Experiments_ListByWorkspace",
         Call(C, lambda c, p, q, b: c.experiments.list_by_workspace(p["rg"], p["ws"], _list_options(q))), False),
        ("PUT", _EXP, "Experiments_Create",
         Call(L, lambda c, p, q, b, poll: c.experiments.create(p["rg"], p["ws"], p["exp"], polling=poll),
              "create"), True),
        ("DELETE", _EXP, "Experiments_Delete",
         Call(L, lambda c, p, q, b, poll: c.experiments.delete(p["rg"], p["ws"], p["exp"], polling=poll),
              "delete"), False),
        ("GET", _EXP, "Experiments_Get",
         Call(P, lambda c, p, q, b: c.experiments.get(p["rg"], p["ws"], p["exp"], raw=True)), False),
        ("GET", _EXP + "/jobs", "Jobs_ListByExperiment",
         Call(C, lambda c, p, q, b: c.jobs.list_by_experiment(p["rg"], p["ws"], p["exp"], _list_options(q))), False),
        ("PUT", _EXP + "/jobs/{job}", "Jobs_Create",
         Call(L, lambda c, p, q, b, poll: c.jobs.create(p["rg"], p["ws"], p["exp"], p["job"], _parameters(b),
                                                        polling=poll), "create"), True),
        ("DELETE", _EXP + "/jobs/{job}", "Jobs_Delete",
         Call(L, lambda c, p, q, b, poll: c.jobs.delete(p["rg"], p["ws"], p["exp"], p["job"], polling=poll),
              "delete"), False),
        ("GET", _EXP + "/jobs/{job}", "Jobs_Get",
         Call(P, lambda c, p, q, b: c.jobs.get(p["rg"], p["ws"], p["exp"], p["job"], raw=True)), False),
        ("POST", _EXP + "/jobs/{job}/listOutputFiles", "Jobs_ListOutputFiles",
         Call(C, lambda c, p, q, b: c.jobs.list_output_files(p["rg"], p["ws"], p["exp"], p["job"],
                                                             _output_options(c, q))), False),
        ("POST", _EXP + "/jobs/{job}/listRemoteLoginInformation", "Jobs_ListRemoteLoginInformation",
         Call(C, lambda c, p, q, b: c.jobs.list_remote_login_information(p["rg"], p["ws"], p["exp"], p["job"])),
         False),
        ("POST", _EXP + "/jobs/{job}/terminate", "Jobs_Terminate",
         Call(L, lambda c, p, q, b, poll: c.jobs.terminate(p["rg"], p["ws"], p["exp"], p["job"], polling=poll),
              "terminate"), False),
        ("PUT", _WS + "/fileServers/{fs}", "FileServers_Create",
         Call(L, lambda c, p, q, b, poll: c.file_servers.create(p["rg"], p["ws"], p["fs"], _parameters(b),
                                                                polling=poll), "create"), True),
        ("DELETE", _WS + "/fileServers/{fs}", "FileServers_Delete",
         Call(L, lambda c, p, q, b, poll: c.file_servers.delete(p["rg"], p["ws"], p["fs"], polling=poll),
              "delete"), False),
        ("GET", _WS + "/fileServers/{fs}", "FileServers_Get",
         Call(P, lambda c, p, q, b: c.file_servers.get(p["rg"], p["ws"], p["fs"], raw=True)), False),
        ("GET", _WS + "/fileServers", "FileServers_ListByWorkspace",
         Call(C, lambda c, p, q, b: c.file_servers.list_by_workspace(p["rg"], p["ws"], _list_options(q))), False),
        ("PUT", _WS + "/clusters/{cluster}", "Clusters_Create",
         Call(L, lambda c, p, q, b, poll: c.clusters.create(p["rg"], p["ws"], p["cluster"], _parameters(b),
                                                            polling=poll), "create"), True),
        ("PATCH", _WS + "/clusters/{cluster}", "Clusters_Update",
         Call(P, lambda c, p, q, b: c.clusters.update(
             p["rg"], p["ws"], p["cluster"], _scale_settings(c, b, "ClusterUpdateParameters"), raw=True)), True),
        ("DELETE", _WS + "/clusters/{cluster}", "Clusters_Delete",
         Call(L, lambda c, p, q, b, poll: c.clusters.delete(p["rg"], p["ws"], p["cluster"], polling=poll),
              "delete"), False),
        ("GET", _WS + "/clusters/{cluster}", "Clusters_Get",
         Call(P, lambda c, p, q, b: c.clusters.get(p["rg"], p["ws"], p["cluster"], raw=True)), False),
        ("POST", _WS + "/clusters/{cluster}/listRemoteLoginInformation", "Clusters_ListRemoteLoginInformation",
         Call(C, lambda c, p, q, b: c.clusters.list_remote_login_information(p["rg"], p["ws"], p["cluster"])), False),
        ("GET", _WS + "/clusters", "Clusters_ListByWorkspace",
         Call(C, lambda c, p, q, b: c.clusters.list_by_workspace(p["rg"], p["ws"], _list_options(q))), False),
    ]


# ------------------------------------------------------------------------------ 2018-03-01, 2017-09-01-preview
# The long-running operations call the groups' ``_create``/``_delete``/``_lro`` (``_generations``): 0.2.0's
# public methods had no ``polling`` parameter (they always polled), and the gateway needs the first response.
def _old_update(c: Any, p: Dict[str, str], b: Any) -> Any:
    body = _object(b)
    return c.clusters.update(p["rg"], p["cluster"], tags=body.get("tags"),
                             scale_settings=_scale_settings(c, body, "ClusterUpdateParameters"), raw=True)


def _old_routes() -> List[Tuple[str, str, str, Call, bool, Tuple[str, ...]]]:
    P, L, C = "plain", "lro", "page"
    both = OLD
    return [
        ("GET", "/providers/Microsoft.BatchAI/operations", "Operations_List",
         Call(C, lambda c, p, q, b: c.operations.list()), False, both),
        ("GET", _SUB + "/locations/{loc}/usages", "Usage_List",
         Call(C, lambda c, p, q, b: c.usage.list(p["loc"])), False, ("2018-03-01",)),
        ("PUT", _PROVIDER + "/clusters/{cluster}", "Clusters_Create",
         Call(L, lambda c, p, q, b, poll: c.clusters._create(p["rg"], p["cluster"], _parameters(b), False, poll),
              "create"), True, both),
        ("PATCH", _PROVIDER + "/clusters/{cluster}", "Clusters_Update",
         Call(P, lambda c, p, q, b: _old_update(c, p, b)), True, both),
        ("DELETE", _PROVIDER + "/clusters/{cluster}", "Clusters_Delete",
         Call(L, lambda c, p, q, b, poll: c.clusters._delete(p["rg"], p["cluster"], False, poll), "delete"),
         False, both),
        ("GET", _PROVIDER + "/clusters/{cluster}", "Clusters_Get",
         Call(P, lambda c, p, q, b: c.clusters.get(p["rg"], p["cluster"], raw=True)), False, both),
        ("POST", _PROVIDER + "/clusters/{cluster}/listRemoteLoginInformation", "Clusters_ListRemoteLoginInformation",
         Call(C, lambda c, p, q, b: c.clusters.list_remote_login_information(p["rg"], p["cluster"])), False, both),
        ("GET", _SUB + "/clusters", "Clusters_List",
         Call(C, lambda c, p, q, b: c.clusters.list(_list_options(q, True))), False, both),
        ("GET", _PROVIDER + "/clusters", "Clusters_ListByResourceGroup",
         Call(C, lambda c, p, q, b: c.clusters.list_by_resource_group(p["rg"], _list_options(q, True))), False, both),
        ("PUT", _PROVIDER + "/jobs/{job}", "Jobs_Create",
         Call(L, lambda c, p, q, b, poll: c.jobs._create(p["rg"], p["job"], _parameters(b), False, poll), "create"),
         True, both),
        ("DELETE", _PROVIDER + "/jobs/{job}", "Jobs_Delete",
         Call(L, lambda c, p, q, b, poll: c.jobs._lro("delete_job", p["rg"], p["job"], False, poll), "delete"),
         False, both),
        ("GET", _PROVIDER + "/jobs/{job}", "Jobs_Get",
         Call(P, lambda c, p, q, b: c.jobs.get(p["rg"], p["job"], raw=True)), False, both),
        ("POST", _PROVIDER + "/jobs/{job}/listRemoteLoginInformation", "Jobs_ListRemoteLoginInformation",
         Call(C, lambda c, p, q, b: c.jobs.list_remote_login_information(p["rg"], p["job"])), False, both),
        ("POST", _PROVIDER + "/jobs/{job}/terminate", "Jobs_Terminate",
         Call(L, lambda c, p, q, b, poll: c.jobs._lro("terminate_job", p["rg"], p["job"], False, poll), "terminate"),
         False, both),
        ("GET", _SUB + "/jobs", "Jobs_List",
         Call(C, lambda c, p, q, b: c.jobs.list(_list_options(q, True))), False, both),
        ("GET", _PROVIDER + "/jobs", "Jobs_ListByResourceGroup",
         Call(C, lambda c, p, q, b: c.jobs.list_by_resource_group(p["rg"], _list_options(q, True))), False, both),
        ("POST", _PROVIDER + "/jobs/{job}/listOutputFiles", "Jobs_ListOutputFiles",
         Call(C, lambda c, p, q, b: c.jobs.list_output_files(p["rg"], p["job"], _output_options(c, q))),
         False, ("2018-03-01",)),
        ("POST", _PROVIDER + "/jobs/{job}/listOutputFiles", "Jobs_ListOutputFiles",
         Call(C, lambda c, p, q, b: c.jobs.list_output_files(p["rg"], p["job"], _output_options(c, q, False))),
         False, ("2017-09-01-preview",)),
        ("PUT", _PROVIDER + "/fileServers/{fs}", "FileServers_Create",
         Call(L, lambda c, p, q, b, poll: c.file_servers._create(p["rg"], p["fs"], _parameters(b), False, poll),
              "create"), True, both),
        ("DELETE", _PROVIDER + "/fileServers/{fs}", "FileServers_Delete",
         Call(L, lambda c, p, q, b, poll: c.file_servers._delete(p["rg"], p["fs"], False, poll), "delete"),
         False, both),
        ("GET", _PROVIDER + "/fileServers/{fs}", "FileServers_Get",
         Call(P, lambda c, p, q, b: c.file_servers.get(p["rg"], p["fs"], raw=True)), False, both),
        ("GET", _SUB + "/fileServers", "FileServers_List",
         Call(C, lambda c, p, q, b: c.file_servers.list(_list_options(q, True))), False, both),
        ("GET", _PROVIDER + "/fileServers", "FileServers_ListByResourceGroup",
         Call(C, lambda c, p, q, b: c.file_servers.list_by_resource_group(p["rg"], _list_options(q, True))),
         False, both),
    ]


_STATUS_VERSIONS = NEW + OLD


def _status_routes() -> List[Route]:
    routes = []
    for leaf in ("operationresults", "operationstatuses"):
        segments = _segments(_SUB + "/locations/{loc}/" + leaf + "/{opid}")
        routes.append(Route("GET", segments, "OperationStatus_" + leaf, _STATUS_VERSIONS,
                            Call("status", lambda c, p, q, b: None, leaf), "locations/" + leaf, False))
    return routes


def build_routes() -> List[Route]:
    routes: List[Route] = []
    for method, template, op_id, call, body in _new_routes():
        segments = _segments(template)
        routes.append(Route(method, segments, op_id, NEW, call, _resource_type(segments), body))
    for method, template, op_id, call, body, versions in _old_routes():
        segments = _segments(template)
        routes.append(Route(method, segments, op_id, versions, call, _resource_type(segments), body))
    routes.extend(_status_routes())
    return routes


def match(segments: Tuple[str, ...], template: Tuple[str, ...]) -> Optional[Dict[str, str]]:
    """Path parameters if ``segments`` fit ``template`` (literal segments compared case-insensitively)."""
    if len(segments) != len(template):
        return None
    params: Dict[str, str] = {}
    for got, want in zip(segments, template):
        if want.startswith("{"):
            params[want[1:-1]] = got
        elif got.lower() != want.lower():
            return None
    return params
