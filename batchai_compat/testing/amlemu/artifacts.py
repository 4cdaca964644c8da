"""Artifact routes: run files (``outputs/``, ``logs/``, ``user_logs/``, ``system_logs/`` and anything
uploaded through the API) listed as ``ArtifactDto`` and handed out as SAS-like download URLs that point at the
emulator itself (``/emu-blob/...?se=...&sig=...``, HMAC-signed, plain ``requests`` GET works)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from .server import Request, Response
from .state import Run, Workspace
from .util import HttpError, ci_get, iso

A2 = "/artifact/v2.0{WS}/artifacts"
ORIGIN = "ExperimentRun"


class ArtifactRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state
        self._key = os.urandom(16)

    def register(self, r: Any) -> None:
        r.add("GET", A2 + "/contentinfo/(?P<origin>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)", self.contentinfo,
              "ARTIFACT GET contentinfo")
        r.add("GET", A2 + "/prefix/contentinfo/(?P<origin>[^/]+)/(?P<container>[^/]+)/(?P<path>.*)",
              self.prefix_contentinfo, "ARTIFACT GET prefix contentinfo")
        r.add("GET", A2 + "/content/(?P<origin>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)", self.content,
              "ARTIFACT GET content")
        r.add("POST", A2 + "/batch/metadata/(?P<origin>[^/]+)/(?P<container>[^/]+)", self.batch_create,
              "ARTIFACT POST batch metadata")
        r.add("POST", A2 + "/batch/(?P<origin>[^/]+)/(?P<container>[^/]+)", self.batch_create,
              "ARTIFACT POST batch")
        r.add("GET", A2 + "/(?P<origin>[^/]+)/(?P<container>[^/]+)", self.list, "ARTIFACT GET list")
        r.add("GET", A2 + "/(?P<origin>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)", self.metadata,
              "ARTIFACT GET metadata")
        r.add("GET", r"/emu-blob/(?P<wsid>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)", self.blob_get, "BLOB GET")
        r.add("HEAD", r"/emu-blob/(?P<wsid>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)", self.blob_get, "BLOB HEAD")
        r.add("PUT", r"/emu-blob/(?P<wsid>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)", self.blob_put, "BLOB PUT")

    # -- file model ------------------------------------------------------------------------------------
    def run_files(self, run: Run) -> Dict[str, Tuple[Optional[str], Optional[bytes], float]]:
        """``{artifact path: (file path or None, bytes or None, mtime)}`` for one run."""
        files: Dict[str, Tuple[Optional[str], Optional[bytes], float]] = {}
        roots: List[Tuple[str, str]] = []
        if run.run_dir:
            roots.append((os.path.join(run.run_dir, "user_logs"), "user_logs"))
            roots.append((os.path.join(run.run_dir, "system_logs"), "system_logs"))
        # ./logs and ./outputs are the union over the working directories of all the run's nodes (AML
        # uploads them from every node). A name written on two nodes fails the run when it finalizes (Azure ML
        # refuses an artifact that exists: see state.Run.set_status); the listing keeps node 0's copy.
        for work_dir in run.node_work_dirs or ([run.work_dir] if run.work_dir else []):
            roots.append((os.path.join(work_dir, "logs"), "logs"))
            # Like AML, ./outputs is uploaded when the user process has ended.
            if run.process_ended or run.terminal:
                roots.append((os.path.join(work_dir, "outputs"), "outputs"))
        for root, prefix in roots:
            if not os.path.isdir(root):
                continue
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    full = os.path.join(dirpath, name)
                    if not os.path.isfile(full):
                        continue
                    rel = os.path.relpath(full, root).replace(os.sep, "/")
                    try:
                        mtime = os.path.getmtime(full)
                    except OSError:
                        continue
                    files.setdefault(prefix + "/" + rel, (full, None, mtime))
        for path, data in run.uploaded.items():
            files[path] = (None, data, run.created.timestamp())
        return dict(sorted(files.items()))

    def _run(self, ws: Workspace, container: str) -> Run:
        run_id = container[5:] if container.startswith("dcid.") else container
        run = ws.runs.get(run_id)
        if run is None:
            raise HttpError(404, "ArtifactContainerNotFound", f"Container '{container}' not found.")
        return run

    def _ws(self, req: Request) -> Workspace:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "WorkspaceNotFound", "Workspace '{}' not found.".format(req.params["ws"]))
        return ws

    def _dto(self, run: Run, path: str, mtime: float) -> Dict[str, Any]:
        return {"artifactId": f"{ORIGIN}/{run.container}/{path}", "origin": ORIGIN,
                "container": run.container, "path": path, "etag": f"\"{int(mtime * 1e6):x}\"",
                "createdTime": iso(_dt.datetime.fromtimestamp(mtime, _dt.timezone.utc)), "dataPath": None}

    def sign(self, wsid: str, container: str, path: str, expiry: int) -> str:
        msg = f"{wsid}\n{container}\n{path}\n{expiry}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def sas_url(self, base_url: str, ws: Workspace, run: Run, path: str) -> str:
        expiry = int(time.time()) + 3600
        sig = self.sign(ws.workspace_id, run.container, path, expiry)
        return (f"{base_url}/emu-blob/{ws.workspace_id}/{run.container}/{quote(path)}"
                f"?sv=2019-07-07&sr=b&sp=r&se={expiry}&sig={sig}")

    def _info(self, req: Request, ws: Workspace, run: Run, path: str) -> Dict[str, Any]:
        return {"contentUri": self.sas_url(req.base_url, ws, run, path), "origin": ORIGIN,
                "container": run.container, "path": path}

    # -- routes ------------------------------------------------------------------------------------------
    def list(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            run = self._run(ws, req.params["container"])
            files = self.run_files(run)
            value = [self._dto(run, path, mtime) for path, (_f, _d, mtime) in files.items()]
        return {"value": value, "continuationToken": None, "nextLink": None}

    def metadata(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            run = self._run(ws, req.params["container"])
            files = self.run_files(run)
            entry = files.get(req.params["path"])
            if entry is None:
                raise HttpError(404, "ArtifactNotFound", "Artifact '{}' not found.".format(req.params["path"]))
            return self._dto(run, req.params["path"], entry[2])

    def contentinfo(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            run = self._run(ws, req.params["container"])
            if req.params["path"] not in self.run_files(run):
                raise HttpError(404, "ArtifactNotFound", "Artifact '{}' not found.".format(req.params["path"]))
            return self._info(req, ws, run, req.params["path"])

    def prefix_contentinfo(self, req: Request) -> Any:
        prefix = req.params.get("path") or ""
        with self.state.lock:
            ws = self._ws(req)
            run = self._run(ws, req.params["container"])
            value = [self._info(req, ws, run, path) for path in self.run_files(run) if path.startswith(prefix)]
        return {"value": value, "continuationToken": None, "nextLink": None}

    def content(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            run = self._run(ws, req.params["container"])
            entry = self.run_files(run).get(req.params["path"])
        if entry is None:
            raise HttpError(404, "ArtifactNotFound", "Artifact '{}' not found.".format(req.params["path"]))
        return Response(200, _read(entry))

    def batch_create(self, req: Request) -> Any:
        """``run.upload_file`` from inside a run: create the artifacts, answer upload URLs to /emu-blob."""
        body = req.json
        paths = [ci_get(p, "path") for p in (ci_get(body, "paths") or [])]
        with self.state.lock:
            ws = self._ws(req)
            run = self._run(ws, req.params["container"])
            artifacts, infos, errors = {}, {}, {}
            existing = self.run_files(run)
            for path in paths:
                if not path:
                    continue
                if path in existing:
                    # The artifact service does not overwrite: a per-path error, which azureml-core raises
                    # (azureml/_restclient/artifacts_client.py, create_empty_artifacts: "if res.errors").
                    errors[path] = {"error": {"code": "UserError", "message": f"Resource Conflict: ArtifactId "
                                              f"{ORIGIN}/{run.container}/{path} already exists."}}
                    continue
                run.uploaded.setdefault(path, b"")
                artifacts[path] = self._dto(run, path, time.time())
                infos[path] = self._info(req, ws, run, path)
        return {"artifacts": artifacts, "artifactContentInformation": infos, "errors": errors}

    def _check_sig(self, req: Request) -> None:
        expiry = req.arg("se") or "0"
        sig = req.arg("sig") or ""
        good = self.sign(req.params["wsid"], req.params["container"], req.params["path"], int(expiry)) \
            if expiry.isdigit() else ""
        if not good or not hmac.compare_digest(good, sig) or int(expiry) < time.time():
            raise HttpError(403, "AuthenticationFailed", "Server failed to authenticate the request (bad SAS).")

    def _blob_run(self, req: Request) -> Tuple[Workspace, Run]:
        for ws in self.state.workspaces.values():
            if ws.workspace_id == req.params["wsid"]:
                return ws, self._run(ws, req.params["container"])
        raise HttpError(404, "ContainerNotFound", "The specified container does not exist.")

    def blob_get(self, req: Request) -> Any:
        self._check_sig(req)
        with self.state.lock:
            _ws, run = self._blob_run(req)
            entry = self.run_files(run).get(req.params["path"])
        if entry is None:
            raise HttpError(404, "BlobNotFound", "The specified blob does not exist.")
        data = _read(entry)
        mtime = _dt.datetime.fromtimestamp(entry[2], _dt.timezone.utc)
        headers = {"Last-Modified": mtime.strftime("%a, %d %b %Y %H:%M:%S GMT"), "x-ms-blob-type": "BlockBlob",
                   "Accept-Ranges": "bytes"}
        wanted = _byte_range(req.headers.get("Range") or req.headers.get("x-ms-range"), len(data))
        if wanted is None:
            return Response(200, data, headers)
        if wanted == ():
            raise HttpError(416, "InvalidRange", "The range specified is invalid for the current size of the resource.",
                            headers={"Content-Range": f"bytes */{len(data)}"})
        start, end = wanted
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return Response(206, data[start:end + 1], headers)

    def blob_put(self, req: Request) -> Any:
        self._check_sig(req)
        with self.state.lock:
            _ws, run = self._blob_run(req)
            path = req.params["path"]
            if (req.arg("comp") or "") == "appendblock":
                run.uploaded[path] = run.uploaded.get(path, b"") + req.body
            else:
                run.uploaded[path] = req.body
        return Response(201, None)


def _byte_range(header: Optional[str], size: int) -> Any:
    """Azure Blob's handling of ``Range: bytes=a-b`` / ``a-`` / ``-n``: ``None`` for a full answer
    (no header, or one it ignores), ``()`` when unsatisfiable, else the inclusive ``(start, end)``."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].strip().partition("-")
    try:
        if not first:
            count = int(last)
            return (max(size - count, 0), size - 1) if count > 0 and size else ()
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    return (start, end) if start < size and start <= end else ()


def _read(entry: Tuple[Optional[str], Optional[bytes], float]) -> bytes:
    path, data, _mtime = entry
    if data is not None:
        return data
    try:
        with open(path, "rb") as fh:  # type: ignore[arg-type]
            return fh.read()
    except OSError as exc:
        raise HttpError(404, "BlobNotFound", str(exc)) from exc
