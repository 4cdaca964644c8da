"""Execution service routes: ``startrun`` (multipart: run definition + project zip, what azureml-core sends
with ``AML_FORCE_EXECUTE_WITH_ZIP=1``), ``snapshotrun``, ``localrun`` (``compute_target="local"``) and cancel.
The runs they create are executed by :mod:`.executor`."""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import os
import tempfile
import time
import zipfile
from typing import Any, Dict, List, Optional, Tuple

from .server import Request, Response
from .state import Workspace
from .util import HttpError, ci_get

X = "/execution/v1.0{WS}/experiments/(?P<exp>[^/]+)"


def parse_multipart_parts(content_type: str, body: bytes) -> List[Tuple[str, str, bytes]]:
    """``[(field name, file name, data)]`` of a multipart/form-data body."""
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    if not msg.is_multipart():
        raise HttpError(400, "BadRequest", "Expected a multipart/form-data body.")
    parts = []
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append((str(name or ""), str(filename or ""), payload if isinstance(payload, bytes) else b""))
    return parts


def parse_multipart(content_type: str, body: bytes) -> Dict[str, bytes]:
    return {name: data for name, _filename, data in parse_multipart_parts(content_type, body) if name}


def _invocation_zip() -> bytes:
    """What ``localrun`` answers: azureml-core extracts it and starts ``azureml-setup/Invocation.sh`` in the
    background.  The emulator executes the run itself, so the scripts only exit."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in (("azureml-setup/Invocation.sh", "#!/bin/sh\n# executed by the Azure ML emulator\nexit 0\n"),
                           ("azureml-setup/Invocation.bat", "@echo off\r\nexit /b 0\r\n")):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            zf.writestr(info, text)
    return buf.getvalue()


def _zip_directory(path: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if d != "azureml-setup"]
            for name in names:
                full = os.path.join(dirpath, name)
                zf.write(full, os.path.relpath(full, path))
    return buf.getvalue()


class ExecutionRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state

    def register(self, r: Any) -> None:
        r.add("POST", X + "/startrun", self.startrun, "EXEC POST startrun")
        r.add("POST", X + "/snapshotrun", self.snapshotrun, "EXEC POST snapshotrun")
        r.add("POST", X + "/localrun", self.localrun, "EXEC POST localrun")
        r.add("POST", X + "/runId/(?P<run>[^/]+)/cancel", self.cancel, "EXEC POST cancel")
        r.add("POST", X + "/runs/(?P<run>[^/]+)/cancel", self.cancel, "EXEC POST runs cancel")
        r.add("POST", "/jasmine/v1.0{WS}/experimentids/(?P<eid>[^/]+)/cancelrun/(?P<run>[^/]+)", self.cancel,
              "JASMINE POST cancelrun")

    def _ws(self, req: Request) -> Workspace:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "WorkspaceNotFound", "Workspace '{}' not found.".format(req.params["ws"]))
        return ws

    def startrun(self, req: Request) -> Any:
        ctype = req.headers.get("Content-Type") or ""
        parts = parse_multipart(ctype, req.body)
        definition_raw = parts.get("runDefinitionFile")
        if definition_raw is None:
            raise HttpError(400, "BadRequest", "startrun needs a runDefinitionFile part.")
        definition = json.loads(definition_raw.decode("utf-8"))
        return self._start(req, definition, parts.get("projectZipFile"))

    def snapshotrun(self, req: Request) -> Any:
        """Without ``AML_FORCE_EXECUTE_WITH_ZIP`` the files would be in blob storage, out of reach; the run
        is accepted and fails with an explanation (``AzureMLEmulator`` sets the variable while running)."""
        return self._start(req, req.json, None)

    def localrun(self, req: Request) -> Any:
        """``compute_target="local"``: azureml-core copies the project to ``$TMPDIR/azureml_runs/<run id>``
        before calling; the emulator (on the same machine) runs that copy and answers a no-op invocation."""
        parts = parse_multipart_parts(req.headers.get("Content-Type") or "", req.body)
        definition = None
        for _name, filename, data in parts:
            if filename == "definition.json":
                definition = json.loads(data.decode("utf-8"))
        if definition is None:
            raise HttpError(400, "BadRequest", "localrun needs a definition.json part.")
        run_id = req.arg("runId") or ""
        project = os.path.join(tempfile.gettempdir(), "azureml_runs", run_id)
        zip_bytes = _zip_directory(project) if run_id and os.path.isdir(project) else None
        self._start(req, definition, zip_bytes)
        return Response(200, _invocation_zip(), content_type="application/zip")

    def _start(self, req: Request, definition: Dict[str, Any], zip_bytes: Optional[bytes]) -> Any:
        run_id = req.arg("runId")
        config = ci_get(definition, "Configuration") or {}
        target = str(config.get("target") or "local")
        with self.state.lock:
            ws = self._ws(req)
            exp = ws.experiments.get(req.params["exp"].lower())
            if exp is None:
                raise HttpError(404, "ExperimentNotFound", "Experiment '{}' not found.".format(req.params["exp"]))
            if target.lower() != "local" and target.lower() not in ws.computes:
                raise HttpError(400, "ComputeTargetNotFound",
                                f"Compute target '{target}' was not found in workspace '{ws.name}'.")
            if not run_id:
                run_id = f"{exp.name}_{int(time.time())}_{os.urandom(4).hex()}"
            if run_id in ws.runs:
                raise HttpError(409, "RunIdAlreadyExists", f"A run with id '{run_id}' already exists.")
            run = self.emu.new_run(ws, exp, run_id, target=target, run_type="azureml.scriptrun")
            run.configuration = config
            run.definition = definition
            run.snapshot_id = ci_get(definition, "SnapshotId")
            run.source_zip = zip_bytes
            run.executed = True
            run.parent_run_id = ci_get(definition, "ParentRunId")
            run.properties.update({
                "_azureml.ComputeTargetType": "local" if target.lower() == "local" else "amlcompute",
                "azureml.runsource": "experiment",
                "ProcessInfoFile": "azureml-logs/process_info.json",
                "ProcessStatusFile": "azureml-logs/process_status.json",
            })
            if run.snapshot_id:
                run.properties["ContentSnapshotId"] = run.snapshot_id
            run.set_status("Queued")
            self.emu.submissions.append({"run_id": run_id, "definition": definition,
                                         "zip_names": _zip_names(zip_bytes)})
            self.emu.executor.submit(ws, run)
        return {"runId": run_id}

    def cancel(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            run = ws.runs.get(req.params["run"])
            if run is None:
                raise HttpError(404, "RunNotFound", "Run '{}' was not found.".format(req.params["run"]))
            self.emu.executor.cancel(run, reason="canceled by user")
        return Response(200, None)


def _zip_names(data: Optional[bytes]) -> List[str]:
    if not data:
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return sorted(zf.namelist())
    except zipfile.BadZipFile:
        return []
