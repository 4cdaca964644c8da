"""OpenMPI on a virtual cluster (MPI toolkits of ``docs/service-behaviour.md`` §c.3–§c.7, §c.9).

Every virtual node is a loopback address; OpenMPI treats addresses other than the machine's own
as remote and starts its ``orted`` there through the rsh agent, which is our ``ssh`` shim: the
daemon, and so every rank on that node, runs with that node's environment. Settings needed for
several daemons on one machine (verified with Open MPI 4.1 under gVisor and on plain Linux):

* ``rtc=^hwloc``: orted processes sharing one host otherwise crash writing the shared topology;
* ``btl=self,tcp`` over ``lo``: the shared-memory BTL mixes up segments of co-located daemons,
  and TCP's default excludes loopback;
* ``plm_rsh_no_tree_spawn`` and ``routed=direct``: daemons must not launch each other through the
  agent, and a tree-routed launch intermittently fails to route to co-located daemons;
* one session directory (``orte_tmpdir_base``) per virtual node: daemons sharing one race on
  creating it ("A call to mkdir was unable to create the desired directory");
* PMIx ``gds=hash``: the shared-memory datastore of co-located daemons collides
  ("PMIX ERROR ... dstore_base.c");
* oversubscription allowed, and running as root allowed (CI and containers run as root).

They are exported as ``OMPI_MCA_*`` defaults into every job process too (only where the user did
not set them), so a user's own ``mpirun --hostfile $AZ_BATCHAI_MPI_HOST_FILE`` in a custom job
works like the one Batch AI ran.
"""

from __future__ import annotations

import math
import os
import shlex
from typing import Dict, List, Sequence

SESSION_DIR_VARIABLE = "OMPI_MCA_orte_tmpdir_base"  # set per virtual node


def runtime_defaults(rsh_agent: str) -> Dict[str, str]:
    env = {
        "OMPI_MCA_plm_rsh_agent": rsh_agent,
        "OMPI_MCA_plm_rsh_no_tree_spawn": "1",
        "OMPI_MCA_rtc": "^hwloc",
        "OMPI_MCA_btl": "self,tcp",
        "OMPI_MCA_btl_tcp_if_include": "lo",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
        "OMPI_MCA_hwloc_base_binding_policy": "none",
        "OMPI_MCA_routed": "direct",
        "PMIX_MCA_gds": "hash",
    }
    env.update(root_defaults())
    return env


def root_defaults() -> Dict[str, str]:
    """Let OpenMPI run as root (CI, containers and Batch AI's own containers run as root)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    return {}


def slots_per_node(process_count: int, node_count: int, gpus_per_node: int = 0) -> int:
    return max(1, gpus_per_node, math.ceil(process_count / max(1, node_count)))


def rank_command(command_line: str, rank_env: str = "") -> str:
    """What each rank runs: the command line through bash in the node's job temp directory, so
    ``$VARS`` expand per rank (``$OMPI_COMM_WORLD_RANK``, the node's ``$AZ_BATCHAI_*``)."""
    return f'cd "$AZ_BATCHAI_JOB_TEMP" 2>/dev/null; {rank_env}{command_line}'


def mpirun_argv(hostfile: str, process_count: int, rank_cmd: str, rsh_agent: str,
                forward: Sequence[str] = ()) -> List[str]:
    """``mpirun`` is looked up on the job's PATH by bash (missing -> exit 127 and bash's message in
    stderr.txt, as a job would see it); its options are passed as positional parameters.
    ``forward``: names of variables mpirun passes to every rank (``-x NAME``)."""
    args = [
        "--hostfile", hostfile,
        "-np", str(process_count),
        "--oversubscribe",
        "--mca", "plm_rsh_agent", rsh_agent,
    ]
    for name in forward:
        args += ["-x", name]
    args += ["/bin/bash", "-c", rank_cmd]
    return ["/bin/bash", "-c", 'exec mpirun "$@"', "mpirun", *args]


def describe(argv: List[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv[3:])
