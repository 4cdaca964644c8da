"""Datastore routes: the workspace's two built-in stores, get/list/register/update/delete, default."""

from __future__ import annotations

import base64
import copy
from typing import Any, Dict

from .server import Request, Response
from .state import Datastore, Workspace
from .util import HttpError, ci_get

D = "/datastore/v1.0{WS}"
FAKE_KEY = base64.b64encode(b"azureml-emulator-account-key-not-a-secret").decode()


def builtin_datastores(ws: Workspace) -> Dict[str, Datastore]:
    account = ws.storage_account_name()
    out = {}
    for name, kind, container in (("workspaceblobstore", "AzureBlob", "azureml-blobstore-" + ws.workspace_id),
                                  ("workspacefilestore", "AzureFile", "azureml-filestore-" + ws.workspace_id)):
        out[name] = Datastore(name, {
            "name": name, "dataStoreType": kind, "hasBeenValidated": True, "tags": {},
            "azureStorageSection": {"accountName": account, "containerName": container,
                                    "endpoint": "core.windows.net", "protocol": "https",
                                    "credentialType": "AccountKey", "credential": FAKE_KEY,
                                    "accountKey": FAKE_KEY, "sasToken": None, "isSas": False,
                                    "blobCacheTimeout": 0, "subscriptionId": ws.subscription_id,
                                    "resourceGroup": ws.resource_group}})
    return out


class DatastoreRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state

    def register(self, r: Any) -> None:
        r.add("GET", D + "/default", self.get_default, "DATASTORE GET default")
        r.add("PUT", D + "/default/(?P<name>[^/]+)", self.set_default, "DATASTORE PUT default")
        r.add("GET", D + "/datastores", self.list, "DATASTORE list")
        r.add("POST", D + "/datastores", self.create, "DATASTORE POST register")
        r.add("GET", D + "/datastores/(?P<name>[^/]+)", self.get, "DATASTORE GET")
        r.add("PUT", D + "/datastores/(?P<name>[^/]+)", self.update, "DATASTORE PUT update")
        r.add("DELETE", D + "/datastores/(?P<name>[^/]+)", self.delete, "DATASTORE DELETE")

    def _ws(self, req: Request) -> Workspace:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "WorkspaceNotFound", "Workspace '{}' not found.".format(req.params["ws"]))
        return ws

    def _get(self, ws: Workspace, name: str) -> Dict[str, Any]:
        ds = ws.datastores.get(name.lower())
        if ds is None:
            raise HttpError(404, "DatastoreNotFound", f"Datastore '{name}' was not found.")
        return copy.deepcopy(ds.payload)

    def get_default(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            return self._get(ws, ws.default_datastore)

    def set_default(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            self._get(ws, req.params["name"])
            ws.default_datastore = req.params["name"].lower()
        return Response(200, None)

    def get(self, req: Request) -> Any:
        with self.state.lock:
            return self._get(self._ws(req), req.params["name"])

    def list(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            return {"value": [copy.deepcopy(ds.payload) for _, ds in sorted(ws.datastores.items())],
                    "continuationToken": None}

    def _normalise(self, body: Dict[str, Any]) -> Dict[str, Any]:
        payload = copy.deepcopy(body)
        payload["name"] = str(ci_get(body, "name") or "").lower()
        payload.setdefault("hasBeenValidated", True)
        payload.setdefault("tags", {})
        section = payload.get("azureStorageSection")
        if isinstance(section, dict):
            cred_type = section.get("credentialType")
            cred = section.get("credential")
            if cred_type == "Sas":
                section.setdefault("sasToken", cred)
                section["isSas"] = True
            elif cred_type == "AccountKey":
                section.setdefault("accountKey", cred)
                section["isSas"] = False
        return payload

    def create(self, req: Request) -> Any:
        payload = self._normalise(req.json)
        name = payload["name"]
        if not name:
            raise HttpError(400, "BadArgument", "Datastore name is required.")
        with self.state.lock:
            ws = self._ws(req)
            if name in ws.datastores:
                # azureml-core retries as an update when the message contains this text and overwrite=True.
                raise HttpError(400, "Conflict", "Another datastore with the same name already exists.")
            ws.datastores[name] = Datastore(name, payload)
            self.emu.registered_datastores.append({"name": name, "query": dict(req.query), "body": req.json})
        return Response(200, None)

    def update(self, req: Request) -> Any:
        payload = self._normalise(req.json)
        payload["name"] = req.params["name"].lower()
        with self.state.lock:
            ws = self._ws(req)
            ws.datastores[payload["name"]] = Datastore(payload["name"], payload)
        return Response(200, None)

    def delete(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            self._get(ws, req.params["name"])
            del ws.datastores[req.params["name"].lower()]
        return Response(200, None)
