"""The supported Python versions (3.9-3.12, the classifiers in setup.py) as far as one machine with Python
3.11 can back them: the source uses nothing newer than 3.9 (vermin's static analysis), and for every
supported version pip finds a consistent set of *wheels* for the package with all its extras and for the
test requirements (``pip install --dry-run --python-version``: the dependency pins' own Python ranges,
resolved from the registry as a user on that version would get them). The suite itself runs on 3.11 only;
README.md says which versions are tested and which are only checked.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

CLASSIFIED = sorted(re.findall(r"Programming Language :: Python :: (3\.\d+)", (REPO / "setup.py").read_text()))


def test_classifiers_are_the_supported_range():
    assert CLASSIFIED == ["3.10", "3.11", "3.12", "3.9"]
    assert 'python_requires=">=3.9"' in (REPO / "setup.py").read_text()


def test_source_needs_nothing_newer_than_the_oldest_supported_version():
    trees = [str(REPO / t) for t in ("batchai_compat", "scripts", "tests", "samples", "bench")
             if (REPO / t).is_dir()]
    vermin = str(Path(sys.executable).with_name("vermin"))
    result = subprocess.run([vermin, "--no-tips", "--violations", "-t=3.9-", *trees],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Minimum required versions: 3.9" in result.stdout or "No known violations" in result.stdout, result.stdout


# A patch release is named: cryptography excludes 3.9.0 and 3.9.1, which pip would otherwise assume.
@pytest.mark.parametrize("version", ["3.9.25", "3.10", "3.11", "3.12"])
def test_dependencies_resolve_to_wheels_on(version, tmp_path):
    # The package with every extra and the test requirements together: installable side by side.
    target = [f"{REPO}[azureml,storage,identity,track2]", "-r", str(REPO / "requirements-test.txt")]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--dry-run",
               "--retries", "5", "--timeout", "30",
               "--ignore-installed", "--python-version", version, "--only-binary=:all:", *target]
    # The registry is reached through a proxy that sometimes answers 502 for a minute: a failure to *reach*
    # it says nothing about the dependency ranges, so it is tried again after a pause (a resolution
    # failure is final at once). Three unreachable tries still fail the test.
    for attempt in range(3):
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        errors = "\n".join(line for line in result.stderr.splitlines() if "Location 'file:" not in line)
        unreachable = "ResolutionImpossible" not in errors and any(
            sign in errors for sign in ("Retrying (Retry", "Tunnel connection failed", "Max retries exceeded"))
        if result.returncode == 0 or not unreachable:
            break
        time.sleep(30 * (attempt + 1))
    assert result.returncode == 0, errors[-4000:]
