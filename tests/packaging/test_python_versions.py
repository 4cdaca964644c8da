"""The supported Python versions (3.9-3.12, the classifiers in setup.py) as far as one machine with Python
3.11 can back them: the source uses nothing newer than 3.9 (vermin's static analysis), and for every
supported version pip finds a consistent set of *wheels* for the package with all its extras and for the
test requirements: ``make check-python-versions`` (``pip install --dry-run --python-version``, the
dependency pins' own Python ranges resolved from the registry). That check needs the registry at test
time, which the proxy here answers with 502 for minutes at a time, so it is a Makefile target of its own
rather than part of ``make test``. The suite itself runs on 3.11 only;
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
