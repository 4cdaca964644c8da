"""Compute routes: AmlCompute clusters through ARM (create/update/delete/listNodes/operations) and through
the workspace API host (get/list), with node counts that follow the runs the executor places on them.
"""

from __future__ import annotations

import re
from typing import Any, Dict

from .server import Request, Response
from .state import WS_PROVIDER, Compute, Operation, Workspace
from .util import HttpError, duration_seconds, iso, iso_duration, new_id, utcnow

RESERVED = {"amlcompute", "local", "containerinstance"}
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,15}$")


class ComputeRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state

    def register(self, r: Any) -> None:
        r.add("GET", "/rp/workspaces{WS}/computes/(?P<name>[^/]+)", self.get, "API GET compute")
        r.add("GET", "/rp/workspaces{WS}/computes", self.list, "API list computes")
        r.add("GET", "{WS}/computes/(?P<name>[^/]+)", self.get, "ARM GET compute")
        r.add("GET", "{WS}/computes", self.list, "ARM list computes")
        r.add("PUT", "{WS}/computes/(?P<name>[^/]+)", self.put, "ARM PUT compute")
        r.add("PATCH", "{WS}/computes/(?P<name>[^/]+)", self.patch, "ARM PATCH compute")
        r.add("DELETE", "{WS}/computes/(?P<name>[^/]+)", self.delete, "ARM DELETE compute")
        r.add("POST", "{WS}/computes/(?P<name>[^/]+)/listNodes", self.list_nodes, "ARM POST listNodes")
        r.add("POST", "{WS}/computes/(?P<name>[^/]+)/listKeys", self.list_keys, "ARM POST listKeys")
        r.add("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.MachineLearningServices/locations/"
              r"(?P<loc>[^/]+)/computeOperationsStatus/(?P<op>[^/]+)", self.operation, "ARM GET compute operation")

    # -- helpers --------------------------------------------------------------------------------------
    def _ws(self, req: Request) -> Workspace:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "ResourceNotFound", "Workspace '{}' not found.".format(req.params["ws"]))
        return ws

    def _compute(self, ws: Workspace, name: str) -> Compute:
        compute = ws.computes.get(name.lower())
        if compute is None:
            raise HttpError(404, "ResourceNotFound",
                            f"ComputeTargetNotFound: compute '{name}' was not found in workspace '{ws.name}'.")
        compute.refresh(self.emu.monotonic(), self.emu.scale_down_after)
        return compute

    def _operation(self, req: Request, ws: Workspace) -> Dict[str, str]:
        # Answered "Succeeded" at once by default, so azureml's 5 s polling sleep never runs.
        op = Operation(new_id(), "InProgress" if self.emu.compute_operation_polls else "Succeeded")
        self.state.operations[op.op_id] = op
        url = (f"{req.base_url}/subscriptions/{ws.subscription_id}/providers/{WS_PROVIDER}/locations/"
               f"{ws.location}/computeOperationsStatus/{op.op_id}?api-version=2021-01-01")
        return {"Azure-AsyncOperation": url, "Location": url}

    def payload(self, ws: Workspace, c: Compute) -> Dict[str, Any]:
        counts = c.counts()
        current = sum(1 for n in c.nodes if n.state != "preparing")
        inner: Dict[str, Any] = {
            "vmSize": c.vm_size,
            "vmPriority": c.vm_priority,
            "scaleSettings": {"minNodeCount": c.min_nodes, "maxNodeCount": c.max_nodes,
                              "nodeIdleTimeBeforeScaleDown": iso_duration(c.idle_seconds)},
            "subnet": c.subnet,
            "remoteLoginPortPublicAccess": c.remote_login or "NotSpecified",
            "allocationState": c.allocation_state,
            "allocationStateTransitionTime": iso(c.allocation_changed),
            "errors": None,
            "currentNodeCount": current,
            "targetNodeCount": len(c.nodes),
            "nodeStateCounts": counts,
            "enableNodePublicIp": True,
            "isolatedNetwork": False,
            "osType": "Linux",
        }
        if c.admin_username:
            inner["userAccountCredentials"] = {"adminUserName": c.admin_username}
        inner.update(c.extra_properties)
        body: Dict[str, Any] = {
            "id": ws.arm_id + "/computes/" + c.name,
            "name": c.name,
            "type": WS_PROVIDER + "/workspaces/computes",
            "location": c.location,
            "tags": c.tags,
            "properties": {
                "computeType": c.compute_type,
                "computeLocation": c.location,
                "description": c.description,
                "createdOn": iso(c.created),
                "modifiedOn": iso(c.modified),
                "resourceId": None,
                "provisioningState": c.provisioning_state,
                "provisioningErrors": None,
                "isAttachedCompute": False,
                "disableLocalAuth": False,
                "properties": inner,
            },
        }
        if c.identity:
            body["identity"] = c.identity
        return body

    # -- routes ---------------------------------------------------------------------------------------
    def get(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            return self.payload(ws, self._compute(ws, req.params["name"]))

    def list(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            value = []
            for key in sorted(ws.computes):
                value.append(self.payload(ws, self._compute(ws, key)))
        return {"value": value}

    def put(self, req: Request) -> Any:
        name = req.params["name"]
        body = req.json
        props = body.get("properties") or {}
        inner = props.get("properties") or {}
        ctype = props.get("computeType") or "AmlCompute"
        if name.lower() in RESERVED:
            raise HttpError(400, "BadArgument", f"Compute name '{name}' is reserved.")
        if not NAME_RE.match(name):
            raise HttpError(400, "BadArgument",
                            f"Compute name '{name}' is invalid: 2-16 characters, letters, digits and '-', starting "
                            "with a letter.")
        scale = inner.get("scaleSettings") or {}
        min_nodes = int(scale.get("minNodeCount") or 0)
        max_raw = scale.get("maxNodeCount")
        max_nodes = int(max_raw) if max_raw is not None else 1
        if max_nodes < min_nodes or max_nodes < 0:
            raise HttpError(400, "BadArgument", "maxNodeCount must be >= minNodeCount.")
        with self.state.lock:
            ws = self._ws(req)
            existing = ws.computes.get(name.lower())
            if existing is not None:
                if existing.compute_type != ctype:
                    raise HttpError(409, "Conflict", f"Compute '{name}' exists with another type.")
                raise HttpError(409, "Conflict",
                                f"Compute '{name}' already exists; update it with PATCH.")
            creds = inner.get("userAccountCredentials") or {}
            c = Compute(name=name, location=body.get("location") or ws.location, compute_type=ctype,
                        vm_size=inner.get("vmSize") or "STANDARD_D2_V2",
                        vm_priority=inner.get("vmPriority") or "Dedicated",
                        min_nodes=min_nodes, max_nodes=max_nodes,
                        idle_seconds=duration_seconds(scale.get("nodeIdleTimeBeforeScaleDown"), 1800.0),
                        tags=dict(body.get("tags") or {}), description=props.get("description"),
                        admin_username=creds.get("adminUserName"),
                        remote_login=inner.get("remoteLoginPortPublicAccess"),
                        subnet=inner.get("subnet"), identity=body.get("identity"))
            c.ensure_min(self.emu.monotonic(), self.emu.resize_seconds)
            ws.computes[name.lower()] = c
            self.emu.provisioning_requests.append({"name": name, "body": body})
            headers = self._operation(req, ws)
            return Response(201, self.payload(ws, c), headers)

    def patch(self, req: Request) -> Any:
        body = req.json
        props = body.get("properties") or {}
        inner = props.get("properties") or {}
        with self.state.lock:
            ws = self._ws(req)
            c = self._compute(ws, req.params["name"])
            scale = inner.get("scaleSettings")
            if scale:
                new_min = int(scale.get("minNodeCount", c.min_nodes) or 0)
                new_max = int(scale.get("maxNodeCount", c.max_nodes))
                if new_max < new_min:
                    raise HttpError(400, "BadArgument", "maxNodeCount must be >= minNodeCount.")
                c.min_nodes, c.max_nodes = new_min, new_max
                if "nodeIdleTimeBeforeScaleDown" in scale:
                    c.idle_seconds = duration_seconds(scale["nodeIdleTimeBeforeScaleDown"], c.idle_seconds)
                c.ensure_min(self.emu.monotonic(), self.emu.resize_seconds)
            if isinstance(body.get("tags"), dict):
                c.tags = dict(body["tags"])
            if "identity" in body:
                c.identity = body["identity"]
            c.modified = utcnow()
            return Response(200, self.payload(ws, c), self._operation(req, ws))

    def delete(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            c = self._compute(ws, req.params["name"])
            for run in list(ws.runs.values()):
                if run.target.lower() == c.name.lower() and not run.terminal:
                    self.emu.executor.cancel(run, reason="compute target deleted")
            del ws.computes[c.name.lower()]
            return Response(202, None, self._operation(req, ws))

    def list_nodes(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            c = self._compute(ws, req.params["name"])
            return {"nodes": [n.as_dict() for n in sorted(c.nodes, key=lambda n: n.index)]}

    def list_keys(self, req: Request) -> Any:
        return {"userStorageKey": None, "userStorageResourceId": None}

    def operation(self, req: Request) -> Any:
        with self.state.lock:
            op = self.state.operations.get(req.params["op"])
            if op is None:
                raise HttpError(404, "ResourceNotFound", "Operation not found.")
            op.polls += 1
            if op.status == "InProgress" and op.polls > self.emu.compute_operation_polls:
                op.status = "Succeeded"
            status = op.status
        body: Dict[str, Any] = {"id": op.op_id, "name": op.op_id, "status": status}
        if op.error:
            body["error"] = op.error
        return body
