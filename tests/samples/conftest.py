"""Running the samples as a user runs them: a subprocess on a fresh ``BATCHAI_COMPAT_HOME``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SUB = "00000000-0000-0000-0000-000000000000"


def sample_environment(home: Path) -> Dict[str, str]:
    """The caller's environment, pointed at ``home``, with batchai_compat importable from this checkout."""
    env = dict(os.environ)
    for name in ("BATCHAI_COMPAT_BACKEND", "BATCHAI_COMPAT_CONFIG", "BATCHAI_COMPAT_STORAGE"):
        env.pop(name, None)
    env["BATCHAI_COMPAT_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An unrelated current directory: the samples must not depend on it nor write into it."""
    path = tmp_path / "cwd"
    path.mkdir()
    return path


def run_sample(script: Path, home: Path, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script)], cwd=str(cwd), env=sample_environment(home),
                          capture_output=True, text=True, timeout=timeout)


def sample_files(directory: Path) -> List[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if "__pycache__" not in p.parts and p.is_file())


def assert_tidy(home: Path) -> None:
    """Nothing the sample created is left: no workspace, no share, no container."""
    from batchai_compat import BatchAIManagementClient

    client = BatchAIManagementClient(object(), SUB, home=str(home))
    assert [w.name for w in client.workspaces.list()] == []
    storage = home / "storage"
    leftovers = [str(p.relative_to(storage)) for p in storage.glob("*/*/*")] if storage.exists() else []
    assert leftovers == [], leftovers
