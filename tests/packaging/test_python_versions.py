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
@pytest.mark.parametrize("what", ["package", "tests"])
def test_dependencies_resolve_to_wheels_on(version, what, tmp_path):
    target = ["-r", str(REPO / "requirements-test.txt")] if what == "tests" else \
        [f"{REPO}[azureml,storage,identity]"]
    result = subprocess.run(
        # Generous retries: a registry hiccup must not fail the check (pip backs off between tries).
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--dry-run",
         "--retries", "10", "--timeout", "30",
         "--ignore-installed", "--python-version", version, "--only-binary=:all:", *target],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    errors = "\n".join(line for line in result.stderr.splitlines() if "Location 'file:" not in line)
    assert result.returncode == 0, errors[-4000:]
