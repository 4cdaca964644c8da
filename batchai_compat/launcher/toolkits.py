"""Process layout of each toolkit (``docs/service-behaviour.md`` §c.2–§c.10): which command runs on
which node, with which extra variables, writing which files in stdouterr.

``plan(ctx)`` returns :class:`~.processes.Task` objects; nothing is started here.
"""

from __future__ import annotations

import json
import math
import os
import shlex
from typing import Any, Dict, List, Optional, Tuple

from . import env as envmod
from . import mpi
from .context import JobContext
from .processes import Task

# Settings key in JobProperties -> toolType, in the order the service checked them.
TOOLKITS: List[Tuple[str, str]] = [
    ("customToolkitSettings", "custom"),
    ("customMpiSettings", "mpi"),
    ("horovodSettings", "horovod"),
    ("tensorFlowSettings", "tensorflow"),
    ("pyTorchSettings", "pytorch"),
    ("caffe2Settings", "caffe2"),
    ("cntkSettings", "cntk"),
    ("caffeSettings", "caffe"),
    ("chainerSettings", "chainer"),
]
TF_FIRST_PORT = 2222


def toolkit(props: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    for key, tool in TOOLKITS:
        if props.get(key) is not None:
            return tool, props[key]
    return "custom", {}  # no toolkit settings: a custom job with nothing to run


def shares_job_temp(props: Dict[str, Any]) -> bool:
    """Whether the job relies on ``$AZ_BATCHAI_SHARED_JOB_TEMP`` being one directory for all its
    nodes: Caffe2's file-store rendezvous, or a command line that names the variable."""
    tool, settings = toolkit(props)
    if tool == "caffe2":
        return True
    texts = [str(v) for v in settings.values() if isinstance(v, str)]
    texts.append(str((props.get("jobPreparation") or {}).get("commandLine") or ""))
    return any("AZ_BATCHAI_SHARED_JOB_TEMP" in text for text in texts)


def process_count(props: Dict[str, Any], node_count: int) -> int:
    _tool, settings = toolkit(props)
    return int(settings.get("processCount") or node_count)


def _python_command(ctx: JobContext, settings: Dict[str, Any], args: Optional[str] = None) -> str:
    interpreter = settings.get("pythonInterpreterPath") or ctx.spec.python or "python"
    args = settings.get("commandLineArgs") if args is None else args
    return " ".join(p for p in (interpreter, settings.get("pythonScriptFilePath") or "", args or "") if p)


def _task(ctx: JobContext, name: str, node: int, command: str, out: str, err: str,
          extra_env: Optional[Dict[str, str]] = None, role: str = "main",
          argv: Optional[List[str]] = None) -> Task:
    env = dict(ctx.envs[node])
    env.update(extra_env or {})
    return Task(
        name=name,
        node=node,
        argv=argv or ["/bin/bash", "-c", command],
        env=env,
        cwd=ctx.paths[node].job_temp,
        stdout_path=ctx.file(out),
        stderr_path=ctx.file(err),
        role=role,
    )


def job_preparation(ctx: JobContext) -> List[Task]:
    from .layout import job_prep_names

    command = (ctx.props.get("jobPreparation") or {}).get("commandLine")
    if command is None:
        return []
    tasks = []
    for p in ctx.paths:
        out, err = job_prep_names(p.node, ctx.multi_node)
        tasks.append(_task(ctx, "job preparation", p.index, command, out, err))
    return tasks


# --------------------------------------------------------------------------------------------------
def _custom(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:
    return [_task(ctx, "command line", 0, s.get("commandLine") or "", "stdout.txt", "stderr.txt")]


def _under_mpirun(ctx: JobContext, s: Dict[str, Any], command: str, rank_env: str = "",
                  extra_env: Optional[Dict[str, str]] = None) -> List[Task]:
    count = int(s.get("processCount") or ctx.node_count)
    # Ranks on other nodes get their node's environment from the rsh agent, not mpirun's: per-job
    # role variables therefore travel inside the rank command.
    exports = "".join(f"export {k}={shlex.quote(v)}; " for k, v in (extra_env or {}).items())
    # On real machines (node mode) ranks elsewhere get their node's AZ_BATCHAI_* from the rsh agent
    # (ssh.install_forwarding); the job's own variables and secrets travel with mpirun -x (never on a
    # command line).
    forward = sorted({**envmod.user_variables(ctx.spec), **envmod.secret_variables(ctx.spec)}) \
        if ctx.spread else []
    argv = mpi.mpirun_argv(ctx.paths[0].hostfile, count, mpi.rank_command(command, exports + rank_env),
                           ctx.rsh_agent, forward)
    return [_task(ctx, f"mpirun ({count} processes)", 0, "", "stdout.txt", "stderr.txt",
                  extra_env=extra_env, argv=argv)]


def _custom_mpi(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:
    return _under_mpirun(ctx, s, s.get("commandLine") or "")


def _python_mpi(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:  # Horovod, Chainer
    return _under_mpirun(ctx, s, _python_command(ctx, s))


def _cntk(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:
    language = (s.get("languageType") or ("Python" if s.get("pythonScriptFilePath") else "BrainScript"))
    if language.lower() == "python":
        command = _python_command(ctx, s)
    else:
        command = " ".join(p for p in ("cntk", f"configFile={s.get('configFilePath') or ''}",
                                       s.get("commandLineArgs") or "") if p)
    return _under_mpirun(ctx, s, command)


def _caffe(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:
    if s.get("configFilePath"):
        command = " ".join(p for p in ("caffe train", f"--solver={s['configFilePath']}",
                                       s.get("commandLineArgs") or "") if p)
    else:
        command = _python_command(ctx, s)
    return _under_mpirun(ctx, s, command)


def _caffe2(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:
    command = _python_command(ctx, s)
    return [
        _task(ctx, f"task {i}", i, command, f"stdout-{i}.txt", f"stderr-{i}.txt",
              {"AZ_BATCHAI_TASK_INDEX": str(i)})
        for i in range(ctx.node_count)
    ]


def pytorch_init_file(ctx: JobContext) -> str:
    return os.path.join(os.path.abspath(ctx.spec.shared_job_temp), "pytorch_init")


def _pytorch(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:
    count = int(s.get("processCount") or ctx.node_count)
    backend = s.get("communicationBackend")
    init_file = pytorch_init_file(ctx)
    if 0 in ctx.local_nodes and os.path.exists(init_file):  # left over by an earlier run (requeue)
        os.unlink(init_file)
    # Node mode: node 0 chose a TCP address instead (there is no file system shared by the machines).
    init = ctx.group_env.get("AZ_BATCHAI_PYTORCH_INIT_METHOD") or "file://" + init_file
    extra = {"AZ_BATCHAI_PYTORCH_INIT_METHOD": init}
    if backend:
        extra["AZ_BATCHAI_PYTORCH_BACKEND"] = str(backend)
    command = _python_command(ctx, s)
    if backend and str(backend).lower() == "mpi":
        return _under_mpirun(ctx, s, command, 'export AZ_BATCHAI_TASK_INDEX="$OMPI_COMM_WORLD_RANK"; ', extra)
    per_node = math.ceil(count / ctx.node_count)  # ranks fill nodes in order, like mpirun by slot
    return [
        _task(ctx, f"rank {r}", min(r // per_node, ctx.node_count - 1), command,
              f"stdout-{r}.txt", f"stderr-{r}.txt", {**extra, "AZ_BATCHAI_TASK_INDEX": str(r)})
        for r in range(count)
    ]


def tensorflow_placement(node_count: int, ps_count: int, worker_count: int) -> Tuple[List, List]:
    """Round-robin from node 0 per role, parameter servers first; ports count up from 2222 per node
    (``docs/service-behaviour.md`` §c.10: 3 nodes, 1 ps, 3 workers -> ps n0:2222; workers n0:2223, n1:2222,
    n2:2222)."""
    next_port = [TF_FIRST_PORT] * node_count
    roles: Tuple[List, List] = ([], [])
    for role, count in zip(roles, (ps_count, worker_count)):
        for i in range(count):
            node = i % node_count
            role.append((node, next_port[node]))
            next_port[node] += 1
    return roles


def _tensorflow(ctx: JobContext, s: Dict[str, Any]) -> List[Task]:
    addr = [p.node.address for p in ctx.paths]
    workers_given, ps_given = s.get("workerCount"), s.get("parameterServerCount")
    if ctx.node_count == 1 and workers_given is None and ps_given is None:
        extra = {"AZ_BATCHAI_TASK_INDEX": "0", "AZ_BATCHAI_PS_HOSTS": "",
                 "AZ_BATCHAI_WORKER_HOSTS": f"{addr[0]}:{TF_FIRST_PORT}"}
        command = _python_command(ctx, s, s.get("masterCommandLineArgs"))
        return [_task(ctx, "worker 0", 0, command, "stdout-wk-0.txt", "stderr-wk-0.txt", extra)]
    workers = int(ctx.node_count if workers_given is None else workers_given)
    ps_count = int(1 if ps_given is None else ps_given)
    ps, wk = tensorflow_placement(ctx.node_count, ps_count, workers)
    ps_hosts = [f"{addr[n]}:{port}" for n, port in ps]
    wk_hosts = [f"{addr[n]}:{port}" for n, port in wk]
    common = {"AZ_BATCHAI_PS_HOSTS": ",".join(ps_hosts), "AZ_BATCHAI_WORKER_HOSTS": ",".join(wk_hosts)}

    def role_env(kind: str, index: int) -> Dict[str, str]:
        config = {"cluster": {"ps": ps_hosts, "worker": wk_hosts},
                  "task": {"type": kind, "index": index}, "environment": "cloud"}
        return {**common, "AZ_BATCHAI_TASK_INDEX": str(index), "TF_CONFIG": json.dumps(config)}

    tasks = [
        _task(ctx, f"parameter server {i}", node, _python_command(ctx, s, s.get("parameterServerCommandLineArgs")),
              f"stdout-ps-{i}.txt", f"stderr-ps-{i}.txt", role_env("ps", i), role="ps")
        for i, (node, _port) in enumerate(ps)
    ]
    for i, (node, _port) in enumerate(wk):
        args = s.get("masterCommandLineArgs") if i == 0 else s.get("workerCommandLineArgs")
        tasks.append(_task(ctx, "master (worker 0)" if i == 0 else f"worker {i}", node,
                           _python_command(ctx, s, args), f"stdout-wk-{i}.txt", f"stderr-wk-{i}.txt",
                           role_env("master" if i == 0 else "worker", i)))
    return tasks


_PLANNERS = {
    "custom": _custom,
    "mpi": _custom_mpi,
    "horovod": _python_mpi,
    "chainer": _python_mpi,
    "cntk": _cntk,
    "caffe": _caffe,
    "caffe2": _caffe2,
    "pytorch": _pytorch,
    "tensorflow": _tensorflow,
}


def plan(ctx: JobContext) -> Tuple[str, List[Task]]:
    tool, settings = toolkit(ctx.props)
    return tool, _PLANNERS[tool](ctx, settings)
