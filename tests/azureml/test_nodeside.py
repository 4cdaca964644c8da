"""The node side's own logic (``backends/azureml/nodeside.py``), with a real OpenMPI where it matters.

On Azure ML the node side is itself an MPI process (``MpiConfiguration``): the ``mpirun`` that started it
left its runtime in the environment, and a ``mpirun`` started with that environment refuses to run
("mpirun does not support recursive calls"). The job's own ``mpirun`` must work all the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batchai_compat.backends.azureml import nodeside

pytestmark = [pytest.mark.mpi, pytest.mark.spawns_processes]
REPO = Path(__file__).resolve().parents[2]
MPIRUN = shutil.which("mpirun")


def _root_env():
    env = dict(os.environ)
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def _environment_under_mpirun():
    assert MPIRUN, "OpenMPI is installed by make test (system-deps)"
    out = subprocess.run([MPIRUN, "-np", "1", "--oversubscribe", sys.executable, "-c",
                          "import json, os; print(json.dumps(dict(os.environ)))"],
                         capture_output=True, text=True, env=_root_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_clean_environment_drops_the_launching_mpirun_and_keeps_machine_settings():
    env = _environment_under_mpirun()
    assert env.get("OMPI_MCA_orte_hnp_uri") and env.get("OMPI_COMM_WORLD_RANK") == "0"  # what mpirun adds
    env.update(OMPI_MCA_btl_tcp_if_include="eth0", PMIX_MCA_gds="hash", TF_CONFIG="{}", AZ_BATCH_HOST_LIST="a,b",
               MY_VARIABLE="kept")
    nodeside.clean_environment(env)
    left = sorted(k for k in env if k.startswith(("OMPI_", "PMIX_", "PMI_")))
    # Only configuration is left (the image's or the emulator's), nothing of the launching mpirun.
    assert "OMPI_MCA_btl_tcp_if_include" in left and "PMIX_MCA_gds" in left
    launch = [k for k in left if k.startswith(nodeside._LAUNCH_MCA) or k.startswith("OMPI_COMM_WORLD")]
    assert launch == [], launch
    assert "TF_CONFIG" not in env and "AZ_BATCH_HOST_LIST" not in env and env["MY_VARIABLE"] == "kept"


def test_a_job_mpirun_works_inside_the_run_process_once_cleaned():
    # The run's process is an MPI rank; in it, clean the environment and start the job's own mpirun.
    script = (f"import os, sys; sys.path.insert(0, {str(REPO)!r})\n"
              "from batchai_compat.backends.azureml.nodeside import clean_environment\n"
              "from batchai_compat.launcher.mpi import root_defaults\n"
              "if sys.argv[1] == 'clean': clean_environment(os.environ)\n"
              "os.environ.update(root_defaults())  # as the launcher does in node mode\n"
              "os.execvp('mpirun', ['mpirun', '-np', '2', '--oversubscribe', 'echo', 'nested'])\n")
    for mode, expected in (("clean", 0), ("raw", None)):
        out = subprocess.run([MPIRUN, "-np", "1", "--oversubscribe", sys.executable, "-c", script, mode],
                             capture_output=True, text=True, env=_root_env(), timeout=60)
        if expected == 0:
            assert out.returncode == 0 and out.stdout.split() == ["nested", "nested"], (out.stdout, out.stderr)
        else:  # the control: without cleaning, OpenMPI refuses
            assert "nested" not in out.stdout and "recursive" in out.stdout + out.stderr, (out.stdout, out.stderr)


@pytest.mark.parametrize("env, count, expected", [
    ({"AZ_BATCH_HOST_LIST": "10.0.0.4,10.0.0.5", "OMPI_COMM_WORLD_RANK": "1"}, 2, 1),
    ({"AZ_BATCH_HOST_LIST": "10.0.0.4,10.0.0.5", "PMI_RANK": "0"}, 2, 0),
    ({"AZ_BATCH_HOST_LIST": "10.0.0.4", "OMPI_COMM_WORLD_RANK": "1"}, 2, None),  # addresses missing
    ({"OMPI_COMM_WORLD_RANK": "1"}, 2, None),
    ({"AZ_BATCH_HOST_LIST": "10.0.0.4", "OMPI_COMM_WORLD_RANK": "0"}, 1, None),  # one node: no node mode
])
def test_spread_index(env, count, expected):
    assert nodeside.spread_index(count, env) == expected


def test_group_port_is_stable_per_job_and_in_range():
    ports = {nodeside.group_port(f"job-{i}") for i in range(200)}
    assert all(20000 <= p < 40000 for p in ports) and len(ports) > 150
    assert nodeside.group_port("job-1") == nodeside.group_port("job-1")
