"""Custom-toolkit jobs: layout, environment, job preparation, exit codes (behaviours 11, 14, 23,
24, 26, 32 of ``docs/service-behaviour.md`` §g)."""

from __future__ import annotations

import re

from .helpers import make_job, run


def test_custom_job_writes_stdouterr_and_outputs(tmp_path):  # behaviour 11 (docs/service-behaviour.md)
    job = make_job(
        tmp_path,
        customToolkitSettings={"commandLine": "echo hello | tee $AZ_BATCHAI_OUTPUT_OUTPUTS/hi.txt"},
        outputDirectories=[{"id": "OUTPUTS", "pathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles/", "pathSuffix": "files"}],
    )
    out = run(job)
    assert (out.returncode, out.result.exit_code, out.result.error_code) == (0, 0, None)
    assert out.result.start_time and out.result.end_time
    assert set(out.files) == {"stdout.txt", "stderr.txt", "execution.log"}  # nothing else in stdouterr
    assert out.without_logs() == {"stdout.txt": "hello\n", "stderr.txt": ""}
    outputs = job.storage / job.segment / "outputs" / "files"
    assert [p.name for p in outputs.iterdir()] == ["hi.txt"]
    assert (outputs / "hi.txt").read_text() == "hello\n"
    log = out.files["execution.log"]
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", log)
    assert "exited with code 0" in log


def test_failing_command_reports_job_failed_with_exit_code(tmp_path):  # behaviour 23 (docs/service-behaviour.md)
    out = run(make_job(tmp_path, customToolkitSettings={"commandLine": "false"}))
    assert out.returncode == 1
    assert (out.result.exit_code, out.result.error_code) == (1, "JobFailed")
    assert out.result.error_message == "Job failed with non-zero exit code"
    assert out.without_logs() == {"stdout.txt": "", "stderr.txt": ""}  # empty streams, zero-length files


def test_exit_code_is_passed_through(tmp_path):
    out = run(make_job(tmp_path, customToolkitSettings={"commandLine": "echo oops >&2; exit 42"}))
    assert (out.result.exit_code, out.result.error_code) == (42, "JobFailed")
    assert out.files["stderr.txt"] == "oops\n"


def test_job_preparation_runs_first_with_the_same_input_path(tmp_path):  # behaviour 24 (docs/service-behaviour.md)
    job = make_job(
        tmp_path,
        customToolkitSettings={"commandLine": "cat $AZ_BATCHAI_INPUT_INPUT/hi.txt"},
        jobPreparation={
            "commandLine": "mkdir -p $AZ_BATCHAI_INPUT_INPUT && echo hello | tee $AZ_BATCHAI_INPUT_INPUT/hi.txt"},
        inputDirectories=[{"id": "INPUT", "path": "$AZ_BATCHAI_MOUNT_ROOT/azfiles/input"}],
    )
    out = run(job)
    assert out.result.error_code is None
    assert out.without_logs() == {
        "stdout.txt": "hello\n", "stderr.txt": "", "stdout-job_prep.txt": "hello\n", "stderr-job_prep.txt": "",
    }
    assert (job.storage / "input" / "hi.txt").read_text() == "hello\n"  # reached shared storage


def test_failed_job_preparation_never_starts_the_job(tmp_path):  # behaviour 26 (docs/service-behaviour.md)
    marker = tmp_path / "job-ran"
    job = make_job(tmp_path, customToolkitSettings={"commandLine": f"touch {marker}"},
                   jobPreparation={"commandLine": "false"})
    out = run(job)
    assert out.returncode == 1
    assert (out.result.exit_code, out.result.error_code) == (1, "JobPreparationFailed")
    assert out.result.error_message == "Job preparation task failed with non-zero exit code"
    assert not marker.exists()
    assert set(out.without_logs()) == {"stdout-job_prep.txt", "stderr-job_prep.txt"}


def test_job_preparation_exit_code_is_the_jobs(tmp_path):
    out = run(make_job(tmp_path, customToolkitSettings={"commandLine": "true"},
                       jobPreparation={"commandLine": "exit 7"}))
    assert (out.result.exit_code, out.result.error_code) == (7, "JobPreparationFailed")


ENV_DUMP = "env | grep -E '^(AZ_BATCHAI_|VARIABLE=|SECRET_VARIABLE=)' | sort"


# docs/service-behaviour.md behaviours 32 and 14 (its environment part)
def test_environment_and_secrets_identical_in_prep_and_job(tmp_path):
    job = make_job(
        tmp_path,
        customToolkitSettings={"commandLine": f"echo $VARIABLE $SECRET_VARIABLE; {ENV_DUMP} >&2"},
        jobPreparation={"commandLine": f"echo $VARIABLE $SECRET_VARIABLE; {ENV_DUMP} >&2"},
        environmentVariables=[{"name": "VARIABLE", "value": "VALUE"}],
        secrets=[{"name": "SECRET_VARIABLE", "value": "SECRET"}],
        inputDirectories=[{"id": "INPUT", "path": "$AZ_BATCHAI_MOUNT_ROOT/azfiles/input"}],
        outputDirectories=[{"id": "MODEL", "pathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles"}],
    )
    out = run(job)
    assert out.result.error_code is None
    assert out.files["stdout.txt"] == out.files["stdout-job_prep.txt"] == "VALUE SECRET\n"
    assert out.files["stderr.txt"] == out.files["stderr-job_prep.txt"]
    env = dict(line.split("=", 1) for line in out.files["stderr.txt"].splitlines())
    node = tmp_path / "node0"
    expected = {
        "AZ_BATCHAI_MOUNT_ROOT": f"{node}/mounts",
        "AZ_BATCHAI_JOB_TEMP_DIR": f"{node}/jobs",
        "AZ_BATCHAI_JOB_TEMP": f"{node}/jobs/{job.spec.job_uid}",
        "AZ_BATCHAI_JOB_MOUNT_ROOT": f"{node}/jobs/{job.spec.job_uid}/mounts",
        "AZ_BATCHAI_SHARED_JOB_TEMP": job.spec.shared_job_temp,
        "AZ_BATCHAI_MPI_HOST_FILE": f"{node}/jobs/{job.spec.job_uid}/hostfile",
        "AZ_BATCHAI_NUM_GPUS": "0",
        "AZ_BATCHAI_INPUT_INPUT": f"{node}/mounts/azfiles/input",
        "AZ_BATCHAI_OUTPUT_MODEL": f"{node}/mounts/azfiles/{job.segment}/outputs",
        "AZ_BATCHAI_STDOUTERR_DIR": f"{node}/mounts/azfiles/{job.segment}/stdouterr",
        "VARIABLE": "VALUE",
        "SECRET_VARIABLE": "SECRET",
    }
    assert env == expected
    # Secrets never reach Batch AI's own log (names may appear, values not).
    for log in out.logs().values():
        assert not re.search(r"(?<![A-Za-z_])SECRET(?![A-Za-z_])", log)


def test_trailing_slash_and_suffix_of_output_prefix(tmp_path):
    job = make_job(
        tmp_path,
        customToolkitSettings={"commandLine": "echo $AZ_BATCHAI_OUTPUT_A; echo $AZ_BATCHAI_OUTPUT_B"},
        outputDirectories=[
            {"id": "A", "pathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles//", "pathSuffix": "/deep/er/"},
            {"id": "B", "pathPrefix": "$AZ_BATCHAI_JOB_TEMP_DIR/"},
        ],
    )
    out = run(job)
    node = tmp_path / "node0"
    assert out.files["stdout.txt"].splitlines() == [
        f"{node}/mounts/azfiles/{job.segment}/outputs/deep/er",
        f"{node}/jobs/{job.segment}/outputs",
    ]
    assert (job.storage / job.segment / "outputs" / "deep" / "er").is_dir()


def test_container_settings_are_ignored_without_a_runtime(tmp_path):
    out = run(make_job(tmp_path, customToolkitSettings={"commandLine": "echo hi"},
                       containerSettings={"imageSourceRegistry": {"image": "ubuntu"}}))
    assert out.result.error_code is None
    assert out.without_logs() == {"stdout.txt": "hi\n", "stderr.txt": ""}
    assert "containerSettings" in out.files["execution.log"] and "'ubuntu'" in out.files["execution.log"]
