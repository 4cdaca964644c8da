"""A job's environment is the client's plus the Batch AI variables, nothing of the backend's own
(``docs/service-behaviour.md`` §d.1; issue #11 item 8).

The job prints ``os.environ`` as JSON; the test compares it with this process's environment (the
client's). Allowed additions: the ``AZ_BATCHAI_*`` variables of §d.1 and the documented ``OMPI_MCA_*`` /
``PMIX_MCA_*`` / ``OMPI_ALLOW_RUN_AS_ROOT*`` MPI defaults of the virtual cluster (docs/compatibility.md,
"MPI"); allowed changes: ``PATH`` (the ssh shim's directory in front of the client's ``PATH``) and what
bash itself sets (``PWD``, ``OLDPWD``, ``SHLVL``, ``_``).
"""

from __future__ import annotations

import json
import os
import sys

import batchai_compat.models as models

from .helpers import job_parameters

ALLOWED_PREFIXES = ("AZ_BATCHAI_", "OMPI_MCA_", "PMIX_MCA_", "OMPI_ALLOW_RUN_AS_ROOT")
SET_BY_BASH = ("PWD", "OLDPWD", "SHLVL", "_")

PRINT_ENV = f"{sys.executable} -c 'import json, os; print(json.dumps(dict(os.environ)))'"


def test_job_sees_the_clients_environment_plus_batch_ai_variables_only(ctx):
    client_env = dict(os.environ)
    cluster = ctx.create_cluster()
    job = ctx.run_job("env", job_parameters(cluster.id, PRINT_ENV))
    assert job.execution_state == "succeeded", job.execution_info.errors
    job_env = json.loads(ctx.files("env", "stdouterr")["stdout.txt"])

    added = sorted(k for k in set(job_env) - set(client_env) if not k.startswith(ALLOWED_PREFIXES)
                   and k not in SET_BY_BASH)
    assert added == [], f"the job sees variables the client never had: { {k: job_env[k] for k in added} }"
    removed = sorted(set(client_env) - set(job_env))
    assert removed == []
    changed = sorted(k for k in client_env if k in job_env and job_env[k] != client_env[k]
                     and k not in SET_BY_BASH and k != "PATH" and not k.startswith(ALLOWED_PREFIXES))
    assert changed == [], {k: (client_env[k], job_env[k]) for k in changed}
    assert job_env["PATH"].endswith(client_env["PATH"])
    # the Batch AI variables are there
    for name in ("MOUNT_ROOT", "JOB_TEMP", "STDOUTERR_DIR", "OUTPUT_OUTPUTS"):
        assert "AZ_BATCHAI_" + name in job_env


def test_job_gets_no_pythonpath_the_client_never_had(ctx, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    cluster = ctx.create_cluster()
    job = ctx.run_job("env", job_parameters(cluster.id, PRINT_ENV))
    assert job.execution_state == "succeeded", job.execution_info.errors
    job_env = json.loads(ctx.files("env", "stdouterr")["stdout.txt"])
    assert "PYTHONPATH" not in job_env, job_env["PYTHONPATH"]


def test_setup_task_gets_no_pythonpath_the_client_never_had(ctx, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    task = models.SetupTask(command_line=PRINT_ENV, std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/azfiles")
    cluster = ctx.create_cluster(setup_task=task)
    (node_id,) = ctx.node_ids()
    suffix = cluster.node_setup.setup_task.std_out_err_path_suffix
    task_env = json.loads((ctx.share_dir() / suffix / f"stdout-{node_id}.txt").read_text())
    assert "PYTHONPATH" not in task_env, task_env["PYTHONPATH"]
    assert "AZ_BATCHAI_MOUNT_ROOT" in task_env
