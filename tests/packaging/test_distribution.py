"""The distributions a user or packager gets: ``python -m build`` makes an sdist and a wheel, the wheel alone
(installed into a new virtualenv, no checkout on ``sys.path``) runs a job end to end, and the sdist carries
what a packager needs to run the tests (the spec, the tests, the samples).

The build runs from a copy of the files git tracks (what a clean clone has), so a file that exists only in a
developer's working tree cannot make this pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / ".tools" / "wheelhouse"
pytestmark = [pytest.mark.slow, pytest.mark.spawns_processes]


def _tracked_copy(dest: Path) -> Path:
    """The checkout's tracked files (a clean clone); the whole tree when this runs from an unpacked sdist."""
    if (REPO / ".git").exists():
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout
        for name in filter(None, listing.decode().split("\0")):
            source = REPO / name
            if source.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
    else:
        shutil.copytree(REPO, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".venv*", ".tools", "__pycache__", "*.egg-info", "build", "dist"))
    return dest


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    source = _tracked_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    # Default mode: the sdist first, then the wheel built *from the sdist*, so the sdist is proven buildable.
    # --no-isolation: the build backend (setuptools, wheel) comes from this environment, not the registry.
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("batchai_compat-*.whl")
    (sdist,) = out.glob("batchai_compat-*.tar.gz")
    return wheel, sdist


def test_wheel_has_the_package_and_nothing_else(dists):
    wheel, _ = dists
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert {"batchai_compat"} <= top
    assert not top & {"tests", "samples", "scripts", "specs", "bench"}, top
    # Everything the node side and the local engine read at run time, by path, ships in the wheel.
    for needed in ("batchai_compat/launcher/__main__.py", "batchai_compat/launcher/ssh.py",
                   "batchai_compat/backends/local/_boot.py", "batchai_compat/backends/azureml/nodeside.py",
                   "batchai_compat/testing/amlemu/nodessh.py", "batchai_compat/models/_spec_digest.py"):
        assert needed in names, needed


def test_sdist_carries_spec_tests_and_samples(dists):
    _, sdist = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("specs/batchai-2018-05-01/BatchAI.json", "specs/batchai-2018-05-01/SOURCE.md",
                   "specs/batchai-2018-05-01/LICENSE", "specs/batchai-2018-05-01/examples/PutJob.json",
                   "tests/conftest.py", "tests/parity/test_models.py", "tests/packaging/job_from_wheel.py",
                   "samples/seed_tensorflow_distributed/seed.py", "scripts/generate_models.py",
                   "requirements-test.txt", "Makefile", "LICENSE", "CHANGELOG.md", "README.md"):
        assert needed in names, needed
    assert not any("__pycache__" in n or n.startswith(".venv") for n in names)


def test_wheel_alone_runs_a_job_end_to_end(dists, tmp_path):
    wheel, _ = dists
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # The dependencies come from the wheelhouse `make install` fills from the registry (.tools/wheelhouse):
    # what a user's pip would resolve, without the test depending on the registry being up.
    assert (WHEELHOUSE / ".stamp").is_file(), f"{WHEELHOUSE} is missing: run `make install`"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "--no-index", "--find-links", str(WHEELHOUSE), str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    script = workdir / "job.py"
    shutil.copy(Path(__file__).with_name("job_from_wheel.py"), script)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BATCHAI_COMPAT_", "VIRTUAL_ENV"))}
    result = subprocess.run([str(python), "-I", str(script), str(tmp_path / "home")], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The package came from the new virtualenv, not from the checkout.
    assert Path(report["package_file"]).resolve().is_relative_to(venv.resolve())
    assert not Path(report["package_file"]).resolve().is_relative_to(REPO)
    assert report["state"] == "succeeded" and report["exit_code"] == 0
    assert report["model"] == "from-the-wheel\n"
    assert report["stdout"] == "prepared\n"
