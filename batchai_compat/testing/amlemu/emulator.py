"""The :class:`AzureMLEmulator` facade: state, routes, servers, environment and the request log."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .arm import ArmRoutes
from .artifacts import ArtifactRoutes
from .auth import make_auth
from .compute import ComputeRoutes
from .content import ContentRoutes
from .credentials import CredentialRoutes
from .datastores import DatastoreRoutes, builtin_datastores
from .execution import ExecutionRoutes
from .executor import Executor
from .history import HistoryRoutes
from .hygiene import fast_polling, isolated_azureml_home, no_compute_sleep
from .server import LoopbackServer, RequestRecord, Router
from .state import EmulatorState, Experiment, Run, Workspace

VCPUS = {"STANDARD_D1_V2": 1, "STANDARD_D2_V2": 2, "STANDARD_D3_V2": 4, "STANDARD_D4_V2": 8,
         "STANDARD_DS2_V2": 2, "STANDARD_DS3_V2": 4, "STANDARD_NC6": 6, "STANDARD_NC12": 12,
         "STANDARD_NC24": 24, "STANDARD_NC6S_V3": 6, "STANDARD_F2S_V2": 2}


def local_storage_datastore_dirs(home: Optional[str] = None) -> Any:
    """A ``datastore_dirs`` callable that maps registered Azure blob containers and file shares onto
    batchai_compat's local storage emulation (``$BATCHAI_COMPAT_HOME/storage/<account>/blobs/<container>``
    and ``.../shares/<share>``), so data references of emulated runs see the files the local storage
    clients wrote."""
    def resolve(ws: Workspace, payload: Dict[str, Any]) -> Optional[str]:
        from ..._home import container_path, share_path
        section = payload.get("azureStorageSection") or {}
        account, container = section.get("accountName"), section.get("containerName")
        if not account or not container:
            return None
        try:
            if payload.get("dataStoreType") == "AzureFile":
                return str(share_path(account, container, home))
            return str(container_path(account, container, home))
        except ValueError:
            return None
    return resolve


class AzureMLEmulator:
    """An Azure Machine Learning (SDK v1 wire protocol) emulator on 127.0.0.1 that executes runs locally.

    Typical use::

        with AzureMLEmulator(workspaces=[("sub", "rg", "ws")]) as emu:
            ws = Workspace("sub", "rg", "ws", auth=emu.auth())
            ...
        assert not emu.unrouted

    :param workspaces: ``(subscription, resource group, name[, location])`` tuples to create up front
        (more with :meth:`add_workspace`).
    :param https: serve HTTPS with a generated self-signed certificate (needed by ``Workspace.create``);
        the certificate is at :attr:`cert_path` and is exported as ``REQUESTS_CA_BUNDLE`` when
        ``patch_environ`` is true.
    :param root: directory for run working directories, the isolated HOME and the certificate (default:
        a temporary directory removed by :meth:`stop`).
    :param patch_environ: while running, set ``HOME`` (isolated azureml caches), ``AML_FORCE_EXECUTE_WITH_ZIP=1``
        (so submitted source arrives with ``startrun``), ``NO_PROXY`` += 127.0.0.1,localhost, and
        ``REQUESTS_CA_BUNDLE`` for HTTPS; restored by :meth:`stop`.
    :param fast: apply :func:`fast_polling` and :func:`no_compute_sleep` while running.
    :param resize_seconds: how long new cluster nodes stay ``preparing`` (allocation ``Resizing``).
    :param scale_down_after: idle nodes above ``min_nodes`` leave after ``min(idle_seconds_before_scaledown,
        scale_down_after)`` seconds.
    :param prepare_seconds: time a run spends in ``Preparing``.
    :param use_mpirun: run MPI jobs under ``mpirun`` (if installed) instead of one process per rank.
    :param tf_chief: label TensorFlow worker 0 ``chief`` in ``TF_CONFIG``.
    :param allow_delete_nonempty_experiments: let ``Experiment.delete`` remove experiments that have runs
        (by default the emulator answers 409, like the service's "delete empty experiment" contract).
    :param compute_operation_polls: answer compute async operations ``InProgress`` this many times first.
    :param kill_grace_seconds: time between SIGTERM and SIGKILL when a run is canceled.
    :param python: the interpreter ``python``/``python3`` resolve to inside runs (default: this one).
    :param image_environments: run every process in an environment standing for the run's image (see
        :mod:`.images`: catalogue images only, no host interpreter; needs ``make image-rootfs`` and root).
        Default: ``$AMLEMU_IMAGE_ENVIRONMENTS=1``, else off (processes then run on the host with
        :attr:`python` as ``python``).
    :param datastore_dirs: where data references of runs point: ``{datastore name: local dir}`` or a callable
        ``(workspace, datastore payload) -> dir or None`` (e.g. to map a blob container onto a local storage
        emulation); default ``<root>/datastores/<workspace id>/<name>``.
    """

    def __init__(self, workspaces: Any = (), https: bool = False, root: Optional[str] = None,
                 patch_environ: bool = True, fast: bool = True, resize_seconds: float = 0.2,
                 scale_down_after: float = 2.0, prepare_seconds: float = 0.05, use_mpirun: bool = False,
                 tf_chief: bool = True, allow_delete_nonempty_experiments: bool = False,
                 compute_operation_polls: int = 0, kill_grace_seconds: float = 2.0, core_quota: int = 100,
                 python: Optional[str] = None, datastore_dirs: Any = None,
                 image_environments: Optional[bool] = None):
        self.state = EmulatorState()
        self.router = Router()
        self.https = https
        self._own_root = root is None
        self.root = os.path.abspath(root or tempfile.mkdtemp(prefix="amlemu-"))
        self.home = os.path.join(self.root, "home")
        self.bin_dir = os.path.join(self.root, "bin")
        self.patch_environ = patch_environ
        self.fast = fast
        self.resize_seconds = resize_seconds
        self.scale_down_after = scale_down_after
        self.prepare_seconds = prepare_seconds
        self.use_mpirun = use_mpirun
        self.tf_chief = tf_chief
        self.allow_delete_nonempty_experiments = allow_delete_nonempty_experiments
        self.compute_operation_polls = compute_operation_polls
        self.kill_grace_seconds = kill_grace_seconds
        self.core_quota = core_quota
        self.python = python or sys.executable
        self.datastore_dirs = datastore_dirs
        if image_environments is None:
            image_environments = os.environ.get("AMLEMU_IMAGE_ENVIRONMENTS", "") == "1"
        self.image_environments = image_environments
        self.family_quotas: Dict[str, int] = {"standardDv2Family": 24, "standardNCFamily": 24}
        self.vm_sizes = dict(VCPUS)
        self.tick = 0.02
        self.requests: List[RequestRecord] = []
        self.unrouted: List[RequestRecord] = []
        self.errors: List[Tuple[Any, str]] = []
        self.submissions: List[Dict[str, Any]] = []
        self.provisioning_requests: List[Dict[str, Any]] = []
        self.snapshot_file_requests: List[List[str]] = []
        self.registered_datastores: List[Dict[str, Any]] = []
        self.deployment_requests: List[Dict[str, Any]] = []
        self.metrics: Dict[str, Dict[str, Any]] = {}
        self.steps: List[Tuple[str, int, Dict[str, int]]] = []
        self._log_lock = threading.Lock()
        self._server: Optional[LoopbackServer] = None
        self._stack: Optional[contextlib.ExitStack] = None
        self.cert_path: Optional[str] = None
        # Every emulated node gets its own loopback address 127.E.x.y (E in 200..249 from the root, so
        # two emulators rarely share addresses and none is 127.0.0.1); x.y counts the nodes ever used.
        self.address_octet = 200 + int(hashlib.sha256(self.root.encode()).hexdigest(), 16) % 50
        self._node_serial = 0
        self.executor = Executor(self)
        for routes in (ArmRoutes(self), ComputeRoutes(self), HistoryRoutes(self), ContentRoutes(self),
                       ExecutionRoutes(self), ArtifactRoutes(self), DatastoreRoutes(self),
                       CredentialRoutes(self)):
            routes.register(self.router)
        for spec in workspaces or ():
            self.add_workspace(*spec)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> "AzureMLEmulator":
        if self._server is not None:
            return self
        os.makedirs(self.home, exist_ok=True)
        os.makedirs(self.bin_dir, exist_ok=True)
        # "python" in a run's command is the interpreter running the emulator (a wrapper, not a symlink:
        # a symlinked venv interpreter outside its venv directory loses the venv's site-packages).
        for name in ("python", "python3"):
            wrapper = os.path.join(self.bin_dir, name)
            with open(wrapper, "w") as fh:
                fh.write(f"#!/bin/sh\nexec {shlex.quote(self.python)} \"$@\"\n")
            os.chmod(wrapper, 0o755)
        # "ssh" between the nodes of a run (password-less, as on AML clusters): see nodessh.py.
        nodessh = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nodessh.py")
        with open(os.path.join(self.bin_dir, "ssh"), "w") as fh:
            fh.write(f"#!/bin/sh\nexec {shlex.quote(self.python)} -E -s {shlex.quote(nodessh)} \"$@\"\n")
        os.chmod(os.path.join(self.bin_dir, "ssh"), 0o755)
        ssl_ctx = None
        if self.https:
            from .tls import make_self_signed, server_context
            self.cert_path, key_path = make_self_signed(os.path.join(self.root, "tls"))
            ssl_ctx = server_context(self.cert_path, key_path)
        self._server = LoopbackServer(self, ssl_ctx)
        self._server.start()
        stack = contextlib.ExitStack()
        try:
            if self.patch_environ:
                stack.enter_context(self.environ())
            if self.fast:
                stack.enter_context(fast_polling())
                stack.enter_context(no_compute_sleep())
        except Exception:
            stack.close()
            self.stop()
            raise
        self._stack = stack
        return self

    def stop(self) -> None:
        self.executor.shutdown()
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "AzureMLEmulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @contextlib.contextmanager
    def environ(self) -> Iterator[None]:
        """Environment for azureml-core clients of this emulator (see ``patch_environ``)."""
        saved = {k: os.environ.get(k) for k in ("AML_FORCE_EXECUTE_WITH_ZIP", "NO_PROXY", "no_proxy",
                                                 "REQUESTS_CA_BUNDLE")}
        os.environ["AML_FORCE_EXECUTE_WITH_ZIP"] = "1"
        for key in ("NO_PROXY", "no_proxy"):
            parts = [p for p in (os.environ.get(key) or "").split(",") if p]
            for host in ("127.0.0.1", "localhost"):
                if host not in parts:
                    parts.append(host)
            os.environ[key] = ",".join(parts)
        if self.cert_path:
            os.environ["REQUESTS_CA_BUNDLE"] = self.cert_path
        try:
            with isolated_azureml_home(self.home):
                yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- facade ----------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return self._server.url

    def auth(self) -> Any:
        """A fake ``AbstractAuthentication`` whose ARM endpoint is this emulator (imports azureml)."""
        return make_auth(self.url + "/", self.subscriptions)

    def subscriptions(self) -> List[str]:
        with self.state.lock:
            return sorted({ws.subscription_id for ws in self.state.workspaces.values()}) or ["00000000"]

    def add_workspace(self, subscription_id: str, resource_group: str, name: str,
                      location: str = "eastus") -> Workspace:
        with self.state.lock:
            ws = self.state.find_workspace(subscription_id, resource_group, name)
            if ws is None:
                ws = Workspace(subscription_id, resource_group, name, location=location)
                ws.datastores.update(builtin_datastores(ws))
                self.state.workspaces[self.state.key(subscription_id, resource_group, name)] = ws
            return ws

    def workspace(self, subscription_id: str, resource_group: str, name: str) -> Workspace:
        ws = self.state.find_workspace(subscription_id, resource_group, name)
        if ws is None:
            raise KeyError((subscription_id, resource_group, name))
        return ws

    def run(self, run_id: str) -> Run:
        with self.state.lock:
            ws = self.state.workspace_by_run(run_id)
            if ws is None:
                raise KeyError(run_id)
            return ws.runs[run_id]

    def wait_for_run(self, run_id: str, timeout: float = 30.0) -> Run:
        self.executor.wait(run_id, timeout)
        return self.run(run_id)

    def new_run(self, ws: Workspace, exp: Experiment, run_id: str, target: str = "local",
                run_type: Optional[str] = None) -> Run:
        ws.run_counter += 1
        run = Run(run_id=run_id, run_number=ws.run_counter, experiment=exp, target=target, run_type=run_type)
        ws.runs[run_id] = run
        return run

    def datastore_dir(self, ws: Workspace, store: str) -> str:
        """Local directory holding the contents of datastore ``store`` (see ``datastore_dirs``)."""
        mapping = self.datastore_dirs
        if callable(mapping):
            with self.state.lock:
                ds = ws.datastores.get(store.lower())
                payload = dict(ds.payload) if ds else {"name": store}
            found = mapping(ws, payload)
            if found:
                return str(found)
        elif mapping and store in mapping:
            return str(mapping[store])
        return os.path.join(self.root, "datastores", ws.workspace_id, store)

    def data_reference_path(self, ws: Workspace, run: Run, name: str, dref: Any) -> str:
        """Local directory standing in for a mounted/downloaded data reference of a run
        (``$AZUREML_DATAREFERENCE_<name>``): ``<datastore dir>/<pathOnDataStore>``, created if missing."""
        dref = dref or {}
        store = str(dref.get("dataStoreName") or "workspaceblobstore")
        path = str(dref.get("pathOnDataStore") or "").strip("/")
        local = os.path.join(self.datastore_dir(ws, store), *[p for p in path.split("/") if p not in ("", ".", "..")])
        os.makedirs(local, exist_ok=True)
        return local

    def next_node_address(self) -> str:
        """A new loopback address for an emulated node (Linux routes all of 127.0.0.0/8 to ``lo``)."""
        with self.state.lock:
            serial = self._node_serial
            self._node_serial += 1
        if serial >= 256 * 250:
            raise RuntimeError("the emulator ran out of node addresses")
        return f"127.{self.address_octet}.{serial // 250}.{serial % 250 + 1}"

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()

    def vcpus(self, vm_size: str) -> int:
        return self.vm_sizes.get((vm_size or "").upper(), 2)

    @staticmethod
    def vm_family(vm_size: str) -> str:
        m = re.match(r"STANDARD_([A-Z]+)\d+[A-Z]*(?:_V(\d))?", (vm_size or "").upper())
        if not m:
            return "standardDv2Family"
        letters, ver = m.group(1), m.group(2)
        return "standard{}{}Family".format(letters.rstrip("S") if letters != "DS" else "DS",
                                            "v" + ver if ver else "")

    # -- request log -------------------------------------------------------------------------------------------
    def _record(self, rec: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(rec)
            if rec.route is None:
                self.unrouted.append(rec)

    def _record_error(self, req: Any, exc: BaseException, tb: str) -> None:
        with self._log_lock:
            self.errors.append((req.path if req is not None else None, tb))

    def mark(self) -> int:
        """Position in :attr:`requests`; pass it to :meth:`requests_since` to count one step's traffic."""
        with self._log_lock:
            return len(self.requests)

    def requests_since(self, mark: int) -> List[RequestRecord]:
        with self._log_lock:
            return list(self.requests[mark:])

    def route_counts(self, records: Optional[List[RequestRecord]] = None) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for rec in self.requests if records is None else records:
            key = rec.route or f"UNROUTED {rec.method} {rec.path}"
            counts[key] = counts.get(key, 0) + 1
        return counts

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[List[RequestRecord]]:
        """Count the requests made inside the block; appended to :attr:`steps` as
        ``(name, request count, {route: count})`` and yields the (filled on exit) list of records."""
        mark = self.mark()
        records: List[RequestRecord] = []
        try:
            yield records
        finally:
            records.extend(self.requests_since(mark))
            self.steps.append((name, len(records), self.route_counts(records)))

    def steps_table(self) -> str:
        """The :meth:`step` counts as a text table (step, requests, routes)."""
        width = max([len(name) for name, _n, _r in self.steps] + [4])
        lines = ["{:<{w}} {:>5}  {}".format("step", "reqs", "routes", w=width)]
        for name, total, routes in self.steps:
            detail = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in routes.items())
            lines.append("{:<{w}} {:>5}  {}".format(name, total, detail, w=width))
        return "\n".join(lines)

    def routes(self) -> List[str]:
        return [name for _m, _p, _h, name in self.router.routes]
