from __future__ import annotations

from pathlib import Path

import pytest

SUB = "00000000-0000-0000-0000-000000000000"
OTHER_SUB = "99999999-9999-9999-9999-999999999999"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    for name in ("BATCHAI_COMPAT_BACKEND", "BATCHAI_COMPAT_CONFIG", "BATCHAI_COMPAT_STORAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(path))
    return path
