"""Content (snapshot) routes.  Snapshot uploads to blob storage cannot reach 127.0.0.1 (azureml rebuilds
``https://{account}.blob.{suffix}`` from the SAS URL), so ``getblob`` hands out no upload URLs: the directory
tree with names and hashes still arrives, and the files themselves come with the ``startrun`` zip
(``AML_FORCE_EXECUTE_WITH_ZIP=1``)."""

from __future__ import annotations

from typing import Any

from .server import Request, Response
from .util import HttpError, ci_get, iso, utcnow

C1 = "/content/v1.0{WS}"
C2 = "/content/v2.0{WS}"


class ContentRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state

    def register(self, r: Any) -> None:
        r.add("GET", C1 + "/snapshots/latest/metadata", self.latest, "CONTENT GET latest snapshot")
        r.add("POST", C2 + "/snapshots/getblob", self.getblob, "CONTENT POST getblob")
        r.add("POST", C2 + "/snapshots/(?P<sid>[0-9a-fA-F-]{36})", self.create, "CONTENT POST snapshot")
        r.add("GET", C1 + "/snapshots/(?P<sid>[0-9a-fA-F-]{36})/metadata", self.metadata,
              "CONTENT GET snapshot metadata")
        r.add("GET", C1 + "/snapshots/(?P<sid>[0-9a-fA-F-]{36})", self.metadata, "CONTENT GET snapshot")

    def _ws(self, req: Request) -> Any:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "WorkspaceNotFound", "Workspace '{}' not found.".format(req.params["ws"]))
        return ws

    def latest(self, req: Request) -> Any:
        # Always "no previous snapshot": every submit then sends its full tree (the emulator takes the
        # files from the startrun zip anyway).
        with self.state.lock:
            self._ws(req)
        return {"id": None, "root": {}, "tags": {}, "properties": {}}

    def getblob(self, req: Request) -> Any:
        body = req.json
        names = ci_get(body, "FileNames") or []
        with self.state.lock:
            self._ws(req)
            self.emu.snapshot_file_requests.append(list(names))
        return {"fileNodes": []}

    def create(self, req: Request) -> Any:
        body = req.json
        with self.state.lock:
            ws = self._ws(req)
            ws.snapshots[req.params["sid"]] = {"id": req.params["sid"], "created": iso(utcnow()),
                                               "parent": ci_get(body, "ParentSnapshotId"),
                                               "root": ci_get(body, "DirTreeNode"),
                                               "files": ci_get(ci_get(body, "FileRevisionList") or {},
                                                               "FileNodes") or []}
        return Response(200, {"id": req.params["sid"]})

    def metadata(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            snap = ws.snapshots.get(req.params["sid"])
        if snap is None:
            raise HttpError(404, "SnapshotNotFound", "Snapshot '{}' not found.".format(req.params["sid"]))
        return {"id": snap["id"], "root": snap["root"] or {}, "createdTime": snap["created"],
                "parentSnapshotId": snap["parent"]}
