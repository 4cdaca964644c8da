"""Issue 12, findings 2, 5, 10, 11: how jobs live in Azure ML runs, against an emulator that enforces the
service's documented limits and query semantics (see the comments in ``testing/amlemu/history.py``,
``odata.py`` and ``credentials.py``).

* 2: the job spec is kept within Azure ML's run property limits (1,000 characters per value, 50 per run),
  checked before anything is submitted;
* 5: Key Vault secret names are unique and valid for long experiment and job names;
* 10: ``experiments.delete`` touches only the runs the backend submitted;
* 11: a job is found right after its create (read by run id, not through a lagging query), and a server
  that ignores ``$filter`` cannot make ``jobs.get`` return another job.
"""

from __future__ import annotations

import re

import pytest
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models
from batchai_compat.backends.azureml import translate

from .conftest import RG, SUB, WS
from .helpers import EXP, contents, create_cluster, create_job, job_params, wait_job

pytestmark = [pytest.mark.azureml, pytest.mark.spawns_processes]


@pytest.fixture
def cluster(client):
    client.experiments.create(RG, WS, EXP).result()
    return create_cluster(client, "cluster", nodes=1)


def _tensorflow_like(cluster, **extra):
    """A job shaped like the TensorFlow-GPU-Distributed recipe: its spec is about 2,000 characters."""
    script = "$AZ_BATCHAI_INPUT_SCRIPT/mnist_replica.py"
    common = ("--data_dir=$AZ_BATCHAI_INPUT_DATASET --train_steps=500 --batch_size=100 "
              "--checkpoint_dir=$AZ_BATCHAI_OUTPUT_OUTPUTS/tensorflow/mnist_replica/checkpoints "
              "--num_gpus=1 --sync_replicas=True ")
    return job_params(cluster, custom_toolkit_settings=None, tensor_flow_settings=models.TensorFlowSettings(
        python_script_file_path=script, worker_count=1, parameter_server_count=1,
        master_command_line_args=common + "--job_name=worker --task_index=$AZ_BATCHAI_TASK_INDEX "
                                          "--ps_hosts=$AZ_BATCHAI_PS_HOSTS --worker_hosts=$AZ_BATCHAI_WORKER_HOSTS",
        worker_command_line_args=common + "--job_name=worker --task_index=$AZ_BATCHAI_TASK_INDEX "
                                          "--ps_hosts=$AZ_BATCHAI_PS_HOSTS --worker_hosts=$AZ_BATCHAI_WORKER_HOSTS",
        parameter_server_command_line_args=common + "--job_name=ps --task_index=$AZ_BATCHAI_TASK_INDEX "
                                                    "--ps_hosts=$AZ_BATCHAI_PS_HOSTS "
                                                    "--worker_hosts=$AZ_BATCHAI_WORKER_HOSTS"),
        input_directories=[models.InputDirectory(id="SCRIPT", path="$AZ_BATCHAI_MOUNT_ROOT/afs/tensorflow_samples"),
                           models.InputDirectory(id="DATASET", path="$AZ_BATCHAI_MOUNT_ROOT/afs/data/mnist")],
        job_preparation=models.JobPreparation(
            command_line="mkdir -p $AZ_BATCHAI_INPUT_SCRIPT && printf 'print(1)\\n' > "
                         "$AZ_BATCHAI_INPUT_SCRIPT/mnist_replica.py"),
        environment_variables=[models.EnvironmentVariable(name=f"SETTING_{i}", value="x" * 40) for i in range(6)],
        **extra)


def test_a_job_spec_beyond_one_property_value_is_kept_whole_within_the_limits(client, emu, cluster):
    create_job(client, "tf", _tensorflow_like(cluster))
    run = emu.run(emu.submissions[-1]["run_id"])
    spec_length = sum(len(v) for k, v in run.properties.items() if k.startswith("batchai.spec."))
    assert spec_length > 2000  # more than one Azure ML property value holds
    assert all(len(v) <= 1000 for v in run.properties.values()) and len(run.properties) <= 50
    job = client.jobs.get(RG, WS, EXP, "tf")
    assert job.tensor_flow_settings.worker_command_line_args.startswith("--data_dir=")
    assert [e.name for e in job.environment_variables] == [f"SETTING_{i}" for i in range(6)]
    assert [d.id for d in job.input_directories] == ["SCRIPT", "DATASET"]


def test_a_job_spec_too_large_for_run_properties_is_refused_before_any_run_starts(client, emu, cluster):
    params = job_params(cluster, environment_variables=[
        models.EnvironmentVariable(name=f"LONG_{i}", value="v" * 900) for i in range(40)])
    with pytest.raises(CloudError) as info:
        create_job(client, "huge", params)
    assert info.value.error.error == "JobSpecificationTooLarge" and "1000 characters" in str(info.value)
    assert emu.submissions == []  # nothing started: there is no run to leak
    with pytest.raises(CloudError):
        client.jobs.get(RG, WS, EXP, "huge")


def test_long_experiment_and_job_names_keep_every_secret(client, emu, cluster):
    experiment, job = "e" * 64, "j" * 64  # Batch AI's longest names
    client.experiments.create(RG, WS, experiment).result()
    params = job_params(cluster, custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="echo $FIRST $SECOND $THIRD"),
        secrets=[models.EnvironmentVariable(name=name, value=value)
                 for name, value in (("FIRST", "one"), ("SECOND", "two"), ("THIRD", "three"))])
    create_job(client, job, params, experiment=experiment)
    done = wait_job(client, job, experiment=experiment)
    assert done.execution_state == "succeeded", done.execution_info.errors
    assert contents(client, job, experiment=experiment)["stdout.txt"] == "one two three\n"
    names = list(emu.state.find_workspace(SUB, RG, WS).secrets)
    assert len(names) == 3 and all(re.match(r"^[0-9a-z-]{1,127}$", n) for n in names)


def _workspace(emu):
    from azureml.core import Workspace

    return Workspace(SUB, RG, WS, auth=emu.auth())


def test_experiment_delete_leaves_runs_the_backend_did_not_create(client, emu, cluster):
    from azureml.core import Experiment

    create_job(client, "ours", job_params(cluster))
    wait_job(client, "ours")
    foreign = Experiment(_workspace(emu), EXP).start_logging(snapshot_directory=None)  # someone else's run
    foreign.add_properties({"owner": "data-science-team"})
    # Another tool's run that happens to carry a job-name property: a query for "runs that have the property"
    # (azureml's documented presence filter, amlemu/odata.py) returns it too; only the owner value tells.
    lookalike = Experiment(_workspace(emu), EXP).start_logging(snapshot_directory=None)
    lookalike.add_properties({translate.PROP_JOB: "ours"})
    with pytest.warns(Warning):
        client.experiments.delete(RG, WS, EXP).result()
    for other in (foreign, lookalike):
        run = emu.run(other.id)
        assert not {"CancelRequested", "Canceled"} & set(run.status_history), run.status_history  # not canceled
        assert "batchai.deleted" not in run.tags
    ours = emu.run(emu.submissions[-1]["run_id"])
    assert ours.tags.get("batchai.deleted") == "true"
    foreign.complete()
    lookalike.complete()


def test_a_job_is_found_right_after_create_although_run_queries_lag(client, emu, cluster):
    emu.run_query_lag = 3600.0  # the run index has not caught up with any create
    create_job(client, "fresh", job_params(cluster))
    job = client.jobs.get(RG, WS, EXP, "fresh")
    assert job.name == "fresh" and job.custom_toolkit_settings.command_line == "echo hi"
    done = wait_job(client, "fresh")
    assert done.execution_state == "succeeded", done.execution_info.errors


def test_a_server_ignoring_the_filter_cannot_make_another_run_pass_for_a_job(client, emu, cluster):
    from azureml.core import Experiment

    create_job(client, "real", job_params(cluster))
    Experiment(_workspace(emu), EXP).start_logging(snapshot_directory=None).complete()  # not a job at all
    emu.ignore_run_filters = True
    with pytest.raises(CloudError) as info:
        client.jobs.get(RG, WS, EXP, "nojob")
    assert info.value.error.error == "JobNotFound"
    assert [j.name for j in client.jobs.list_by_experiment(RG, WS, EXP)] == ["real"]
    assert client.jobs.get(RG, WS, EXP, "real").name == "real"


def test_a_server_ignoring_the_experiment_filter_cannot_make_another_experiment_pass(client, emu, cluster):
    client.experiments.create(RG, WS, "other").result()
    emu.ignore_experiment_filters = True
    with pytest.raises(CloudError) as info:
        client.experiments.get(RG, WS, "noexperiment")
    assert info.value.error.error == "ExperimentNotFound"
    assert client.experiments.get(RG, WS, "other").name == "other"
