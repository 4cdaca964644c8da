"""Job operations: a Batch AI job is the newest Azure ML run of its experiment whose property
``batchai.job_name`` is ``<job>`` and that is not tagged ``batchai.deleted``
(``docs/azureml-mapping.md`` §1.4, §1.8, §2.1).

Only runs this backend submitted are ever read, canceled or tagged: they carry the property
``batchai.backend=batchai_compat``, which every query filters on and every returned run is checked for
(with the job name), so a server that ignores or widens a ``$filter`` cannot make another run pass for a
job. The run id of a job created by this client is remembered, and the job is read by id (one GET, no
dependence on the run index, which may lag behind a create).

Why a property (``docs/azureml-mapping.md`` §1.8): the job name is a run *property* (immutable, filterable
server-side like tags) rather than a tag, so that it travels with the job spec on the PATCH ``submit()`` sends
anyway; a tag would cost one more request per job. Only ``batchai.deleted`` is a tag (it is set later).
"""

from __future__ import annotations

import json
import logging
import uuid
from email.utils import parsedate_to_datetime
from typing import Any, Dict, List, Optional, Tuple

from batchai_compat.backends import errors
from batchai_compat.backends.base import Body, ExperimentRef, JobRef, Operation, OperationState, Page, completed, polled

from . import _internals, jobs, nodeside, source, tracking, translate
from .errors import status_of, translated
from .paging import page

logger = logging.getLogger("batchai_compat.azureml")
STDOUTERR = "stdouterr"


def _warn(message: str) -> None:
    from batchai_compat.exceptions import warn_compat

    warn_compat(message)


def _created(run: Any) -> str:
    return str(translate.iso(_internals.run_dto(run).get("created_utc")) or "")


def _status(run: Any) -> str:
    return str(_internals.run_dto(run).get("status") or "")


def _terminal(run: Any) -> bool:
    return _status(run).lower() in translate.TERMINAL_STATUSES


class JobOperations:
    """Mixin of :class:`~.backend.AzureMLBackend`: needs ``workspace()``, ``_find_experiment()``,
    ``_compute()`` and ``register_mount_datastores()``."""

    _job_runs: Dict[tuple, str]  # (AML workspace, experiment, job) -> run id, set by the backend

    # -- lookups -------------------------------------------------------------------------------
    def _experiment_stub(self, ref: ExperimentRef) -> Any:
        """An ``Experiment`` object without a request (``Experiment(ws, name)`` would create it)."""
        ws = self.workspace(ref.workspace_ref)  # type: ignore[attr-defined]
        return _internals.experiment_without_request(ws, ref.experiment)

    def _runs(self, ref: ExperimentRef, job: Any) -> List[Any]:
        """Runs of Batch AI jobs this backend submitted, newest first: ``job`` is a name, or ``None`` for every
        job. Filtered server-side on values (``eq``), and every returned run checked client-side."""
        from azureml.core import Run

        exp = self._experiment_stub(ref)
        query = {translate.PROP_OWNER: translate.OWNER}
        if job is not None:
            query[translate.PROP_JOB] = job
        try:
            runs = [r for r in Run.list(exp, properties=query) if translate.is_ours(r.properties, job)]
        except Exception as exc:
            if status_of(exc) == 404:  # the run query of a missing experiment
                raise errors.not_found("Experiment", ref.experiment) from exc
            with translated("Experiment", ref.experiment):
                raise
        return sorted(runs, key=_created, reverse=True)

    def _job_key(self, ref: JobRef) -> tuple:
        return self.mapping.target(ref.workspace_ref) + (ref.experiment, ref.job)  # type: ignore[attr-defined]

    def _remembered_run(self, ref: JobRef) -> Any:
        """The run this client created (or last found) for the job, read by id; None if unknown or gone."""
        from azureml.core import Run

        ids = self._job_runs
        run_id = ids.get(self._job_key(ref))
        if run_id is None:
            return None
        try:
            run = Run(self._experiment_stub(ref.experiment_ref), run_id)
        except Exception as exc:
            if status_of(exc) == 404:
                ids.pop(self._job_key(ref), None)
                return None
            with translated("Job", ref.job):
                raise
        if not translate.is_ours(run.properties, ref.job) or (run.tags or {}).get(translate.TAG_DELETED) == "true":
            ids.pop(self._job_key(ref), None)
            return None
        return run

    def _remember_run(self, ref: JobRef, run_id: Optional[str]) -> None:
        ids = self._job_runs
        if run_id is None:
            ids.pop(self._job_key(ref), None)
        else:
            ids[self._job_key(ref)] = run_id

    def _find_run(self, ref: JobRef) -> Any:
        run = self._remembered_run(ref)
        if run is not None:
            return run
        for run in self._runs(ref.experiment_ref, ref.job):
            if (run.tags or {}).get(translate.TAG_DELETED) != "true":
                self._remember_run(ref, run.id)
                return run
        # Not found: tell a missing (or deleted, i.e. archived) experiment from a missing job. This costs a
        # request on the error path only.
        self._find_experiment(ref.experiment_ref)  # type: ignore[attr-defined]
        raise errors.not_found("Job", ref.job)

    def _launch_result(self, run: Any) -> Optional[Dict[str, Any]]:
        """The launcher's result (``logs/batchai/result.json``) of a failed run, if it was uploaded."""
        import requests

        try:
            url = _internals.run_file_uri(run, nodeside.RESULT_FILE)
            response = requests.get(url, timeout=30)
            response.raise_for_status()
            result = response.json()
            return result if isinstance(result, dict) else None
        except Exception as exc:  # no result file: the launcher never ran (image, quota, preemption...)
            logger.debug("no launcher result for run %s: %s", getattr(run, "id", "?"), exc)
            return None

    def _job_body(self, ref: JobRef, run: Any) -> Body:
        spec, _props = jobs.stored_spec(run)
        if spec is None:
            raise errors.not_found("Job", ref.job)
        facts = jobs.run_facts(run)
        result = self._launch_result(run) if str(facts["status"]).lower() == "failed" else None
        return translate.job_body(ref, spec, facts, result)

    # -- create --------------------------------------------------------------------------------
    def create_job(self, ref: JobRef, body: Body) -> Operation:
        from azureml.core import Datastore
        from azureml.data.data_reference import DataReference

        # An experiment this backend saw exist is not queried again (Azure ML may answer a run query on a missing
        # experiment with an empty list, and a submission would create it).
        if not self.experiment_known(ref.experiment_ref):  # type: ignore[attr-defined]
            self._find_experiment(ref.experiment_ref)  # type: ignore[attr-defined]
        # An earlier run of this job makes the create idempotent (ARM PUT): re-running a notebook cell must not
        # start a second run.
        digest = translate.request_digest(body)
        remembered = self._remembered_run(ref)
        for earlier in ([remembered] if remembered is not None else []) + self._runs(ref.experiment_ref, ref.job):
            if (earlier.tags or {}).get(translate.TAG_DELETED) == "true":
                continue
            if (earlier.properties or {}).get(translate.PROP_DIGEST) != digest:
                raise errors.Conflict("Conflict", f"The specified job {ref.job} already exists with different "
                                      "parameters; jobs cannot be updated: delete it first")
            return completed(self._job_body(ref, earlier), accepted=True)
        exp = self._experiment_stub(ref.experiment_ref)
        ws = exp.workspace
        raw = body.get("properties") or {}
        c_sub, c_rg, c_ws, cluster = translate.parse_cluster_id((raw.get("cluster") or {}).get("id", ""))
        cluster_ref = _cluster_ref(ref, cluster)
        if c_ws is not None:
            from batchai_compat.backends.base import WorkspaceRef

            home = WorkspaceRef(c_sub or ref.subscription_id, c_rg or ref.resource_group, c_ws)
            if self.mapping.target(home) != self.mapping.target(ref.workspace_ref):  # type: ignore[attr-defined]
                raise errors.NotSupported(
                    "CrossWorkspaceClusterNotSupported",
                    f"cluster {cluster} belongs to Batch AI workspace {c_ws}, which maps to another Azure ML "
                    "workspace than the job's: Azure ML runs can only use compute of their own workspace. Map both "
                    "Batch AI workspaces to one Azure ML workspace (workspace_map=) or create the cluster there.")
        cluster_props = self.cluster_settings(cluster_ref)  # type: ignore[attr-defined]
        suffix = uuid.uuid4().hex[:8]
        run_id = translate.new_run_id(ref.experiment, ref.job, suffix)
        props = translate.normalize_job(ref, raw, str(uuid.uuid4()))
        props["creationTime"] = translate.now_iso()
        job_plan = jobs.plan(ref, props, cluster_props, run_id)
        # AZ_BATCHAI_NUM_GPUS and MPI slots: what Azure ML reports for the VM size (None: counted on the node).
        held = self._computes.get(self._cluster_key(cluster_ref))  # type: ignore[attr-defined]
        job_plan["aml_spec"]["gpus_per_node"] = self.vm_size_gpus(  # type: ignore[attr-defined]
            ws, cluster_props.get("vmSize"), getattr(held, "location", None))
        for note in job_plan["notes"]:
            _warn(f"jobs.create {ref.job}: {note}")
        # Every run property is checked against Azure ML's limits before anything is written or started: the
        # properties reach the run after it started (see tracking.py), too late to be refused.
        spec_text = json.dumps(translate.strip_job_secrets(props), separators=(",", ":"))
        properties = translate.spec_properties(spec_text, {
            translate.PROP_OWNER: translate.OWNER,
            translate.PROP_JOB: ref.job,
            translate.PROP_DIGEST: digest,
            translate.PROP_TOOL: props["toolType"],
            translate.PROP_SEGMENT: props["jobOutputDirectoryPathSegment"],
        })
        self.register_mount_datastores(ws, props.get("mountVolumes"))  # type: ignore[attr-defined]
        data_references = {}
        for level in ("cluster", "job"):
            for mount in job_plan["mounts"][level]:
                with translated("Datastore", mount["datastore"]):
                    store = Datastore.get(ws, mount["datastore"])
                dref = DataReference(store, data_reference_name=mount["reference"], mode="mount")
                data_references[mount["reference"]] = dref.to_config()
        if job_plan["secret_values"]:
            with translated("Job", ref.job):
                ws.get_default_keyvault().set_secrets(job_plan["secret_values"])
        directory = source.build(job_plan["aml_spec"])
        try:
            config = jobs.script_run_config(job_plan, directory, data_references)
            # The properties ride on the PATCH that submit() sends anyway (see tracking.py).
            with tracking.run_properties(directory, properties) as pending, translated("Cluster", cluster):
                run = exp.submit(config, run_id=run_id)
            self._remember_run(ref, run_id)
            if not pending.gathered:  # the hook did not apply
                with translated("Job", ref.job):
                    run.add_properties(properties)
        finally:
            source.remove(directory)
        facts = {"status": "Queued", "created": props["creationTime"]}
        return completed(translate.job_body(ref, props, facts), accepted=True)

    # -- read ----------------------------------------------------------------------------------
    def get_job(self, ref: JobRef) -> Body:
        return self._job_body(ref, self._find_run(ref))

    def list_jobs(self, ref: ExperimentRef, max_results: int, continuation: Optional[str]) -> Page:
        newest: Dict[str, Any] = {}
        for run in self._runs(ref, None):
            name = (run.properties or {}).get(translate.PROP_JOB)  # _runs checked it is set
            if not name or name in newest or (run.tags or {}).get(translate.TAG_DELETED) == "true":
                continue
            newest[name] = run
        bodies = []
        for name in sorted(newest):
            try:
                bodies.append(self._job_body(JobRef(*ref, name), newest[name]))
            except errors.NotFound:
                continue
        return page(bodies, max_results, continuation)

    # -- terminate / delete --------------------------------------------------------------------
    def _cancel(self, ref: JobRef, run: Any) -> None:
        from azureml.core import Run

        if _terminal(run):
            return
        with translated("Job", ref.job):
            # Run.cancel posts to the run's cancelUri; ScriptRun.cancel would first fetch the run details
            # (3 requests) only to check that the target is not "local", which it never is here.
            Run.cancel(run)

    def terminate_job(self, ref: JobRef) -> Operation:
        run = self._find_run(ref)
        if _terminal(run):
            return completed(None, accepted=True)
        self._cancel(ref, run)

        def poll() -> OperationState:
            with translated("Job", ref.job):
                status = run.get_status()
            if str(status).lower() in translate.TERMINAL_STATUSES:
                return OperationState("Succeeded")
            return OperationState("InProgress")

        return polled(poll, initial=None, delay=0.5)

    def delete_job(self, ref: JobRef) -> Operation:
        run = self._find_run(ref)
        _warn(f"jobs.delete {ref.job}: Azure ML runs cannot be deleted: run {run.id} is canceled if still active and "
              "hidden from Batch AI calls (tag batchai.deleted); its history and outputs stay in Azure ML")
        self._cancel(ref, run)
        with translated("Job", ref.job):
            run.set_tags({translate.TAG_DELETED: "true"})
        self._remember_run(ref, None)
        return completed(None, accepted=True)

    def hide_experiment_runs(self, exp: Any) -> None:
        """experiments.delete: its jobs are killed and gone, as on Batch AI (runs canceled and tagged deleted;
        the tags matter when Azure ML only archives the experiment and re-creating it revives the runs)."""
        from azureml.core import Run

        with translated("Experiment", exp.name):
            for run in Run.list(exp, properties={translate.PROP_OWNER: translate.OWNER}):
                if not translate.is_ours(run.properties):  # never touch a run this backend did not submit
                    continue
                if not _terminal(run):
                    Run.cancel(run)
                if (run.tags or {}).get(translate.TAG_DELETED) != "true":
                    run.set_tags({translate.TAG_DELETED: "true"})

    # -- files and nodes -----------------------------------------------------------------------
    def list_output_files(self, ref: JobRef, output_directory_id: str, directory: str, link_expiry_minutes: int,
                          max_results: int, continuation: Optional[str]) -> Page:
        run = self._find_run(ref)
        spec, _props = jobs.stored_spec(run)
        prefix = artifact_prefix(spec or {}, output_directory_id, directory)
        logger.debug("list_output_files: linkexpiryinminutes=%s ignored (Azure ML picks the SAS lifetime)",
                     link_expiry_minutes)
        # An ended job's nodes left the size and time of their files beside the directory (nodeside
        # write_manifests): one listing and one read per node instead of one HEAD per file.
        base = manifest_base(prefix)
        ended = _terminal(run)
        with translated("Job", ref.job):
            pairs = _internals.run_files_by_prefix(run, base if ended else prefix)
        known = read_manifests(pairs, base) if ended else {}
        files, directories = children(pairs, prefix)
        bodies = [{"name": name, "fileType": "directory"} for name in directories]
        for name, url in files:
            bodies.append(file_body(name, url, known.get(prefix + name)))
        bodies.sort(key=lambda b: b["name"].encode("utf-8"))
        return page(bodies, max_results, continuation)

    def list_job_remote_login_information(self, ref: JobRef, continuation: Optional[str]) -> Page:
        from . import clusters

        run = self._find_run(ref)
        spec, _props = jobs.stored_spec(run)
        _s, _r, _w, cluster = translate.parse_cluster_id(((spec or {}).get("cluster") or {}).get("id", ""))
        if _terminal(run):
            return Page([])
        ct = self._compute(_cluster_ref(ref, cluster))  # type: ignore[attr-defined]
        with translated("Cluster", cluster):
            nodes = ct.list_nodes()
        return page(clusters.remote_login(nodes, run.id), 1000, continuation)


def _cluster_ref(ref: Any, cluster: str) -> Any:
    from batchai_compat.backends.base import ClusterRef

    return ClusterRef(ref.subscription_id, ref.resource_group, ref.workspace, cluster)


def artifact_prefix(spec: Body, output_directory_id: str, directory: str) -> str:
    """The run-artifact prefix (ending in ``/``) holding a Batch AI output directory's ``directory``."""
    if output_directory_id.lower() == STDOUTERR:
        base = f"{nodeside.LOGS_DIR}/{STDOUTERR}"
    else:  # ids are case-insensitive
        found = [d for d in spec.get("outputDirectories") or []
                 if str(d.get("id")).lower() == output_directory_id.lower()]
        if not found:
            raise errors.InvalidInput("OutputDirectoryNotFound",
                                      f"The specified outputDirectoryId {output_directory_id} is not present in the "
                                      "job's outputDirectories")
        suffix = str(found[0].get("pathSuffix") or "").strip("/")
        base = f"outputs/{found[0]['id']}/{nodeside.SEGMENT}/outputs" + (f"/{suffix}" if suffix else "")
    sub = str(directory or ".").strip("/")
    if sub not in ("", "."):
        parts = [p for p in sub.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise errors.InvalidInput("InvalidDirectory", f"directory {directory!r} must stay inside the output "
                                                          "directory")
        base += "/" + "/".join(parts)
    return base + "/"


def children(pairs: List[Tuple[str, str]], prefix: str) -> Tuple[List[Tuple[str, str]], List[str]]:
    """Immediate files ``[(name, url)]`` and sub-directory names under ``prefix``."""
    files, directories = [], set()
    for path, url in pairs:
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix):]
        if "/" in rest:
            directories.add(rest.split("/", 1)[0])
        elif rest and rest != nodeside.KEEP:
            files.append((rest, url))
    return files, sorted(directories)


def manifest_base(prefix: str) -> str:
    """The artifact directory holding the node manifests for a listing ``prefix`` (see nodeside)."""
    if prefix.startswith(nodeside.LOGS_DIR + "/"):
        return nodeside.LOGS_DIR + "/"
    return "/".join(prefix.split("/")[:3]) + "/"  # outputs/<ID>/batchai/


def read_manifests(pairs: List[Tuple[str, str]], base: str) -> Dict[str, Any]:
    """``{artifact path: [size, mtime]}`` from the nodes' manifests among ``pairs`` (missing or unreadable
    ones are skipped: those files get a HEAD request)."""
    import requests

    known: Dict[str, Any] = {}
    for path, url in pairs:
        rest = path[len(base):] if path.startswith(base) else ""
        if not (rest.startswith(nodeside.MANIFEST_STEM) and rest.endswith(".json") and "/" not in rest):
            continue
        try:
            response = requests.get(url, timeout=30)
            response.raise_for_status()
            entries = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.debug("manifest %s not read: %s", path, exc)
            continue
        if isinstance(entries, dict):
            known.update({k: v for k, v in entries.items() if isinstance(v, list) and len(v) == 2})
    return known


def file_body(name: str, url: str, known: Optional[List[Any]] = None) -> Body:
    """A ``File`` body; size and time from the node's manifest (``known``: ``[size, mtime]``), else from a HEAD
    on the SAS URL (the artifact listing has neither)."""
    import requests

    body: Body = {"name": name, "fileType": "file", "downloadUrl": url}
    if known is not None:
        from datetime import datetime, timezone

        try:
            body["properties"] = {"contentLength": int(known[0]), "lastModified": translate.iso(
                datetime.fromtimestamp(float(known[1]), timezone.utc))}
            return body
        except (TypeError, ValueError, OverflowError, OSError):
            pass
    try:
        head = requests.head(url, timeout=30, allow_redirects=True)
        head.raise_for_status()
    except requests.RequestException as exc:
        logger.debug("HEAD %s failed: %s", name, exc)
        return body
    props: Body = {}
    length = head.headers.get("Content-Length")
    if length is not None and length.isdigit():
        props["contentLength"] = int(length)
    modified = head.headers.get("Last-Modified")
    if modified:
        try:
            props["lastModified"] = translate.iso(parsedate_to_datetime(modified))
        except (TypeError, ValueError):
            pass
    if props:
        body["properties"] = props
    return body
