"""Run history routes: experiments (get/create/query/archive/delete) and runs (get/patch/details/query,
tags, events, metrics ingestion)."""

from __future__ import annotations

import functools
import re
from typing import Any, Dict, List

from .odata import MISSING, ODataError, compile_filter
from .server import Request, Response
from .state import Experiment, Run, Workspace
from .util import HttpError, ci_get, iso, utcnow

H = "/history/v1.0{WS}"
EXP_NAME_RE = re.compile(r"^[A-Za-z0-9][\w-]{0,254}$")
# Azure ML's run limits, "Service limits in Azure Machine Learning", Runs table
# (https://learn.microsoft.com/azure/machine-learning/resource-limits-capacity): 50 properties and 50 tags per run,
# keys of at most 100 characters, values of at most 1,000 characters.
RUN_MAX_ENTRIES = 50
RUN_KEY_MAX = 100
RUN_VALUE_MAX = 1000
ORDER_FIELDS = {"starttimeutc": "start", "createdutc": "created", "endtimeutc": "end", "runid": "run_id",
                "runnumber": "run_number"}


class HistoryRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state

    def register(self, r: Any) -> None:
        r.add("GET", H + "/experiments/(?P<exp>[^/:]+)", self.get_experiment, "HIST GET experiment")
        r.add("POST", H + "/experiments/(?P<exp>[^/:]+)", self.create_experiment, "HIST POST experiment")
        r.add("PATCH", H + "/experiments/(?P<exp>[^/:]+)", self.patch_experiment, "HIST PATCH experiment")
        r.add("POST", H + "/experiments:query", self.query_experiments, "HIST POST experiments:query")
        r.add("GET", H + "/experiments", self.query_experiments, "HIST GET experiments")
        r.add("GET", H + "/experimentids/(?P<eid>[^/]+)", self.get_experiment_by_id, "HIST GET experimentids")
        r.add("PATCH", H + "/experimentids/(?P<eid>[^/]+)", self.patch_experiment, "HIST PATCH experimentids")
        r.add("DELETE", H + "/experimentids/(?P<eid>[^/]+)", self.delete_experiment, "HIST DELETE experimentids")
        r.add("POST", H + "/experimentids/(?P<eid>[^/]+)/tags:delete", self.delete_experiment_tags,
              "HIST POST experiment tags:delete")
        run = H + "/experiments/(?P<exp>[^/]+)/runs/(?P<run>[^/:]+)"
        run_by_eid = H + "/experimentids/(?P<eid>[^/]+)/runs/(?P<run>[^/:]+)"
        for prefix, label in ((run, ""), (run_by_eid, " (by experiment id)")):
            r.add("GET", prefix, self.get_run, "HIST GET run" + label)
            r.add("PATCH", prefix, self.patch_run, "HIST PATCH run" + label)
        r.add("GET", H + "/runs/(?P<run>[^/:]+)", self.get_run, "HIST GET runs/{id}")
        r.add("GET", run + "/details", self.get_details, "HIST GET run details")
        r.add("POST", H + "/experiments/(?P<exp>[^/]+)/runs:query", self.query_runs, "HIST POST runs:query")
        r.add("GET", H + "/experiments/(?P<exp>[^/]+)/runs", self.query_runs, "HIST GET runs")
        r.add("GET", run + "/children", self.children, "HIST GET run children")
        r.add("GET", H + "/computes/(?P<compute>[^/]+)/runs", self.compute_runs, "HIST GET compute runs")
        r.add("DELETE", run + "/tags", self.delete_tags, "HIST DELETE run tags")
        r.add("POST", run + "/events", self.post_event, "HIST POST run events")
        r.add("POST", H + "/experiments/(?P<exp>[^/]+)/batch/events", self.post_batch_events,
              "HIST POST batch events")
        r.add("GET", run + "/metricsingest/wait", self.metrics_wait, "HIST GET metricsingest/wait")
        r.add("POST", run + "/batch/metrics", self.post_metrics, "HIST POST batch metrics")
        r.add("POST", "/metric/v2.0{WS}/runs/(?P<run>[^/]+)/batch", self.post_metrics, "METRIC POST batch")
        r.add("POST", "/metric/v2.0{WS}/runs/(?P<run>[^/]+)/list", self.list_metrics, "METRIC POST list")
        r.add("POST", "/metric/v2.0{WS}/runs/(?P<run>[^/]+)/full", self.full_metric, "METRIC POST full")
        r.add("POST", H + "/experiments/(?P<exp>[^/]+)/metrics:query", self.list_metrics, "HIST metrics:query")

    # -- lookup helpers --------------------------------------------------------------------------------
    def ws(self, req: Request) -> Workspace:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "WorkspaceNotFound", "Workspace '{}' not found.".format(req.params["ws"]))
        return ws

    def experiment(self, ws: Workspace, req: Request) -> Experiment:
        if "eid" in req.params:
            exp = ws.experiment_by_id(req.params["eid"])
        else:
            exp = ws.experiments.get(req.params["exp"].lower())
        if exp is None:
            raise HttpError(404, "ExperimentNotFound",
                            "Experiment '{}' was not found.".format(req.params.get("exp") or req.params.get("eid")))
        return exp

    def run(self, ws: Workspace, req: Request) -> Run:
        run = ws.runs.get(req.params["run"])
        if run is None:
            raise HttpError(404, "RunNotFound", "Run '{}' was not found.".format(req.params["run"]))
        return run

    # -- experiments -----------------------------------------------------------------------------------
    def get_experiment(self, req: Request) -> Any:
        with self.state.lock:
            return self.experiment(self.ws(req), req).as_dict()

    def get_experiment_by_id(self, req: Request) -> Any:
        return self.get_experiment(req)

    def create_experiment(self, req: Request) -> Any:
        name = req.params["exp"]
        if not EXP_NAME_RE.match(name):
            raise HttpError(400, "BadArgument", f"Experiment name '{name}' is invalid.")
        body = req.json if req.body else {}
        with self.state.lock:
            ws = self.ws(req)
            exp = ws.experiments.get(name.lower())
            if exp is None:
                exp = Experiment(name=name, description=ci_get(body, "description"),
                                 tags=dict(ci_get(body, "tags") or {}))
                ws.experiments[name.lower()] = exp
            return exp.as_dict()

    def patch_experiment(self, req: Request) -> Any:
        body = req.json
        with self.state.lock:
            ws = self.ws(req)
            exp = self.experiment(ws, req)
            archive = ci_get(body, "archive")
            if archive is True:
                exp.archived_time = exp.archived_time or utcnow()
            elif archive is False:
                exp.archived_time = None
            if ci_get(body, "description") is not None:
                exp.description = ci_get(body, "description")
            if isinstance(ci_get(body, "tags"), dict):
                exp.tags.update({str(k): str(v) for k, v in ci_get(body, "tags").items()})
            new_name = ci_get(body, "name")
            if new_name and new_name != exp.name:
                if new_name.lower() in ws.experiments:
                    raise HttpError(409, "Conflict", f"Experiment '{new_name}' already exists.")
                del ws.experiments[exp.name.lower()]
                exp.name = new_name
                ws.experiments[new_name.lower()] = exp
            return exp.as_dict()

    def delete_experiment(self, req: Request) -> Any:
        with self.state.lock:
            ws = self.ws(req)
            exp = self.experiment(ws, req)
            runs = [r for r in ws.runs.values() if r.experiment is exp]
            if runs and not self.emu.allow_delete_nonempty_experiments:
                raise HttpError(409, "ExperimentNotEmpty",
                                f"Experiment '{exp.name}' has {len(runs)} run(s); only empty experiments can be "
                                "deleted.")
            for run in runs:
                self.emu.executor.cancel(run, reason="experiment deleted")
                del ws.runs[run.run_id]
            del ws.experiments[exp.name.lower()]
        return Response(200, None)

    def delete_experiment_tags(self, req: Request) -> Any:
        body = req.json
        keys = ci_get(body, "tags") if isinstance(body, dict) else body
        with self.state.lock:
            exp = self.experiment(self.ws(req), req)
            for key in keys or []:
                exp.tags.pop(key, None)
            return {"errors": {}}

    def query_experiments(self, req: Request) -> Any:
        body = req.json if req.body else {}
        text = ci_get(body, "filter") or req.arg("$filter")
        view = str(ci_get(body, "viewType") or req.arg("viewType") or "ActiveOnly").lower()
        try:
            pred = compile_filter(text)
        except ODataError as exc:
            raise HttpError(400, "BadArgument", f"Invalid filter: {exc}") from exc
        ignore = bool(getattr(self.emu, "ignore_experiment_filters", False))  # test mode, as ignore_run_filters
        with self.state.lock:
            ws = self.ws(req)
            out = []
            for exp in sorted(ws.experiments.values(), key=lambda e: e.created):
                archived = exp.archived_time is not None
                if view in ("activeonly", "1") and archived or view in ("archivedonly", "2") and not archived:
                    continue
                if ignore or pred(functools.partial(self._exp_field, exp)):
                    out.append(exp.as_dict())
        return self._page(out, body, req)

    @staticmethod
    def _exp_field(exp: Experiment, field: str) -> Any:
        low = field.lower()
        if low.startswith("tags/"):
            return exp.tags.get(field[5:], MISSING)
        return {"name": exp.name, "experimentid": exp.experiment_id, "createdutc": exp.created,
                "description": exp.description}.get(low, MISSING)

    # -- runs ------------------------------------------------------------------------------------------
    def run_dto(self, ws: Workspace, run: Run, base_url: str) -> Dict[str, Any]:
        return {
            "runId": run.run_id,
            "runUuid": run.run_id if len(run.run_id) == 36 else None,
            "runNumber": run.run_number,
            "rootRunId": run.run_id if not run.parent_run_id else run.parent_run_id,
            "parentRunId": run.parent_run_id,
            "experimentId": run.experiment.experiment_id,
            "createdUtc": iso(run.created),
            "createdBy": {"userObjectId": "11111111-1111-1111-1111-111111111111",
                          "userTenantId": "00000000-0000-0000-0000-000000000000",
                          "userName": "Azure ML emulator"},
            "userId": "11111111-1111-1111-1111-111111111111",
            "status": run.status,
            "startTimeUtc": iso(run.start),
            "endTimeUtc": iso(run.end),
            "heartbeatEnabled": False,
            "options": {"generateDataContainerIdIfNotSpecified": True},
            "name": run.display_name,
            "displayName": run.display_name or run.run_id,
            "dataContainerId": run.container,
            "description": run.description,
            "hidden": run.hidden,
            "runType": run.run_type,
            "properties": run.properties,
            "scriptName": run.configuration.get("script"),
            "target": run.target,
            "tags": run.tags,
            "cancelUri": (f"{base_url}/execution/v1.0{ws.arm_id}/experiments/{run.experiment.name}/runId/"
                          f"{run.run_id}/cancel") if run.run_type == "azureml.scriptrun" else None,
            "diagnosticsUri": None,
            "completeUri": None,
            "error": run.error,
            "warnings": None,
            "queueingInfo": None,
        }

    def details_dto(self, ws: Workspace, run: Run, base_url: str) -> Dict[str, Any]:
        return {
            "runId": run.run_id,
            "target": run.target,
            "status": run.status,
            "startTimeUtc": iso(run.start),
            "endTimeUtc": iso(run.end),
            "services": {},
            "error": run.error,
            "warnings": [],
            "properties": run.properties,
            "inputDatasets": [],
            "outputDatasets": [],
            "runDefinition": run.configuration,
            "logFiles": {},
        }

    def get_run(self, req: Request) -> Any:
        with self.state.lock:
            ws = self.ws(req)
            return self.run_dto(ws, self.run(ws, req), req.base_url)

    def get_details(self, req: Request) -> Any:
        with self.state.lock:
            ws = self.ws(req)
            return self.details_dto(ws, self.run(ws, req), req.base_url)

    def patch_run(self, req: Request) -> Any:
        """Update a run, or create it (``Experiment.start_logging`` and child runs create runs this way)."""
        body = req.json
        with self.state.lock:
            ws = self.ws(req)
            run = ws.runs.get(req.params["run"])
            if run is None:
                exp = self.experiment(ws, req) if "eid" in req.params else ws.experiments.get(
                    req.params["exp"].lower())
                if exp is None:
                    exp = Experiment(name=req.params["exp"])
                    ws.experiments[exp.name.lower()] = exp
                run = self.emu.new_run(ws, exp, req.params["run"], target=ci_get(body, "target") or "local",
                                       run_type=ci_get(body, "runType"))
                run.parent_run_id = ci_get(body, "parentRunId")
                run.set_status(ci_get(body, "status") or "NotStarted")
            self._apply_patch(run, body)
            return self.run_dto(ws, run, req.base_url)

    @staticmethod
    def _check_limits(kind: str, current: Dict[str, Any], new: Dict[str, Any]) -> None:
        """Refuse the whole PATCH when a tag or property breaks a documented run limit (see RUN_MAX_ENTRIES)."""
        for key, value in new.items():
            if len(str(key)) > RUN_KEY_MAX or (value is not None and len(str(value)) > RUN_VALUE_MAX):
                raise HttpError(400, "BadArgument",
                                f"Run {kind} '{str(key)[:RUN_KEY_MAX]}' is too long: keys are limited to {RUN_KEY_MAX} "
                                f"and values to {RUN_VALUE_MAX} characters.")
        merged = set(current) | {k for k, v in new.items() if v is not None}
        if len(merged) > RUN_MAX_ENTRIES:
            raise HttpError(400, "BadArgument", f"A run can have at most {RUN_MAX_ENTRIES} {kind}; this request "
                            f"would give it {len(merged)}.")

    @classmethod
    def _apply_patch(cls, run: Run, body: Dict[str, Any]) -> None:
        tags = ci_get(body, "tags")
        props = ci_get(body, "properties")
        if isinstance(tags, dict):
            cls._check_limits("tags", run.tags, tags)
        if isinstance(props, dict):
            cls._check_limits("properties", run.properties, props)
        if isinstance(tags, dict):
            run.tags.update({str(k): (None if v is None else str(v)) for k, v in tags.items()})
        if isinstance(props, dict):
            for key, value in props.items():
                if value is None:
                    continue
                if key in run.properties and run.properties[key] != str(value):
                    raise HttpError(400, "PropertyImmutable",
                                    f"Property '{key}' is already set to a different value; run properties are "
                                    "immutable.")
                run.properties[key] = str(value)
        for key, attr in (("description", "description"), ("displayName", "display_name")):
            if ci_get(body, key) is not None:
                setattr(run, attr, ci_get(body, key))
        if ci_get(body, "hidden") is not None:
            run.hidden = bool(ci_get(body, "hidden"))
        if ci_get(body, "runType") and not run.run_type:
            run.run_type = ci_get(body, "runType")
        # Status changes through PATCH are only honoured for runs the emulator does not execute
        # (runs created by start_logging report their own status).
        status = ci_get(body, "status")
        if status and not run.executed and not run.terminal:
            run.set_status(status)
            if status == "Running" and run.start is None:
                run.start = utcnow()
        for key, attr in (("startTimeUtc", "start"), ("endTimeUtc", "end")):
            value = ci_get(body, key)
            if value and not run.executed:
                from .util import parse_iso
                setattr(run, attr, parse_iso(value))

    def query_runs(self, req: Request) -> Any:
        body = req.json if req.body else {}
        text = ci_get(body, "filter") or req.arg("$filter")
        try:
            pred = compile_filter(text)
        except ODataError as exc:
            raise HttpError(400, "BadArgument", f"Invalid filter: {exc}") from exc
        # Test modes (attributes a test sets on the emulator), each standing for a server the client must not
        # trust blindly: ``ignore_run_filters`` answers every run of the experiment whatever the $filter;
        # ``run_query_lag`` (seconds) leaves runs newer than that out of queries, as a search index that has not
        # caught up with a create would (a GET by run id still finds them).
        ignore = bool(getattr(self.emu, "ignore_run_filters", False))
        lag = float(getattr(self.emu, "run_query_lag", 0.0) or 0.0)
        with self.state.lock:
            ws = self.ws(req)
            exp = self.experiment(ws, req)
            runs = [r for r in ws.runs.values() if r.experiment is exp]
            if lag > 0:
                horizon = utcnow().timestamp() - lag
                runs = [r for r in runs if r.created.timestamp() <= horizon]
            if not ignore:
                runs = [r for r in runs if pred(functools.partial(self._run_field, r))]
            runs = self._order(runs, ci_get(body, "orderBy", "orderby") or req.arg("$orderby"))
            dtos = [self.run_dto(ws, r, req.base_url) for r in runs]
        return self._page(dtos, body, req)

    @staticmethod
    def _order(runs: List[Run], orderby: Any) -> List[Run]:
        if isinstance(orderby, list):
            orderby = orderby[0] if orderby else None
        if not orderby:
            return sorted(runs, key=lambda r: r.created, reverse=True)
        parts = str(orderby).split()
        attr = ORDER_FIELDS.get(parts[0].lower(), "created")
        desc = len(parts) > 1 and parts[1].lower() == "desc"
        import datetime as _dt
        floor = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
        # Runs not started yet sort as newest (they are, from the user's point of view).
        ceiling = _dt.datetime.max.replace(tzinfo=_dt.timezone.utc)

        def key(r: Run) -> Any:
            value = getattr(r, attr)
            if value is None and attr in ("start", "end"):
                return (ceiling if desc else floor, r.created)
            return (value, r.created)
        return sorted(runs, key=key, reverse=desc)

    @staticmethod
    def _run_field(run: Run, field: str) -> Any:
        low = field.lower()
        if low.startswith("tags/"):
            return run.tags.get(field[5:], MISSING)
        if low.startswith("properties/"):
            return run.properties.get(field[11:], MISSING)
        columns = {"status": run.status, "parentrunid": run.parent_run_id, "runid": run.run_id,
                   "runtype": run.run_type, "target": run.target, "createdutc": run.created,
                   "starttimeutc": run.start, "endtimeutc": run.end, "name": run.display_name,
                   "experimentid": run.experiment.experiment_id, "hidden": run.hidden,
                   "runnumber": run.run_number}
        return columns.get(low, MISSING)

    @staticmethod
    def _page(items: List[Any], body: Any, req: Request) -> Dict[str, Any]:
        top = ci_get(body, "top") or req.arg("$top")
        token = ci_get(body, "continuationToken") or req.arg("continuationToken") or req.arg("$continuationToken")
        start = int(token) if token and str(token).isdigit() else 0
        size = int(top) if top else len(items) or 1
        page = items[start:start + size]
        nxt = start + size
        return {"value": page, "continuationToken": str(nxt) if nxt < len(items) else None, "nextLink": None}

    def compute_runs(self, req: Request) -> Any:
        """Active (non-terminal) runs placed on a compute target (``AmlCompute.get_active_runs``), newest
        first."""
        try:
            pred = compile_filter(req.arg("$filter"))
        except ODataError as exc:
            raise HttpError(400, "BadArgument", f"Invalid filter: {exc}") from exc
        with self.state.lock:
            ws = self.ws(req)
            runs = [r for r in ws.runs.values()
                    if r.target.lower() == req.params["compute"].lower() and not r.terminal]
            runs = [r for r in runs if pred(functools.partial(self._run_field, r))]
            dtos = [self.run_dto(ws, r, req.base_url) for r in self._order(runs, "CreatedUtc desc")]
        return self._page(dtos, {}, req)

    def children(self, req: Request) -> Any:
        with self.state.lock:
            ws = self.ws(req)
            parent = self.run(ws, req)
            kids = [self.run_dto(ws, r, req.base_url) for r in ws.runs.values()
                    if r.parent_run_id == parent.run_id]
        return {"value": kids, "continuationToken": None}

    def delete_tags(self, req: Request) -> Any:
        body = req.json
        with self.state.lock:
            ws = self.ws(req)
            run = self.run(ws, req)
            for key in body or []:
                run.tags.pop(key, None)
            return self.run_dto(ws, run, req.base_url)

    def post_event(self, req: Request) -> Any:
        body = req.json
        name = str(ci_get(body, "name") or "")
        with self.state.lock:
            ws = self.ws(req)
            run = self.run(ws, req)
            if name.endswith("Run.Canceled") or name.endswith("Canceled"):
                self.emu.executor.cancel(run, reason="canceled by event")
            elif name.endswith("Run.Completed") and not run.executed and not run.terminal:
                run.set_status("Completed")
                run.end = utcnow()
            elif name.endswith("Run.Failed") and not run.executed and not run.terminal:
                run.set_status("Failed")
                run.end = utcnow()
            elif name.endswith("Run.Running") and not run.executed and not run.terminal:
                run.set_status("Running")
                run.start = run.start or utcnow()
        return Response(200, None)

    def post_batch_events(self, req: Request) -> Any:
        return {"errors": {}, "successfulCount": 0}

    def metrics_wait(self, req: Request) -> Any:
        return Response(200, None)

    def post_metrics(self, req: Request) -> Any:
        """Metric ingestion (v2 batch): ``{"values": [MetricV2Dto]}``; kept per run and metric name."""
        body = req.json
        with self.state.lock:
            ws = self.ws(req)
            run = self.run(ws, req)
            store = self.emu.metrics.setdefault(run.run_id, {})
            for dto in ci_get(body, "values") or []:
                name = ci_get(dto, "name")
                if not name:
                    continue
                entry = store.setdefault(name, {"columns": ci_get(dto, "columns") or {},
                                                "properties": ci_get(dto, "properties"), "value": []})
                entry["value"].extend(ci_get(dto, "value") or [])
        return {"errors": {}}

    def list_metrics(self, req: Request) -> Any:
        with self.state.lock:
            store = self.emu.metrics.get(req.params.get("run", ""), {})
            value = [{"metricKey": {"namespace": None, "name": name}, "columns": entry["columns"]}
                     for name, entry in sorted(store.items())]
        return {"value": value, "continuationToken": None}

    def full_metric(self, req: Request) -> Any:
        name = ci_get(req.json, "metricName")
        with self.state.lock:
            ws = self.ws(req)
            run = self.run(ws, req)
            entry = self.emu.metrics.get(run.run_id, {}).get(name)
            if entry is None:
                raise HttpError(404, "MetricNotFound", f"Metric '{name}' not found.")
            return {"dataContainerId": run.container, "name": name, "columns": entry["columns"],
                    "value": list(entry["value"]), "properties": entry["properties"], "continuationToken": None}


def run_error(message: str, code: str = "UserError") -> Dict[str, Any]:
    return {"error": {"code": code, "severity": None, "message": message, "messageFormat": None,
                      "messageParameters": {}, "referenceCode": None, "detailsUri": None, "target": None,
                      "details": [], "innerError": None, "additionalInfo": None},
            "correlation": None, "environment": None, "location": None, "time": iso(utcnow()),
            "componentName": "emulator"}


__all__ = ["HistoryRoutes", "run_error"]
