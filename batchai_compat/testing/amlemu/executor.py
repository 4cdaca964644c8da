"""The executor: runs what the execution routes accepted as real local processes.

A run moves ``Queued`` (waiting for cluster nodes; the cluster resizes if needed) → ``Preparing`` (nodes
allocated, project unpacked) → ``Running`` (processes started) → ``Finalizing`` → ``Completed`` / ``Failed``, or
``CancelRequested`` → ``Canceled`` (every process group is killed).  Distributed configurations start one
local process per rank:

* MPI (``mpi.nodeCount × mpi.processCountPerNode``): ``OMPI_COMM_WORLD_*`` and ``PMI_*`` variables per rank, or
  one ``mpirun`` (``AzureMLEmulator(use_mpirun=True)``) when it is installed;
* TensorFlow parameter server: one process per worker and per ps with ``TF_CONFIG`` (worker 0 is ``chief``);
  the run ends when the workers have ended, then the ps processes are stopped, as on AML;
* PyTorch: ``processCount`` processes with ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT``.

Emulated nodes look like separate machines of a cluster:

* each node of a cluster has its own loopback address ``127.E.x.y`` (stable while the node exists; runs on a
  target without nodes, ``local``, use 127.0.0.1): ``AZ_BATCH_HOST_LIST``, ``AZ_BATCH_MASTER_NODE``,
  ``AZ_BATCHAI_MPI_MASTER_NODE``, ``TF_CONFIG`` and ``MASTER_ADDR`` name these addresses (ports are chosen
  free on the address they belong to);
* each node of a run has its own root ``<run dir>/nodes/<node id>/`` with ``wd/`` (the project unpacked once
  per node; the processes of the node start there; ``outputs/`` and ``logs/`` in it) and ``tmp/``
  (``TMPDIR``); ``AZ_BATCH_NODE_ID``, ``AZ_BATCH_NODE_ROOT_DIR``, ``AZUREML_CR_EXECUTION_WORKING_DIR_PATH``
  are per node, ``AZ_BATCH_NODE_LIST`` lists the node ids of a multi-node (or MPI) run;
* ``ssh HOST COMMAND`` between the nodes of a run (the emulator's ``bin/ssh``, first on PATH, see
  :mod:`.nodessh`) runs COMMAND in the target node's login environment; the nodes are listed in
  ``<run dir>/nodes.json`` (``$AMLEMU_NODES_FILE``).

What makes several emulated nodes on one machine look like a cluster to OpenMPI (so that an ``mpirun`` on
node 0 with a host file of the node addresses starts its ``orted`` daemons on the other nodes through that
``ssh``): every process and every ssh login gets these defaults (a value the run configuration's
environment variables set wins):

* ``OMPI_MCA_rtc=^hwloc``: ``orted`` daemons sharing one machine otherwise crash writing the shared topology;
* ``OMPI_MCA_btl=self,tcp`` and ``OMPI_MCA_btl_tcp_if_include=lo``: the shared-memory BTL mixes up the
  segments of co-located daemons, and TCP excludes loopback by default;
* ``OMPI_MCA_plm_rsh_no_tree_spawn=1`` and ``OMPI_MCA_routed=direct``: daemons must not launch each other
  through the agent, and a tree-routed launch intermittently fails to reach co-located daemons;
* ``OMPI_MCA_orte_tmpdir_base``: one short session directory per node (daemons sharing one race on creating
  it; it holds unix sockets, so it is ``<node root>/o`` only when that path is short, otherwise a
  ``tempfile.mkdtemp`` directory removed when the run ends); the ssh shim also puts it on an ``orted``
  command line, which carries mpirun's own value otherwise, and drops ``--daemonize`` so the daemon stays in
  the run's process group;
* ``PMIX_MCA_gds=hash``: the shared-memory datastore of co-located daemons collides;
* ``OMPI_MCA_rmaps_base_oversubscribe=1`` and ``OMPI_MCA_hwloc_base_binding_policy=none``: more ranks than
  cores, no binding;
* ``OMPI_ALLOW_RUN_AS_ROOT=1`` and ``OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1`` when the emulator runs as root.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from . import images
from .auth import fake_jwt
from .history import run_error
from .state import Run, Workspace
from .util import iso, utcnow


@dataclass
class ProcSpec:
    name: str                        # e.g. "rank_0", "worker_1", "ps_0"
    log_name: str                    # file name under user_logs/
    env: Dict[str, str]
    argv: List[str]
    primary: bool = True             # the run ends when all primary processes have ended
    node_index: int = 0
    cwd: Optional[str] = None        # the node's working directory (default: node 0's)


@dataclass
class NodeLayout:
    """One emulated node of a run: identity, address and private directories."""
    index: int
    node_id: str
    address: str
    root: str                        # <run dir>/nodes/<node id>
    wd: str                          # <root>/wd: the project, outputs/, logs/
    tmp: str                         # <root>/tmp: TMPDIR
    session_dir: str                 # OMPI_MCA_orte_tmpdir_base (short: it holds unix sockets)
    own_session_dir: bool = False    # made with mkdtemp: removed when the run ends


@dataclass
class Launched:
    spec: ProcSpec
    popen: subprocess.Popen
    log: Any
    exit_code: Optional[int] = None
    killed: bool = False


@dataclass
class RunHandle:
    run: Run
    thread: Optional[threading.Thread] = None
    procs: List[Launched] = field(default_factory=list)
    nodes: List[NodeLayout] = field(default_factory=list)
    image: Optional[images.BuiltImage] = None   # image environments (images.py): the run's image
    data_roots: List[str] = field(default_factory=list)  # the datastore directories of its data references


def _in_a_container(run: Run) -> bool:
    """Whether the run's processes start in its environment's image. Every run on a compute cluster does; a
    run on ``compute_target="local"`` without Docker (``docker.useDocker`` false, azureml-core's default for
    local runs) runs on the submitting machine itself, in the Python environment there ("user-managed
    environment": https://learn.microsoft.com/azure/machine-learning/how-to-use-environments), so in image
    mode too it runs on the host."""
    if str(run.target or "").lower() != "local":
        return True
    config = run.configuration or {}
    docker = config.get("docker") or {}
    env_docker = (config.get("environment") or {}).get("docker") or {}
    return bool(docker.get("useDocker") or env_docker.get("enabled"))


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port free on ``address`` (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


NODES_FILE_VARIABLE = "AMLEMU_NODES_FILE"
# Variables that describe one process of a run's layout, not a node: absent from an ssh login.
LAYOUT_VARIABLES = frozenset({"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "NODE_RANK", "GROUP_RANK",
                              "TF_CONFIG", "MASTER_ADDR", "MASTER_PORT", "AZUREML_NODE_RANK"})
LAYOUT_PREFIXES = ("OMPI_COMM_WORLD_", "PMI_")
SHORT_PATH = 40   # longest node-root based OpenMPI session directory (unix socket paths are limited)


def openmpi_cluster_defaults() -> Dict[str, str]:
    """OpenMPI settings for several emulated nodes (co-located daemons) on one machine; see the module
    docstring. ``OMPI_MCA_orte_tmpdir_base`` is per node and added separately."""
    env = {
        "OMPI_MCA_rtc": "^hwloc",
        "OMPI_MCA_btl": "self,tcp",
        "OMPI_MCA_btl_tcp_if_include": "lo",
        "OMPI_MCA_plm_rsh_no_tree_spawn": "1",
        "OMPI_MCA_routed": "direct",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
        "OMPI_MCA_hwloc_base_binding_policy": "none",
        "PMIX_MCA_gds": "hash",
    }
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def login_environment(env: Dict[str, str]) -> Dict[str, str]:
    """``env`` without the variables of a process layout (what an ssh login to the node sees)."""
    return {k: v for k, v in env.items() if k not in LAYOUT_VARIABLES and not k.startswith(LAYOUT_PREFIXES)}


class Executor:
    """Runs each submitted run in its own thread; processes are started in new sessions (process groups)."""

    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state
        self.handles: Dict[str, RunHandle] = {}
        self._stopping = False

    # -- public API ------------------------------------------------------------------------------------
    def submit(self, ws: Workspace, run: Run) -> None:
        handle = RunHandle(run)
        self.handles[run.run_id] = handle
        handle.thread = threading.Thread(target=self._main, args=(ws, handle), name="aml-run-" + run.run_id,
                                         daemon=True)
        handle.thread.start()

    def cancel(self, run: Run, reason: str = "canceled") -> None:
        with self.state.lock:
            if run.terminal:
                return
            run.cancel_requested = True
            handle = self.handles.get(run.run_id)
            if handle is None or handle.thread is None:
                run.set_status("Canceled")
                run.end = utcnow()
                return
            run.set_status("CancelRequested")
            procs = list(handle.procs)
        # Only signal here (callers may hold the state lock); the run thread escalates to SIGKILL, waits
        # for the process groups to disappear and then reports Canceled.
        for proc in procs:
            if proc.popen.poll() is None:
                proc.killed = True
                _signal_group(proc.popen, signal.SIGTERM)

    def wait(self, run_id: str, timeout: float = 30.0) -> bool:
        handle = self.handles.get(run_id)
        if handle is None or handle.thread is None:
            return True
        handle.thread.join(timeout)
        return not handle.thread.is_alive()

    def shutdown(self, timeout: float = 10.0) -> None:
        self._stopping = True
        for handle in list(self.handles.values()):
            self.cancel(handle.run, reason="emulator stopped")
        deadline = time.monotonic() + timeout
        for handle in list(self.handles.values()):
            if handle.thread is not None:
                handle.thread.join(max(0.1, deadline - time.monotonic()))

    # -- the run thread ----------------------------------------------------------------------------------
    def _main(self, ws: Workspace, handle: RunHandle) -> None:
        run = handle.run
        try:
            if not self._allocate(ws, run):
                return
            if not self._prepare(ws, handle) or run.cancel_requested:
                return
            specs = self._plan(ws, handle)
            self._launch(ws, handle, specs)
            self._supervise(run, handle)
        except Exception as exc:  # pragma: no cover - reported as a failed run
            with self.state.lock:
                if not run.terminal:
                    run.error = run_error(f"The Azure ML emulator failed to execute the run: {exc!r}",
                                          "ServiceError")
                    run.set_status("Failed")
            self.emu._record_error(None, exc, repr(exc))
        finally:
            self._finish(ws, handle)

    def _allocate(self, ws: Workspace, run: Run) -> bool:
        compute = ws.computes.get(run.target.lower())
        config = run.configuration
        run.node_count = max(1, int(config.get("nodeCount") or 1))
        if compute is None:
            return not run.cancel_requested
        with self.state.lock:
            if run.node_count > compute.max_nodes:
                run.error = run_error(
                    f"Requested {run.node_count} nodes but compute target '{compute.name}' allows at most "
                    f"{compute.max_nodes} (max_nodes).", "UserError")
                run.set_status("Failed")
                return False
        while True:
            with self.state.lock:
                if run.cancel_requested:
                    return False
                if ws.computes.get(run.target.lower()) is not compute:
                    run.error = run_error(f"Compute target '{run.target}' was deleted.", "SystemError")
                    run.set_status("Failed")
                    return False
                now = self.emu.monotonic()
                compute.refresh(now, self.emu.scale_down_after)
                if compute.try_allocate(run.run_id, run.node_count, now, self.emu.resize_seconds):
                    return True
            time.sleep(self.emu.tick)

    def _prepare(self, ws: Workspace, handle: RunHandle) -> bool:
        run = handle.run
        with self.state.lock:
            if run.cancel_requested:
                return False
            run.set_status("Preparing")
            if run.source_zip is None:
                run.error = run_error(
                    "The Azure ML emulator did not receive the run's source files: snapshot uploads go to blob "
                    "storage, which the emulator cannot receive. Submit with AML_FORCE_EXECUTE_WITH_ZIP=1 "
                    "(AzureMLEmulator sets it while started unless patch_environ=False).", "UserError")
                return False
        run_dir = os.path.join(self.emu.root, "runs", run.run_id)
        for sub in ("user_logs", "system_logs/emulator"):
            os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
        if self.emu.image_environments and _in_a_container(run):
            # Azure ML pulls or builds the environment's image before the run starts; a missing image or a
            # failed build fails the run (https://learn.microsoft.com/azure/machine-learning/
            # how-to-troubleshoot-environments).
            docker = (run.configuration.get("environment") or {}).get("docker") or {}
            try:
                handle.image = images.build(docker, os.path.join(self.emu.root, "images"))
                python = (run.configuration.get("environment") or {}).get("python") or {}
                conda = images.conda_environment(python)
                if conda is not None:   # not user-managed: Azure ML's conda environment over the image
                    layer, prefix = conda
                    handle.image.layers.insert(0, layer)
                    handle.image.env["PATH"] = prefix + "/bin:" + handle.image.env.get("PATH", "")
                    handle.image.env["AZUREML_CONDA_ENVIRONMENT_PATH"] = prefix
                if handle.image.ssh:
                    here = os.path.dirname(os.path.abspath(__file__))
                    layer = images.emulator_layer(os.path.join(self.emu.root, "images"),
                                                  os.path.join(here, "nodessh.py"),
                                                  os.path.join(here, os.pardir, os.pardir, "launcher", "ssh.py"))
                    handle.image.layers.insert(0, layer)
                    handle.image.binds.append((os.path.join(images.rootfs_dir(), "python"),
                                               images.AMLEMU_DIR + "/python"))
            except images.ImageError as exc:
                with self.state.lock:
                    run.error = run_error(f"Image build failed: {exc}", "UserError")
                return False
        handle.nodes = self._layout(ws, run, run_dir)
        for node in handle.nodes:
            # Every node downloads the snapshot: one copy of the project per node.
            for directory in (node.wd, node.tmp, node.session_dir):
                os.makedirs(directory, exist_ok=True)
            if run.source_zip:
                _unpack(run.source_zip, node.wd)
            for sub in ("outputs", "logs"):
                os.makedirs(os.path.join(node.wd, sub), exist_ok=True)
        with self.state.lock:
            run.run_dir, run.work_dir = run_dir, handle.nodes[0].wd
            run.node_work_dirs = [n.wd for n in handle.nodes]
            run.node_ids = [n.node_id for n in handle.nodes]
            run.node_addresses = [n.address for n in handle.nodes]
        if self.emu.prepare_seconds:
            time.sleep(self.emu.prepare_seconds)
        return True

    def _layout(self, ws: Workspace, run: Run, run_dir: str) -> List[NodeLayout]:
        """The run's nodes in node order: the cluster nodes allocated to it (each with its own loopback
        address), or ``local_node_<i>`` on 127.0.0.1 for a target without nodes."""
        with self.state.lock:
            compute = ws.computes.get(run.target.lower())
            allocated = sorted((n for n in compute.nodes if n.run_id == run.run_id), key=lambda n: n.index) \
                if compute else []
            for node in allocated:
                if node.address is None:
                    node.address = self.emu.next_node_address()
            pairs = [(n.node_id, n.address or "127.0.0.1") for n in allocated]
        pairs = pairs or [(f"local_node_{i}", "127.0.0.1") for i in range(run.node_count)]
        layout = []
        for index, (node_id, address) in enumerate(pairs):
            root = os.path.join(run_dir, "nodes", node_id)
            session_dir, own = os.path.join(root, "o"), False
            if len(session_dir) > SHORT_PATH:
                session_dir = tempfile.mkdtemp(prefix="amlemu-ompi-", dir="/tmp" if os.path.isdir("/tmp") else None)
                own = True
            layout.append(NodeLayout(index, node_id, address, root, os.path.join(root, "wd"),
                                     os.path.join(root, "tmp"), session_dir, own))
        return layout

    # -- planning processes ------------------------------------------------------------------------------
    def _command(self, run: Run) -> str:
        config = run.configuration
        command = config.get("command")
        if isinstance(command, list):
            command = " ".join(str(c) for c in command)     # what AML does: no quoting
        if command:
            return str(command)
        script = config.get("script")
        if script:
            args = config.get("arguments") or []
            return " ".join(["python", shlex.quote(str(script))] + [shlex.quote(str(a)) for a in args])
        return "true"

    def _base_env(self, ws: Workspace, run: Run) -> Tuple[Dict[str, str], Set[str]]:
        """The environment every process of the run starts from (no node or process variables yet), and
        the names the run configuration's environment variables set."""
        handle = self.handles.get(run.run_id)
        image = handle.image if handle is not None else None
        if image is not None:
            # A container starts from its image's environment, not the submitting machine's; only the CA
            # bundle of an HTTPS emulator is passed on (the certificate lies in the emulator's directory).
            env = dict(image.env)
            env.update({k: os.environ[k] for k in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE") if k in os.environ})
        else:
            env = {k: v for k, v in os.environ.items() if not k.startswith("AZUREML_")}
        env.pop("AML_FORCE_EXECUTE_WITH_ZIP", None)
        config = run.configuration
        environment = config.get("environment") or {}
        user_keys: Set[str] = set()
        for source in (environment.get("environmentVariables") or {}, config.get("environmentVariables") or {}):
            env.update({str(k): "" if v is None else str(v) for k, v in source.items()})
            user_keys.update(str(k) for k in source)
        base = self.emu.url
        env.update({
            "AZUREML_RUN_ID": run.run_id,
            "AZUREML_ARM_SUBSCRIPTION": ws.subscription_id,
            "AZUREML_ARM_RESOURCEGROUP": ws.resource_group,
            "AZUREML_ARM_WORKSPACE_NAME": ws.name,
            "AZUREML_ARM_PROJECT_NAME": run.experiment.name,
            "AZUREML_EXPERIMENT_ID": run.experiment.experiment_id,
            "AZUREML_WORKSPACE_ID": ws.workspace_id,
            "AZUREML_RUN_TOKEN": fake_jwt(),
            "AZUREML_RUN_TOKEN_EXPIRY": str(int(time.time()) + 24 * 3600),
            "AZUREML_SERVICE_ENDPOINT": base,
            "AZUREML_DISCOVERY_SERVICE_ENDPOINT": f"{base}/discovery/workspaces/{ws.workspace_id}",
            "AZUREML_COMPUTE_NAME": run.target,
            "AZUREML_NODE_COUNT": str(run.node_count),
            "PYTHONUNBUFFERED": "1",
        })
        for name, dref in (config.get("dataReferences") or {}).items():
            path = self.emu.data_reference_path(ws, run, name, dref)
            env["AZUREML_DATAREFERENCE_" + name] = path
            if handle is not None:
                # Azure ML mounts the whole datastore (container or share) and points the variable at the
                # path inside it, so the rest of the datastore is reachable too (../inputs from results/).
                root = self.emu.datastore_dir(ws, str((dref or {}).get("dataStoreName") or "workspaceblobstore"))
                if root not in handle.data_roots:
                    handle.data_roots.append(root)
        if image is None:
            env["PATH"] = os.pathsep.join([self.emu.bin_dir, env.get("PATH", os.defpath)])
        env.pop("TMPDIR", None)          # per node
        return env, user_keys

    def _node_env(self, base: Dict[str, str], node: NodeLayout, user_keys: Set[str],
                  nodes_file: str) -> Dict[str, str]:
        """What every process on ``node`` (and an ssh login to it) has: the node's identity and
        directories, and the OpenMPI settings for co-located nodes (unless the run configuration set them)."""
        env = dict(base)
        defaults = openmpi_cluster_defaults()
        defaults["OMPI_MCA_orte_tmpdir_base"] = node.session_dir
        for key, value in defaults.items():
            if key not in user_keys:
                env[key] = value
        env.update({
            "AZ_BATCH_NODE_ID": node.node_id,
            "AZ_BATCH_NODE_ROOT_DIR": node.root,
            "AZUREML_CR_EXECUTION_WORKING_DIR_PATH": node.wd,
            "TMPDIR": node.tmp,
            NODES_FILE_VARIABLE: nodes_file,
        })
        return env

    def _plan(self, ws: Workspace, handle: RunHandle) -> List[ProcSpec]:
        """The processes of a run, each with the environment of the emulated node it runs on (see
        :meth:`_node_env`) and starting in that node's working directory; writes ``<run dir>/nodes.json``
        (each node's address, directories and ssh login environment) for the ssh shim."""
        run, nodes = handle.run, handle.nodes
        config = run.configuration
        base, user_keys = self._base_env(ws, run)
        framework = str(config.get("framework") or "Python").lower()
        communicator = str(config.get("communicator") or "None").lower()
        mpi = config.get("mpi") or {}
        if framework == "tensorflow" or communicator == "parameterserver":
            kind = "tensorflow"
        elif framework == "pytorch":
            kind = "pytorch"
        elif communicator in ("intelmpi", "openmpi", "mpi") or (
                mpi and len(nodes) * int(mpi.get("processCountPerNode") or 1) > 1 and communicator != "none"):
            kind = "mpi"
        else:
            kind = "single"
        if kind == "mpi" and handle.image is not None and not handle.image.mpi:
            # Azure ML starts an MPI run's processes with the mpirun of the run's image ("the base image must
            # include MPI": https://learn.microsoft.com/azure/machine-learning/how-to-train-distributed-gpu#mpi).
            with self.state.lock:
                run.error = run_error(
                    f"Execution failed: the run uses the {communicator} communicator (MPI) but image "
                    f"'{handle.image.name}' has no MPI installation (mpirun not found).", "UserError")
            return []
        cluster: Dict[str, str] = {}
        if kind == "mpi" or (len(nodes) > 1 and handle.image is None):
            # AZ_BATCH_HOST_LIST / AZ_BATCH_NODE_LIST: Azure Batch's multi-instance (MPI) task variables
            # (https://learn.microsoft.com/azure/batch/batch-compute-node-environment-variables). With image
            # environments they are set for MPI runs only (not documented for TensorFlow/PyTorch runs, which
            # get TF_CONFIG / MASTER_ADDR instead).
            cluster["AZ_BATCH_HOST_LIST"] = ",".join(n.address for n in nodes)
            cluster["AZ_BATCH_NODE_LIST"] = ";".join(n.node_id for n in nodes)
        if kind == "mpi":
            master = nodes[0].address
            cluster.update(AZ_BATCH_MASTER_NODE=f"{master}:6105", AZ_BATCHAI_MPI_MASTER_NODE=master,
                           AZUREML_PROCESS_COUNT_PER_NODE=str(max(1, int(mpi.get("processCountPerNode") or 1))))
        base.update(cluster)
        nodes_file = os.path.join(run.run_dir or self.emu.root, "nodes.json")
        node_envs = [self._node_env(base, node, user_keys, nodes_file) for node in nodes]
        listing = {"run_id": run.run_id, "nodes": [
            {"index": n.index, "id": n.node_id, "address": n.address, "root": n.root, "wd": n.wd,
             "env": login_environment(env)} for n, env in zip(nodes, node_envs)]}
        fd = os.open(nodes_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)   # holds the run token
        with os.fdopen(fd, "w") as fh:
            json.dump(listing, fh)
        specs = self._plan_processes(run, kind, nodes, node_envs)
        for spec in specs:
            spec.cwd = nodes[spec.node_index % len(nodes)].wd
        return specs

    def _plan_processes(self, run: Run, kind: str, nodes: List[NodeLayout],
                        node_envs: List[Dict[str, str]]) -> List[ProcSpec]:
        config = run.configuration
        argv = ["/bin/sh", "-c", self._command(run)]
        count = len(nodes)

        def env_of(node: int, **layout: str) -> Dict[str, str]:
            return dict(node_envs[node % count], **layout)

        if kind == "tensorflow":
            tf = config.get("tensorflow") or {}
            workers = max(1, int(tf.get("workerCount") or count or 1))
            ps = max(0, int(tf.get("parameterServerCount") or 0))
            wports = [f"{nodes[i % count].address}:{free_port(nodes[i % count].address)}" for i in range(workers)]
            pports = [f"{nodes[i % count].address}:{free_port(nodes[i % count].address)}" for i in range(ps)]
            cluster: Dict[str, List[str]] = {}
            if self.emu.tf_chief:
                cluster["chief"] = wports[:1]
                if workers > 1:
                    cluster["worker"] = wports[1:]
            else:
                cluster["worker"] = wports
            if ps:
                cluster["ps"] = pports
            specs = []
            for i in range(workers):
                if self.emu.tf_chief:
                    task = {"type": "chief", "index": 0} if i == 0 else {"type": "worker", "index": i - 1}
                else:
                    task = {"type": "worker", "index": i}
                env = env_of(i, TF_CONFIG=json.dumps({"cluster": cluster, "task": task, "environment": "cloud"}),
                             AZUREML_NODE_RANK=str(i % count))
                specs.append(ProcSpec(f"worker_{i}", f"std_log_process_{i}.txt", env, argv, True, i % count))
            for i in range(ps):
                env = env_of(i, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "ps", "index": i},
                                                      "environment": "cloud"}))
                specs.append(ProcSpec(f"ps_{i}", f"std_log_ps_{i}.txt", env, argv, False, i % count))
            return specs

        if kind == "pytorch":
            pt = config.get("pytorch") or {}
            total = int(pt.get("processCount") or 0) or count
            per_node = max(1, -(-total // count))
            master = nodes[0].address
            port = str(free_port(master))
            specs = []
            for rank in range(total):
                node = rank // per_node
                env = env_of(node, RANK=str(rank), WORLD_SIZE=str(total), LOCAL_RANK=str(rank % per_node),
                             LOCAL_WORLD_SIZE=str(per_node), NODE_RANK=str(node), GROUP_RANK=str(node),
                             MASTER_ADDR=master, MASTER_PORT=port, AZUREML_NODE_RANK=str(node))
                specs.append(ProcSpec(f"rank_{rank}", f"std_log_process_{rank}.txt", env, argv, True, node))
            return specs

        if kind == "mpi":
            per_node = max(1, int((config.get("mpi") or {}).get("processCountPerNode") or 1))
            total = count * per_node
            if self.emu.use_mpirun and shutil.which("mpirun"):
                # One mpirun on node 0 placing every rank there (no host file).
                common = node_envs[0]
                mpirun = [shutil.which("mpirun") or "mpirun", "-np", str(total), "--oversubscribe"]
                if hasattr(os, "geteuid") and os.geteuid() == 0:
                    mpirun.append("--allow-run-as-root")
                passthrough = [k for k in common if (k not in os.environ or common[k] != os.environ.get(k))
                               and not k.startswith(("OMPI_", "PMIX_"))]
                for key in sorted(set(passthrough) | {"PATH"}):
                    mpirun += ["-x", key]
                return [ProcSpec("mpirun", "std_log.txt", dict(common), mpirun + argv, True, 0)]
            specs = []
            for rank in range(total):
                node = rank // per_node
                env = env_of(node, OMPI_COMM_WORLD_RANK=str(rank), OMPI_COMM_WORLD_SIZE=str(total),
                             OMPI_COMM_WORLD_LOCAL_RANK=str(rank % per_node),
                             OMPI_COMM_WORLD_LOCAL_SIZE=str(per_node), OMPI_COMM_WORLD_NODE_RANK=str(node),
                             PMI_RANK=str(rank), PMI_SIZE=str(total), AZUREML_NODE_RANK=str(node))
                specs.append(ProcSpec(f"rank_{rank}", f"std_log_process_{rank}.txt", env, argv, True, node))
            if len(specs) == 1:
                specs[0].log_name = "std_log.txt"
            return specs

        return [ProcSpec("main", "std_log.txt", env_of(0, AZUREML_NODE_RANK="0"), argv, True, 0)]

    # -- running -------------------------------------------------------------------------------------------
    def _launch(self, ws: Workspace, handle: RunHandle, specs: List[ProcSpec]) -> None:
        run = handle.run
        with self.state.lock:
            if run.cancel_requested:
                return
            run.set_status("Running")
            run.start = utcnow()
            run.env = dict(specs[0].env) if specs else {}
        lines = [f"{iso(utcnow())} run {run.run_id} on {run.target} ({run.node_count} node(s))"]
        for spec in specs:
            log = open(os.path.join(run.run_dir or "", "user_logs", spec.log_name), "ab")  # noqa: SIM115
            try:
                argv, cwd = spec.argv, spec.cwd or run.work_dir
                if handle.image is not None:
                    node_root = handle.nodes[spec.node_index % len(handle.nodes)].root
                    argv, cwd = self._sandboxed(handle, spec, cwd or node_root), node_root
                popen = subprocess.Popen(argv, cwd=cwd, env=spec.env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            except OSError as exc:
                log.write(f"failed to start: {exc}\n".encode())
                log.close()
                with self.state.lock:
                    run.error = run_error(f"Could not start the user process: {exc}", "UserError")
                self._kill_all(handle)
                return
            with self.state.lock:
                handle.procs.append(Launched(spec, popen, log))
                if run.cancel_requested:
                    break
            lines.append(f"started {spec.name} pid={popen.pid} node={spec.node_index} "
                         f"log=user_logs/{spec.log_name} argv={spec.argv}")
        with open(os.path.join(run.run_dir or "", "system_logs", "emulator", "execution.txt"), "a") as fh:
            fh.write("\n".join(lines) + "\n")
        if run.cancel_requested:
            self._kill_all(handle)

    def _sandboxed(self, handle: RunHandle, spec: ProcSpec, cwd: str) -> List[str]:
        """``spec.argv`` run in the run's image (images.py): the node's own /tmp and /root, the emulator's
        directory and the data references bound at their host paths."""
        assert handle.image is not None
        node = handle.nodes[spec.node_index % len(handle.nodes)]
        sandbox = os.path.join(node.root, "sandbox")
        system_tmp, home = os.path.join(node.root, "system-tmp"), os.path.join(node.root, "home")
        for directory in (sandbox, system_tmp, home):
            os.makedirs(directory, exist_ok=True)
        os.chmod(system_tmp, 0o1777)
        binds = [(system_tmp, "/tmp", False), (home, "/root", False), (self.emu.root, self.emu.root, False)]
        for root in handle.data_roots:   # each data reference's datastore, mounted whole (see _base_env)
            if os.path.isdir(root) and not os.path.abspath(root).startswith(self.emu.root + os.sep):
                binds.append((root, root, False))
        binds += [(src, dst, True) for src, dst in handle.image.binds]
        return images.sandbox_argv(handle.image, sandbox, cwd, binds, spec.argv)

    def _supervise(self, run: Run, handle: RunHandle) -> None:
        max_seconds = run.configuration.get("maxRunDurationSeconds")
        started = time.monotonic()
        timed_out = False
        while True:
            primaries_done = True
            for proc in handle.procs:
                if proc.exit_code is None:
                    proc.exit_code = proc.popen.poll()
                if proc.spec.primary and proc.exit_code is None:
                    primaries_done = False
            if primaries_done or run.cancel_requested:
                break
            if max_seconds and time.monotonic() - started > float(max_seconds):
                timed_out = True
                break
            time.sleep(self.emu.tick)
        # Secondary processes (TensorFlow parameter servers) and anything left: stop them.
        self._kill_all(handle)
        for proc in handle.procs:
            try:
                proc.exit_code = proc.popen.wait(timeout=self.emu.kill_grace_seconds + 5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.exit_code = -9
            proc.log.close()
        with self.state.lock:
            run.exit_codes = [p.exit_code for p in handle.procs]
            run.process_ended = True
            if run.cancel_requested:
                return
            if timed_out:
                run.error = run_error(f"Run exceeded its maximum duration of {max_seconds} seconds "
                                      "(maxRunDurationSeconds) and was stopped.", "UserError")
                return
            failed = [p for p in handle.procs if p.spec.primary and p.exit_code not in (0, None)]
            if failed:
                first = failed[0]
                command = self._command(run)
                run.error = run_error(
                    f"Execution failed. User process '{command}' ({first.spec.name}) exited with status code "
                    f"{first.exit_code}. Please check log file 'user_logs/{first.spec.log_name}' for error details.",
                    "UserError")
            elif run.error is None and not handle.procs:
                run.error = run_error("No process was started for the run.", "ServiceError")

    def _kill_all(self, handle: RunHandle) -> None:
        procs = list(handle.procs)
        live = [p for p in procs if p.popen.poll() is None]
        for proc in live:
            proc.killed = True
            _signal_group(proc.popen, signal.SIGTERM)
        deadline = time.monotonic() + self.emu.kill_grace_seconds
        while live and time.monotonic() < deadline:
            live = [p for p in live if p.popen.poll() is None]
            if live:
                time.sleep(0.02)
        for proc in live:
            _signal_group(proc.popen, signal.SIGKILL)
        # Grandchildren (``sh -c`` → python) may outlive the shell we waited for: kill what is left of each
        # process group and wait until nothing but zombies remains, so "Canceled" means "processes gone".
        deadline = time.monotonic() + self.emu.kill_grace_seconds + 5
        for proc in procs:
            while _group_alive(proc.popen.pid) and time.monotonic() < deadline:
                _signal_group(proc.popen, signal.SIGTERM if time.monotonic() < deadline - 5 else signal.SIGKILL)
                time.sleep(0.02)
            _signal_group(proc.popen, signal.SIGKILL)

    def _finish(self, ws: Workspace, handle: RunHandle) -> None:
        run = handle.run
        with self.state.lock:
            compute = ws.computes.get(run.target.lower())
            if compute is not None:
                compute.release(run.run_id, self.emu.monotonic())
            if run.terminal:
                pass
            elif run.cancel_requested:
                run.set_status("Canceled")
            elif run.error is not None:
                run.set_status("Failed")
            else:
                run.set_status("Finalizing")
                run.set_status("Completed")
            if run.end is None:
                run.end = utcnow()
            run.process_ended = True
        for node in handle.nodes:
            if node.own_session_dir:
                shutil.rmtree(node.session_dir, ignore_errors=True)


def _unpack(source_zip: bytes, work_dir: str) -> None:
    with zipfile.ZipFile(io.BytesIO(source_zip)) as zf:
        for member in zf.infolist():
            target = os.path.realpath(os.path.join(work_dir, member.filename))
            if not target.startswith(os.path.realpath(work_dir) + os.sep):
                continue   # refuse path traversal
            zf.extract(member, work_dir)
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                os.chmod(target, mode | 0o600)


def _group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is still in process group ``pgid``."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
            return True
        except OSError:
            return False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[0] = state, fields[2] = pgrp
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass


__all__ = ["Executor", "NodeLayout", "ProcSpec", "free_port", "login_environment", "openmpi_cluster_defaults"]
