"""Everything a job needs before its first process starts: directories, mounts, environments.

``build_context`` performs step 1 of ``docs/service-behaviour.md`` §c.1 (mount job-level volumes) and the
directory layout of §d.3, and computes the identical-for-prep-and-job environment of every node (§d.1).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import env as envmod
from . import layout, mpi, ssh
from .execlog import ExecutionLog
from .spec import LaunchSpec


class SetupError(Exception):
    """The job could not be laid out (bad prefix, unwritable storage...)."""


@dataclass
class JobContext:
    spec: LaunchSpec
    props: Dict[str, Any]
    paths: List[layout.NodePaths]
    envs: List[Dict[str, str]]  # full environment of job processes, per node
    stdouterr: str  # real path of <prefix>/<segment>/stdouterr
    private_dir: str  # launcher-private scratch (ssh shims); outside every job directory
    rsh_agent: str
    local_nodes: List[int] = field(default_factory=list)  # nodes this launcher runs (all in local mode)
    logs: Dict[int, ExecutionLog] = field(default_factory=dict)  # per local node
    notes: Dict[int, List[str]] = field(default_factory=dict)  # per local node: setup notes for the log
    group_env: Dict[str, str] = field(default_factory=dict)  # node mode: decided by node 0 for every node

    @property
    def node_count(self) -> int:
        return len(self.paths)

    @property
    def multi_node(self) -> bool:
        return self.node_count > 1

    @property
    def spread(self) -> bool:
        """Node mode with other machines: this launcher runs only some of the job's nodes."""
        return len(self.local_nodes) < self.node_count

    def file(self, name: str) -> str:
        return os.path.join(self.stdouterr, name)

    def close(self) -> None:
        for log in self.logs.values():
            log.close()
        shutil.rmtree(self.private_dir, ignore_errors=True)


def _output_dirs(spec: LaunchSpec, props: Dict[str, Any], expansion_env: Dict[str, str]) -> Dict[str, str]:
    segment = layout.output_segment(spec)
    result = {}
    for directory in props.get("outputDirectories") or []:
        prefix = envmod.expand(str(directory.get("pathPrefix") or ""), expansion_env)
        path = layout.join_prefix(prefix, segment, layout.OUTPUTS, directory.get("pathSuffix"))
        result[f"AZ_BATCHAI_OUTPUT_{directory['id']}"] = path
    return result


def build_context(spec: LaunchSpec, node_index: Optional[int] = None, ssh_shim: bool = True) -> JobContext:
    """Lay the job out. ``node_index`` set: only that node lives on this machine (node mode, e.g.
    one Azure ML process per node); ``ssh_shim`` False: keep the machine's real ssh on PATH."""
    props = layout.job_properties(spec)
    if not spec.nodes:
        raise SetupError("the launch spec lists no nodes")
    if node_index is not None and not 0 <= node_index < len(spec.nodes):
        raise SetupError(f"node index {node_index} is outside the job's {len(spec.nodes)} nodes")
    local_nodes = list(range(len(spec.nodes))) if node_index is None else [node_index]
    paths = [layout.node_paths(spec, i) for i in range(len(spec.nodes))]
    # The service's literal mount root (/mnt/batch/tasks/shared/LS_root/mounts) means this node's.
    mapped = envmod.map_service_paths(props, paths[local_nodes[0]].mount_root)
    if mapped is not props:
        spec.job = {**spec.job, "properties": mapped}
        props = mapped
    base = envmod.base_environment(spec)
    user = {**envmod.user_variables(spec), **envmod.secret_variables(spec)}
    node_vars = []
    for p in paths:
        path_vars = envmod.node_path_variables(spec, p)
        expansion_env = {**base, **user, **path_vars}
        node_vars.append({**path_vars, **envmod.input_variables(spec, expansion_env)})

    # Prefixes are expanded with node 0's values (its mount links reach the shared storage); in
    # node mode with this machine's node.
    expansion0 = {**base, **user, **node_vars[local_nodes[0]]}
    prefix = envmod.expand(str(props.get("stdOutErrPathPrefix") or ""), expansion0)
    if not prefix:
        raise SetupError("stdOutErrPathPrefix is empty")
    stdouterr = layout.join_prefix(prefix, layout.output_segment(spec), layout.STDOUTERR)
    outputs = _output_dirs(spec, props, expansion0)
    for v in node_vars:
        v["AZ_BATCHAI_STDOUTERR_DIR"] = stdouterr
        v.update(outputs)

    notes: Dict[int, List[str]] = {}
    try:
        os.makedirs(spec.shared_job_temp, exist_ok=True)
        for i in local_nodes:
            notes[i] = layout.prepare_node(paths[i], spec)
        os.makedirs(stdouterr, exist_ok=True)
        for path in outputs.values():
            os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise SetupError(f"cannot create the job's directories: {exc}") from exc

    private_dir = _private_dir()
    if ssh_shim:
        path_prepend, rsh_agent, node_defaults = _virtual_cluster(private_dir, paths, node_vars)
    else:  # real machines: their own ssh and MPI configuration (mpirun may run as root, as on Batch AI)
        path_prepend, rsh_agent, node_defaults = [], "ssh", [mpi.root_defaults() for _ in paths]
    given = {**base, **user}
    envs = [envmod.node_environment(base, spec, v, _without_conflicts(d, given), path_prepend)
            for v, d in zip(node_vars, node_defaults)]
    return JobContext(
        spec=spec,
        props=props,
        paths=paths,
        envs=envs,
        stdouterr=os.path.realpath(stdouterr),
        private_dir=private_dir,
        rsh_agent=rsh_agent,
        local_nodes=local_nodes,
        notes=notes,
    )


PRIVATE_PREFIX = "batchai-launcher-"


def _private_dir() -> str:
    """A 0700 scratch directory named after this process; ones left behind by launchers that were
    SIGKILLed (their pid is gone) are removed on the way."""
    tmp = tempfile.gettempdir()
    try:
        for name in os.listdir(tmp):
            if name.startswith(PRIVATE_PREFIX):
                pid = name[len(PRIVATE_PREFIX):].split("-", 1)[0]
                if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                    shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
    except OSError:
        pass
    return tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-")


def _virtual_cluster(private_dir: str, paths: List[layout.NodePaths], node_vars: List[Dict[str, str]]):
    """ssh shims and OpenMPI settings for virtual nodes sharing this machine (see ssh.py, mpi.py).
    Returns (PATH prefix, rsh agent for the toolkit's mpirun, per-node runtime defaults)."""
    session_dirs = []
    for i in range(len(paths)):
        # OpenMPI session directories per virtual node: co-located daemons sharing one race on
        # creating it. Kept short (unix socket paths live there) and outside every job directory.
        session_dirs.append(os.path.join(private_dir, f"n{i}"))
        os.makedirs(session_dirs[-1], mode=0o700)
    bin_dir = os.path.join(private_dir, "bin")
    defaults = mpi.runtime_defaults(os.path.join(bin_dir, "ssh"))
    ssh_context = {
        "known_hosts": os.path.join(private_dir, "known_hosts"),
        "runtime_defaults": defaults,
        "nodes": [
            {"id": p.node.id, "address": p.node.address, "cwd": p.job_temp,
             "env": {**v, mpi.SESSION_DIR_VARIABLE: session_dir}}
            for p, v, session_dir in zip(paths, node_vars, session_dirs)
        ],
    }
    bin_dir, rsh_agent = ssh.install(private_dir, ssh_context)
    return [bin_dir], rsh_agent, [{**defaults, mpi.SESSION_DIR_VARIABLE: d} for d in session_dirs]


def _without_conflicts(defaults: Dict[str, str], user: Dict[str, str]) -> Dict[str, str]:
    """OpenMPI refuses *_if_include together with *_if_exclude: the user's choice wins."""
    result = dict(defaults)
    for key in list(result):
        if key.endswith("_if_include") and key.replace("_if_include", "_if_exclude") in user:
            del result[key]
    return result


def open_logs(ctx: JobContext) -> None:
    secrets = envmod.secret_variables(ctx.spec).values()
    for i in ctx.local_nodes:
        name = layout.execution_log_name(ctx.paths[i].node, ctx.multi_node)
        ctx.logs[i] = ExecutionLog(ctx.file(name), secrets)
