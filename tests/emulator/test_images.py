"""The emulator's image environments (``amlemu/images.py``): the catalogue, the Dockerfile builds and runs
submitted straight through azureml-core in them."""

from __future__ import annotations

import os
import subprocess

import pytest

from batchai_compat.testing.amlemu import images

from .conftest import RG, SUB, WS, assert_clean

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def image_rootfs():
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "build_image_rootfs.sh"),
                    os.path.join(ROOT, ".tools", "rootfs")], check=True, cwd=ROOT)


def test_catalogue_lookup_normalizes_references(image_rootfs):
    assert images.lookup("docker.io/library/ubuntu:16.04").name == "ubuntu:16.04"
    assert images.lookup("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:20240304.v1").mpi
    tf = images.lookup("tensorflow/tensorflow:1.8.0-gpu@sha256:" + "0" * 64)
    assert (tf.real_python, tf.mpi, tf.ssh) == ("2.7", False, False)
    assert images.lookup("ubuntu").name == images.lookup("library/ubuntu:latest").name == "ubuntu:latest"
    assert images.lookup("ubuntu").real_python is None
    with pytest.raises(images.ImageError, match="Failed to pull image 'ubuntu:14.04'"):
        images.lookup("ubuntu:14.04")


def test_dockerfile_copy_layers_are_built_once_per_dockerfile(image_rootfs, tmp_path):
    dockerfile = ("FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04 AS rt\n"
                  "FROM ubuntu:16.04\n"
                  "COPY --from=rt /opt/miniconda /opt/x/python\n"
                  "ENV GREETING=hello\n")
    first = images.build({"baseDockerfile": dockerfile}, str(tmp_path))
    assert first.name == "ubuntu:16.04" and not first.mpi and first.env["GREETING"] == "hello"
    copied = os.path.join(first.layers[0], "opt", "x", "python", "bin", "python3")
    assert os.path.exists(copied) and first.layers[1:] == images.layers_of(images.lookup("ubuntu:16.04"))
    stamp = os.stat(copied, follow_symlinks=False).st_ino
    again = images.build({"baseDockerfile": dockerfile}, str(tmp_path))
    assert again.layers == first.layers and os.stat(copied, follow_symlinks=False).st_ino == stamp


@pytest.mark.parametrize("dockerfile, message", [
    ("FROM ubuntu:16.04\nRUN apt-get update\n", "cannot execute Dockerfile instruction RUN"),
    ("FROM alpine:3.8\n", "Failed to pull image 'alpine:3.8'"),
    ("FROM ubuntu:16.04\nCOPY app.py /app.py\n", "COPY --from=<stage> SRC DST only"),
])
def test_dockerfiles_the_emulator_cannot_build(image_rootfs, tmp_path, dockerfile, message):
    with pytest.raises(images.ImageError, match=message):
        images.build({"baseDockerfile": dockerfile}, str(tmp_path))


def test_runs_see_only_their_image(leak_proxy, tmp_path, image_rootfs):
    """A run submitted straight through azureml-core on ubuntu:16.04: no python at all, not even the host's,
    and an image that is not in the catalogue fails the run like a failed pull."""
    from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
    from azureml.core.compute import AmlCompute, ComputeTarget

    from batchai_compat.testing import AzureMLEmulator

    src = tmp_path / "src"
    src.mkdir()
    (src / "probe.sh").write_text("command -v python python3 || echo NO-PYTHON; test -e /proc/1 && echo PROC\n")
    with AzureMLEmulator(workspaces=[(SUB, RG, WS)], root=str(tmp_path / "emu"), scale_down_after=0.5,
                         image_environments=True) as emu:
        ws = Workspace(SUB, RG, WS, auth=emu.auth())
        ct = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2",
                                                                                  max_nodes=1))
        ComputeTarget.wait_for_completion(ct, show_output=False)
        exp = Experiment(ws, "images")
        runs = {}
        for image in ("ubuntu:16.04", "ubuntu:14.04"):
            env = Environment.from_docker_image("e" + image.replace(":", "-").replace(".", "-"), image)
            env.python.user_managed_dependencies = True
            runs[image] = exp.submit(ScriptRunConfig(source_directory=str(src), command="sh probe.sh",
                                                     compute_target="cpu", environment=env))
        for run in runs.values():
            run.wait_for_completion(show_output=False, raise_on_error=False)
        ok, missing = runs["ubuntu:16.04"], runs["ubuntu:14.04"]
        assert ok.get_status() == "Completed"
        with open(os.path.join(emu.run(ok.id).run_dir, "user_logs", "std_log.txt")) as fh:
            log = fh.read()
        assert "NO-PYTHON" in log and "PROC" in log, log
        assert missing.get_status() == "Failed"
        assert "Failed to pull image 'ubuntu:14.04'" in missing.get_details()["error"]["error"]["message"]
        assert_clean(emu, leak_proxy)


def test_every_emulator_the_suite_starts_runs_in_image_environments(tmp_path):
    """conftest.py turns image environments on for the session: an emulator constructed anywhere in these
    tests (not only through the fixture) runs its processes in their image, never on the host's interpreter;
    the library's own default stays off (``AMLEMU_IMAGE_ENVIRONMENTS`` unset)."""
    from batchai_compat.testing import AzureMLEmulator

    assert AzureMLEmulator(root=str(tmp_path / "a")).image_environments is True
    assert AzureMLEmulator(root=str(tmp_path / "b"), image_environments=False).image_environments is False
    saved = os.environ.pop("AMLEMU_IMAGE_ENVIRONMENTS")
    try:
        assert AzureMLEmulator(root=str(tmp_path / "c")).image_environments is False
    finally:
        os.environ["AMLEMU_IMAGE_ENVIRONMENTS"] = saved
