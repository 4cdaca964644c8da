"""MPI-based toolkits under a real OpenMPI ``mpirun`` spread over virtual nodes
(``docs/service-behaviour.md`` §c.3, §c.4, §c.9)."""

from __future__ import annotations

import pytest

from .helpers import make_job, run

pytestmark = pytest.mark.mpi


def mpi_noise_removed(stderr: str) -> str:
    """mpirun's own harmless race warning (seen under gVisor): its setpgid on the rsh agent child
    loses against the child's exec. Anything else in stderr is a real problem."""
    return "".join(line for line in stderr.splitlines(True) if "plm:rsh: Warning: setpgid(" not in line)


def test_custom_mpi_four_ranks_over_two_nodes(tmp_path):
    job = make_job(tmp_path, node_count=2, customMpiSettings={
        "processCount": 4,
        "commandLine": "echo rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE on $AZ_BATCHAI_MOUNT_ROOT",
    })
    out = run(job, timeout=60)
    assert out.result.error_code is None, out.files
    assert set(out.without_logs()) == {"stdout.txt", "stderr.txt"}  # aggregated
    lines = sorted(out.files["stdout.txt"].splitlines())
    node0, node1 = tmp_path / "node0" / "mounts", tmp_path / "node1" / "mounts"
    assert lines == [f"rank 0 of 4 on {node0}", f"rank 1 of 4 on {node0}",
                     f"rank 2 of 4 on {node1}", f"rank 3 of 4 on {node1}"]
    assert mpi_noise_removed(out.files["stderr.txt"]) == ""
    hostfile = (tmp_path / "node0" / "jobs" / job.spec.job_uid / "hostfile").read_text()
    assert hostfile == "".join(f"{n.address} slots=2\n" for n in job.spec.nodes)


def test_custom_mpi_failing_rank_fails_the_job(tmp_path):
    out = run(make_job(tmp_path, node_count=2, customMpiSettings={
        "commandLine": "exit $((OMPI_COMM_WORLD_RANK == 1 ? 5 : 0))"}), timeout=60)
    assert out.result.error_code == "JobFailed"
    assert out.result.exit_code == 5


def test_horovod_style_python_script_under_mpirun(tmp_path):
    script = tmp_path / "hvd.py"
    script.write_text(
        "import os, sys\n"
        "line = f\"hvd rank {os.environ['OMPI_COMM_WORLD_RANK']} size {os.environ['OMPI_COMM_WORLD_SIZE']} \"\n"
        "line += f\"args {sys.argv[1:]} secret {os.environ['TOKEN']}\\n\"\n"
        "os.write(1, line.encode())  # one write: mpirun may interleave partial writes of ranks\n"
    )
    job = make_job(tmp_path, node_count=2, horovodSettings={
        "pythonScriptFilePath": str(script), "commandLineArgs": "--epochs 1 --out $AZ_BATCHAI_OUTPUT_MODEL"},
        outputDirectories=[{"id": "MODEL", "pathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles"}],
        secrets=[{"name": "TOKEN", "value": "s3cr3t"}])
    out = run(job, timeout=60)
    assert out.result.error_code is None, out.files
    model = f"{tmp_path}/node0/mounts/azfiles/{job.segment}/outputs"
    assert sorted(out.files["stdout.txt"].splitlines()) == [
        f"hvd rank {r} size 2 args ['--epochs', '1', '--out', '{model}'] secret s3cr3t" for r in (0, 1)]
    assert all("s3cr3t" not in log for log in out.logs().values())


def test_pytorch_mpi_backend_runs_under_mpirun(tmp_path):
    script = tmp_path / "ptmpi.py"
    script.write_text("import os; os.write(1, f\"rank {os.environ['AZ_BATCHAI_TASK_INDEX']} "
                      "{os.environ['AZ_BATCHAI_PYTORCH_BACKEND']}\\n\".encode())\n")
    out = run(make_job(tmp_path, node_count=2, pyTorchSettings={
        "pythonScriptFilePath": str(script), "communicationBackend": "MPI"}), timeout=60)
    assert out.result.error_code is None, out.files
    assert set(out.without_logs()) == {"stdout.txt", "stderr.txt"}
    assert sorted(out.files["stdout.txt"].splitlines()) == ["rank 0 MPI", "rank 1 MPI"]


def test_user_mpirun_in_custom_job_uses_the_hostfile(tmp_path):
    """Custom jobs often ran mpirun themselves with $AZ_BATCHAI_MPI_HOST_FILE over ssh."""
    job = make_job(tmp_path, node_count=2, customToolkitSettings={
        "commandLine": "mpirun --hostfile $AZ_BATCHAI_MPI_HOST_FILE -np 2 "
                       "bash -c 'echo $OMPI_COMM_WORLD_RANK $AZ_BATCHAI_JOB_TEMP'"})
    out = run(job, timeout=60)
    assert out.result.error_code is None, out.files
    uid = job.spec.job_uid
    assert sorted(out.files["stdout.txt"].splitlines()) == [
        f"0 {tmp_path}/node0/jobs/{uid}", f"1 {tmp_path}/node1/jobs/{uid}"]


ALLREDUCE_C = r"""
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int rank, size, sum;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    printf("rank %d of %d sum %d\n", rank, size, sum);
    MPI_Finalize();
    return 0;
}
"""


def test_real_mpi_communication_across_virtual_nodes(tmp_path):
    """An MPI program that actually talks (MPI_Allreduce) between ranks on different virtual nodes;
    compiled by job preparation, as Batch AI recipes did."""
    (tmp_path / "allreduce.c").write_text(ALLREDUCE_C)
    binary = "$AZ_BATCHAI_JOB_TEMP/allreduce"  # built on every node; each rank runs its node's copy
    job = make_job(tmp_path, node_count=2, customMpiSettings={"processCount": 4, "commandLine": binary},
                   jobPreparation={"commandLine": f"mpicc {tmp_path}/allreduce.c -o {binary}"})
    out = run(job, timeout=60)
    assert out.result.error_code is None, out.files
    assert sorted(out.files["stdout.txt"].splitlines()) == [f"rank {r} of 4 sum 6" for r in range(4)]
    assert mpi_noise_removed(out.files["stderr.txt"]) == ""
